#!/usr/bin/env bash
# Push and pull through a real nginx WebDAV remote (scripts/remote-nginx.sh) or a real
# S3-compatible one (s3s-fs, scripts/remote-s3.sh), for docs/benchmarks.md. Builds nothing:
# run `cargo build --release -p repro` first (and `scripts/remote-s3.sh install` for s3).
#
#   scripts/bench-remote.sh [grid|small] [CONNECTIONS] [nginx|s3]
#
# grid: the engine benchmark's 3,689-instance pipeline shape (benches/engine_grid.rs: 80 data,
#   3,600 train, 8 stats, 1 table, each a one-line `sh -c` file write); small: its first task
#   only (10 data, 450 train, 1 stats, 1 table: 462 instances). CONNECTIONS defaults to 8.
# It runs the pipeline (`repro run -j 2`) in a temporary workspace, starts nginx, and times:
# the first push, a no-op push (everything present), a pull into a fresh checkout (pipeline and
# repro.lock only, then the outputs restored), and the floor: the same files (every object and
# action record) PUT with curl, CONNECTIONS at once (`xargs -P`, one curl process per file),
# into an empty directory of the same server. Requests are counted from nginx's
# access log. With `s3` (default `nginx`), the remote is s3s-fs with SigV4 authentication,
# requests are the count repro reports, and the floor's curl signs each PUT
# (`--aws-sigv4 aws:amz:us-east-1:s3`, `x-amz-content-sha256: UNSIGNED-PAYLOAD`), one PUT
# per file. Everything is removed at the end.
set -euo pipefail
shape=${1:-small}
conns=${2:-8}
kind=${3:-nginx}
case $kind in nginx|s3) ;; *) echo "bench-remote: expected nginx or s3, got $kind" >&2; exit 2;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
repro=${REPRO_BIN:-$root/target/release/repro}
[ -x "$repro" ] || { echo "bench-remote: build first: $repro missing" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'bash "$root/scripts/remote-nginx.sh" stop "$tmp/nginx" >/dev/null 2>&1 || true; bash "$root/scripts/remote-s3.sh" stop "$tmp/s3" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

tasks="listops, parity, even_pairs, missing_duplicate, cycle_navigation, stack_manipulation, modular_arithmetic_brackets, solve_equation"
[ "$shape" = small ] && tasks="listops"
mkdir -p "$tmp/a"
cat > "$tmp/a/pipeline.yaml" <<YAML
version: 1
params:
  tasks: [$tasks]
  variants: [full, band5, band9, bloc5, bloc9, band5G1, band5G3, band9G1, band9G3, bloc5G1, bloc5G3, bloc9G1, bloc9G3, topk5, topk9]
  activations: [relu, gelu, mish]
  seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
stages:
  data:
    cmd: "echo \${task} \${seed} > data/\${task}/\${seed}.txt"
    shell: true
    matrix:
      task: \${params.tasks}
      seed: \${params.seeds}
    outs: ["data/\${task}/\${seed}.txt"]
  train:
    cmd: "echo \${variant} \${activation} > runs/\${task}/\${variant}/\${activation}/\${seed}.txt"
    shell: true
    matrix:
      task: \${params.tasks}
      variant: \${params.variants}
      activation: \${params.activations}
      seed: \${params.seeds}
    deps: ["data/\${task}/\${seed}.txt"]
    outs: ["runs/\${task}/\${variant}/\${activation}/\${seed}.txt"]
  stats:
    cmd: "cat runs/\${task}/*/*/*.txt > stats/\${task}.txt"
    shell: true
    matrix:
      task: \${params.tasks}
    deps: ["runs/\${task}"]
    outs: ["stats/\${task}.txt"]
  table:
    cmd: "cat stats/*.txt > table.txt"
    shell: true
    deps: [stats]
    outs: [table.txt]
YAML
cd "$tmp/a"
"$repro" run -j 2 >/dev/null 2>&1
echo "workspace: $(grep -c '^\[' repro.lock) instances, $(find cache/objects -type f | wc -l) objects, $(find cache/objects -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }') bytes in objects"
if [ "$kind" = s3 ]; then
    secret="bench-$RANDOM$RANDOM"
    mkdir -p "$tmp/s3"
    started=$(bash "$root/scripts/remote-s3.sh" start "$tmp/s3" "bench:$secret")
    endpoint=$(echo "$started" | sed -n 1p)
    url=$(echo "$started" | sed -n 2p)
    export AWS_ENDPOINT_URL=$endpoint AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench \
        AWS_SECRET_ACCESS_KEY=$secret
    unset AWS_SESSION_TOKEN AWS_PROFILE
    # The same bucket through the server's path-style URLs, for the floor.
    floor_base="$endpoint/repro/floor/"
    floor_auth=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "bench:$secret"
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
    log=""
else
    url=$(bash "$root/scripts/remote-nginx.sh" start "$tmp/nginx")
    floor_base="${url}floor/"
    floor_auth=()
    log="$tmp/nginx/access.log"
fi
# nginx: requests from its access log; s3 (no request log): the count repro reports.
requests() { if [ -n "$log" ]; then wc -l < "$log"; else echo 0; fi; }
timed() { # LABEL COMMAND...
    local before t0 t1 r
    before=$(requests)
    t0=$(date +%s.%N)
    "${@:2}" > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    t1=$(date +%s.%N)
    sleep 0.2
    r=$(( $(requests) - before ))
    if [ -z "$log" ]; then
        r=$(sed -n 's/.*; \([0-9]*\) requests in.*/\1/p' "$tmp/out" | tail -1)
        r=${r:-0}
    fi
    awk -v l="$1" -v a="$t0" -v b="$t1" -v r="$r" \
        'BEGIN { printf "%-28s %7.2f s  %6d requests\n", l, b - a, r }'
    { grep 'requests in' "$tmp/out" || true; tail -1 "$tmp/out"; } | uniq | sed 's/^/    /'
}
timed "push (first)" "$repro" push -j "$conns" -r "$url"
timed "push (no-op)" "$repro" push -j "$conns" -r "$url"
mkdir -p "$tmp/b" && cp pipeline.yaml repro.lock "$tmp/b/"
cd "$tmp/b"
timed "pull (fresh checkout)" "$repro" pull -j "$conns" -r "$url"
"$repro" status --check > /dev/null
cd "$tmp/a/cache"
floor() {
    local n
    n=$(find objects actions -type f | wc -l)
    find objects actions -type f | xargs -P "$conns" -I{} \
        curl -sf -o /dev/null "${floor_auth[@]}" -T {} "${floor_base}{}"
    echo "floor: $n files, one PUT each; $n requests in (see above)"
}
timed "floor: curl PUT, -P $conns" floor
