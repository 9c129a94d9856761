#!/usr/bin/env bash
# The Slurm executor against a real single-node Slurm, started here and stopped on exit
# (scripts/slurm-local.sh; docs/slurm.md):
#   1. the `slurm` test target (scancel and retry, time limit, SIGINT, SIGKILL and re-attach,
#      --detach, injected faults of squeue and sbatch, bad input, packs as batch jobs);
#   2. the `smoke` profile through Slurm in a copy of this checkout (same sources, so the same
#      keys), packed (each task's training runs are one batch job running `train --pack`):
#      checked against the committed repro.lock like the local run in .ci/run, then a second
#      run has nothing to do.
# Needs root (the script installs slurm-wlm and munge if absent) and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
CARGO=${CARGO:-cargo}

slurm_dir=$(mktemp -d)
eval "$(scripts/slurm-local.sh start "$slurm_dir")"
cleanup() {
    eval "$(scripts/slurm-local.sh stop "$slurm_dir")" || true
    rm -rf "$slurm_dir" "${copy:-}"
}
trap cleanup EXIT

# 1. The executor's tests, one at a time (they share the node's 2 CPUs).
$CARGO test --release -p repro --test slurm -- --ignored --test-threads=1

# 2. The smoke profile through Slurm.
copy=$(mktemp -d)
ws=$copy/ws
mkdir -p "$ws"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$ws"
ln -s "$repo/target" "$ws/target"
cp repro.lock "$copy/reference.lock"
(
    cd "$ws"
    export REPRO_SLURM_POLL=1s
    # The local Slurm has no GPUs: training asks for none and runs on the CPUs it gets.
    export REPRO_SLURM_GPU_SHARING=none
    run=$(target/release/repro run all --profile smoke --executor slurm --no-build 2>&1) \
        || { echo "$run"; exit 1; }
    echo "$run"
    # Packed: the training runs went out as packs, one job each.
    grep -q "run as one pack" <<<"$run"
    target/release/repro status --check --profile smoke
    target/release/repro verify --profile smoke --reference "$copy/reference.lock"
    second=$(target/release/repro run all --profile smoke --executor slurm --no-build 2>&1)
    echo "$second"
    grep -q "nothing to do" <<<"$second"
)
echo "test-slurm: smoke pipeline reproduced through Slurm and verified"
