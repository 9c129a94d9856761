#!/usr/bin/env bash
# Times the Rust trainer (`train-bench`) against the plain PyTorch loop of `model.py bench`
# on the same data, same model, same thread budget, interleaving the two so that a busy
# machine slows both alike. Prints one JSON line per measurement to stdout.
#
#   tests/reference/bench.sh DATA_EVEN_PAIRS DATA_LISTOPS [ROUNDS] [THREADS]
#
# DEVICE=cuda times both on the first GPU (default cpu); PYTHON names the interpreter of the
# reference (default: the project's .venv); TRAIN_BENCH the Rust binary.
#
# even_pairs: 30 timed steps and one whole epoch (5000 train / 2000 held-out).
# listops: 4 timed steps, and one "epoch" over 100 train / 100 held-out examples; the
# whole-epoch time is extrapolated per example by the caller (5000 / 2000 examples).
# LISTOPS_LIMIT=N changes the 100; LISTOPS_LIMIT=0 times the whole ListOps epoch.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ep=$1
lo=$2
rounds=${3:-3}
threads=${4:-2}
bench=${TRAIN_BENCH:-$root/target/release/train-bench}
device=${DEVICE:-cpu}
lo_limit=${LISTOPS_LIMIT:-100}
lo_args=()
if [ "$lo_limit" != 0 ]; then lo_args=(--train-limit "$lo_limit" --heldout-limit "$lo_limit"); fi
py="${PYTHON:-$root/.venv/bin/python} $root/tests/reference/model.py bench --device $device"
for round in $(seq "$rounds"); do
  for v in full topk5; do
    OMP_NUM_THREADS=$threads REPRO_DEVICE=$device $bench --data "$ep" --task even_pairs --variant $v --steps 30 --epochs 1
    OMP_NUM_THREADS=$threads REPRO_DEVICE=$device $bench --data "$ep" --task even_pairs --variant $v --steps 30 --epochs 1 --workers 1
    $py --data "$ep" --task even_pairs --variant $v --steps 30 --epochs 1 --threads "$threads"
  done
done
for round in $(seq "$rounds"); do
  for v in full topk5; do
    OMP_NUM_THREADS=$threads REPRO_DEVICE=$device $bench --data "$lo" --task listops --variant $v --warmup 1 --steps 4 --epochs 1 "${lo_args[@]}"
    $py --data "$lo" --task listops --variant $v --warmup 1 --steps 4 --epochs 1 --threads "$threads" "${lo_args[@]}"
  done
done
