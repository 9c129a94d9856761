#!/usr/bin/env bash
# CI's check that the `gpu-slice` profile (pipeline.yaml; docs/benchmarks.md) stays runnable
# without a GPU:
#   1. `gpu-slice` itself expands as planned: 70 training runs (7 tasks x full, topk5 x 5 seeds),
#      checked with a dry run;
#   2. its miniature `gpu-slice-mini` (same tasks, variants, packs and stopping rule; one seed,
#      one epoch, tiny data) runs end to end on the CPU: one pack per task, a table row of two
#      runs per task, the cache clean (`status --check`) and intact (`verify`).
# Run from the repository root after `make build`; arguments go to both `repro run` calls (for
# example `--no-build` where the binaries were built elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
repro=target/release/repro
fail() { echo "ci-gpu-slice: $*" >&2; exit 1; }

plan=$("$repro" run all -p gpu-slice -n --instances "$@" 2>&1)
runs=$(grep -c '^would run  *train@' <<<"$plan" || true)
[ "$runs" = 70 ] || fail "gpu-slice plans $runs training runs, expected 70"
echo "ci-gpu-slice: gpu-slice plans 70 training runs"

log=$("$repro" run all -p gpu-slice-mini "$@" 2>&1) || { echo "$log"; fail "gpu-slice-mini failed"; }
echo "$log" | tail -3
packs=$(grep -c 'instances of `train@task=[a-z_]*` run as one pack' <<<"$log" || true)
[ "$packs" = 7 ] || { echo "$log"; fail "gpu-slice-mini trained in $packs packs, expected 7 (one per task)"; }
for task in parity even_pairs missing_duplicate cycle_navigation stack_manipulation \
    modular_arithmetic_brackets solve_equation; do
    grep -q "^- \`$task\`: .* 2 runs," results/gpu-slice-mini/table.md ||
        fail "results/gpu-slice-mini/table.md has no two runs of $task"
done
"$repro" status --check -p gpu-slice-mini
"$repro" verify -p gpu-slice-mini
echo "ci-gpu-slice: gpu-slice-mini ran in 7 packs, 14 runs, and verified"
