#!/usr/bin/env bash
# A real S3-compatible remote for `repro push` and `repro pull`: the `s3s-fs` server (crates.io,
# https://crates.io/crates/s3s-fs) on loopback, enforcing SigV4, for the remote tests, CI and
# benchmarks.
#
#   scripts/remote-s3.sh install
#   scripts/remote-s3.sh start DIR KEY:SECRET   # prints the endpoint, then the remote's URL
#   scripts/remote-s3.sh stop DIR
#
# install: builds `s3s-fs` $S3S_VERSION (0.14.1, the last that builds with rustc 1.95) with
#   `cargo install --locked --features binary` into .tools/ of this repository (git-ignored),
#   once (under a lock: concurrent callers wait for one build): a later call finds
#   .tools/bin/s3s-fs and does nothing. The build runs at `nice -n 19`
#   with CARGO_BUILD_JOBS (default 1) so it does not starve other work; it compiles about 200
#   crates (minutes). $REPRO_S3S_FS names a binary to use instead. Exit 3 when cargo is absent
#   or the build fails (no registry access), 2 on any other failure.
# start: installs if needed, then serves DIR/root on 127.0.0.1 at a free port (tried from
#   $REPRO_S3_PORT, default a random one from 20000 to 59999, up to 20 ports) with the access
#   key KEY and secret SECRET (requests signed otherwise are refused with 403), and creates the
#   bucket `repro`. Prints two lines on stdout: `http://127.0.0.1:PORT` (the endpoint: set
#   AWS_ENDPOINT_URL or `remote.s3.endpoint`) and `s3://repro/cache/` (the remote); the
#   remote's objects are then files under DIR/root/repro/cache/. Its log is DIR/s3s-fs.log.
# stop: stops the server of DIR by its pid file (SIGTERM, then SIGKILL after 10 s).
#
# Limits: a server for tests and CI: its secret is on its command line (visible to `ps` on
#   this machine); plain HTTP only; path-style addressing only (no `--domain`); s3s-fs honours
#   `If-None-Match: *` on PUT by checking for the object before writing it, which two writers
#   racing within that window can both pass (the later whole record stays).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
S3S_VERSION=${S3S_VERSION:-0.14.1}
BUCKET=repro

say() { echo "remote-s3: $*" >&2; }
die() { say "error: $*"; exit 2; }

binary() {
    if [ -n "${REPRO_S3S_FS:-}" ]; then echo "$REPRO_S3S_FS"; else echo "$here/.tools/bin/s3s-fs"; fi
}

install() {
    local bin
    bin=$(binary)
    [ -x "$bin" ] && return 0
    [ -n "${REPRO_S3S_FS:-}" ] && die "REPRO_S3S_FS=$REPRO_S3S_FS is not an executable"
    command -v cargo >/dev/null 2>&1 || { say "cargo is not installed: cannot build s3s-fs"; exit 3; }
    # One build at a time (tests start servers in parallel): wait for another's, then look again.
    mkdir -p "$here/.tools"
    exec 9>"$here/.tools/install.lock"
    flock 9
    [ -x "$bin" ] && return 0
    say "building s3s-fs $S3S_VERSION into $here/.tools (once; minutes)"
    if ! CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} nice -n 19 cargo install s3s-fs \
        --version "$S3S_VERSION" --features binary --locked --root "$here/.tools" >&2; then
        say "cargo install s3s-fs failed"
        exit 3
    fi
    [ -x "$bin" ] || { say "cargo install produced no $bin"; exit 3; }
}

listening() { # PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    local dir=${1:?usage: remote-s3.sh start DIR KEY:SECRET} cred=${2:?usage: remote-s3.sh start DIR KEY:SECRET}
    case $cred in *:*) ;; *) die "expected KEY:SECRET";; esac
    install
    mkdir -p "$dir/root/$BUCKET/cache"
    dir=$(cd "$dir" && pwd)
    local bin port try pid
    bin=$(binary)
    port=${REPRO_S3_PORT:-$((20000 + RANDOM % 40000))}
    for try in $(seq 1 20); do
        if ! listening "$port"; then
            RUST_LOG=${RUST_LOG:-warn} nohup "$bin" --host 127.0.0.1 --port "$port" \
                --access-key "${cred%%:*}" --secret-key "${cred#*:}" "$dir/root" \
                >>"$dir/s3s-fs.log" 2>&1 </dev/null &
            pid=$!
            echo "$pid" > "$dir/s3s-fs.pid"
            for _ in $(seq 1 100); do
                if listening "$port"; then
                    echo "$port" > "$dir/port"
                    echo "http://127.0.0.1:$port"
                    echo "s3://$BUCKET/cache/"
                    return 0
                fi
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill "$pid" 2>/dev/null || true
            rm -f "$dir/s3s-fs.pid"
        fi
        port=$((20000 + RANDOM % 40000))
    done
    die "s3s-fs did not start (see $dir/s3s-fs.log)"
}

stop() {
    local dir=${1:?usage: remote-s3.sh stop DIR} pid
    [ -s "$dir/s3s-fs.pid" ] || { say "no s3s-fs running for $dir"; return 0; }
    pid=$(cat "$dir/s3s-fs.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$dir/s3s-fs.pid"; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/s3s-fs.pid"
}

case ${1:-} in
    install) install ;;
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: remote-s3.sh install | start DIR KEY:SECRET | stop DIR" >&2; exit 2 ;;
esac
