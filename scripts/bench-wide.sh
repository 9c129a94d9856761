#!/usr/bin/env bash
# The engine on a wide pipeline: one stage of A x B `touch` instances (default 500 x 100 =
# 50,000), the shape of issue 22's targets for a no-op `repro run` and `repro status` (wall
# time and peak memory of the whole process). docs/benchmarks.md, "50,000 instances".
#
#   scripts/bench-wide.sh DIR [A B] [REPRO]
#
# Writes DIR/pipeline.yaml (DIR must not hold one), runs the first `repro run all -j 2` once
# (minutes), then five no-op runs and three `status` calls, each under /usr/bin/time: wall
# seconds, user and system CPU seconds, peak resident memory. REPRO defaults to this
# checkout's target/release/repro (build it first).
set -euo pipefail
dir=${1:?usage: bench-wide.sh DIR [A B] [REPRO]}
a=${2:-500}
b=${3:-100}
here=$(cd "$(dirname "$0")/.." && pwd)
repro=${4:-$here/target/release/repro}
mkdir -p "$dir"
cd "$dir"
[ ! -e pipeline.yaml ] || { echo "bench-wide: $dir already holds a pipeline.yaml" >&2; exit 2; }
{
    echo "version: 1"
    echo "params:"
    echo "  a: [$(seq -s, 0 $((a - 1)))]"
    echo "  b: [$(seq -s, 0 $((b - 1)))]"
    echo "stages:"
    echo "  t:"
    echo '    cmd: [touch, "out/${a}/${b}"]'
    echo "    matrix:"
    echo '      a: ${params.a}'
    echo '      b: ${params.b}'
    echo '    outs: ["out/${a}/${b}"]'
} >pipeline.yaml
timed() { /usr/bin/time -f "$1: %e s wall, %U s user, %S s system, %M KB peak" "${@:2}" 2>&1 >/dev/null | tail -1; }
timed "first run" "$repro" run all -j 2
for i in 1 2 3 4 5; do timed "no-op run $i" "$repro" run all; done
for i in 1 2 3; do timed "status $i" "$repro" status; done
