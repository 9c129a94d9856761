#!/usr/bin/env bash
# CI's remote round trip: push a produced profile from this workspace to a real nginx WebDAV
# remote (or, with --s3, a real S3-compatible one), clone the repository fresh, pull into the
# clone and check it there.
#
#   scripts/ci-remote.sh [--s3] [-p PROFILE] [WORKSPACE]
#
# --s3: the remote is `s3://repro/cache/` on s3s-fs (scripts/remote-s3.sh, built into .tools/
#   on first use), with a fresh random secret in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and
#   its endpoint in AWS_ENDPOINT_URL for every repro command of the script.
#
# WORKSPACE (default: the repository holding this script) is a git work tree whose pipeline
# has been run for PROFILE (for the paper: `repro run -p smoke`). The script starts nginx
# (scripts/remote-nginx.sh) under a temporary directory, runs `repro push` there, clones
# WORKSPACE with `git clone --no-hardlinks` into the temporary directory, copies the workspace's
# `repro.lock` over the clone's (a run may have rewritten it since the last commit), then in the
# clone runs `repro pull`, `repro status --check`, `repro verify` and `repro audit --sample 3`
# (every stage marked `audit: always` re-run, three drawn instances of `audit: sample` stages
# re-executed, under a random seed the report prints; the report is printed), printing each
# command's output. The clone gets links to WORKSPACE's `target` and `.venv` (git-ignored, so
# not cloned), and the audit runs with `--no-build`: the stages it re-runs use the binaries
# WORKSPACE built from the same commit. `repro` is $REPRO_BIN, else target/release/repro of
# WORKSPACE. Exit 0 only if every step passed; nginx and the temporary directory are removed on
# exit.
set -euo pipefail
profile=()
kind=nginx
if [ "${1:-}" = --s3 ]; then kind=s3; shift; fi
if [ "${1:-}" = -p ]; then profile=(-p "$2"); shift 2; fi
here=$(cd "$(dirname "$0")/.." && pwd)
ws=$(cd "${1:-$here}" && pwd)
repro=${REPRO_BIN:-$ws/target/release/repro}
[ -x "$repro" ] || { echo "ci-remote: $repro is missing (build first)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'bash "$here/scripts/remote-nginx.sh" stop "$tmp/nginx" >/dev/null 2>&1 || true; bash "$here/scripts/remote-s3.sh" stop "$tmp/s3" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
step() { echo "ci-remote: \$ $*" >&2; "$@"; }

if [ "$kind" = s3 ]; then
    secret="ci-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    mkdir -p "$tmp/s3"
    started=$(bash "$here/scripts/remote-s3.sh" start "$tmp/s3" "ci:$secret")
    url=$(echo "$started" | sed -n 2p)
    AWS_ENDPOINT_URL=$(echo "$started" | sed -n 1p)
    export AWS_ENDPOINT_URL AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=ci AWS_SECRET_ACCESS_KEY=$secret
    unset AWS_SESSION_TOKEN AWS_PROFILE
else
    url=$(bash "$here/scripts/remote-nginx.sh" start "$tmp/nginx")
fi
echo "ci-remote: remote $url" >&2
(cd "$ws" && step "$repro" push "${profile[@]}" -r "$url")
step git clone -q --no-hardlinks "$ws" "$tmp/clone"
cp "$ws/repro.lock" "$tmp/clone/repro.lock"
cd "$tmp/clone"
step "$repro" pull "${profile[@]}" -r "$url"
step "$repro" status "${profile[@]}" --check
step "$repro" verify "${profile[@]}"
[ -e "$ws/target" ] && ln -s "$ws/target" target
[ -e "$ws/.venv" ] && ln -s "$ws/.venv" .venv
step "$repro" audit "${profile[@]}" -r "$url" --sample 3 --no-build
echo "ci-remote: the clone pulled, is up to date, verifies and audits clean" >&2
