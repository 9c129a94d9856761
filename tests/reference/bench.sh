#!/usr/bin/env bash
# Times the Rust trainer (`train-bench`) against the plain PyTorch loop of `model.py bench`
# on the same data, same model, same thread budget, interleaving the two so that a busy
# machine slows both alike. Prints one JSON line per measurement to stdout.
#
#   tests/reference/bench.sh DATA_EVEN_PAIRS DATA_LISTOPS [ROUNDS] [THREADS]
#
# even_pairs: 30 timed steps and one whole epoch (5000 train / 2000 held-out).
# listops: 4 timed steps, and one "epoch" over 100 train / 100 held-out examples; the
# whole-epoch time is extrapolated per example by the caller (5000 / 2000 examples).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ep=$1
lo=$2
rounds=${3:-3}
threads=${4:-2}
bench=${TRAIN_BENCH:-$root/target/release/train-bench}
py="$root/.venv/bin/python $root/tests/reference/model.py bench"
for round in $(seq "$rounds"); do
  for v in full topk5; do
    OMP_NUM_THREADS=$threads REPRO_DEVICE=cpu $bench --data "$ep" --task even_pairs --variant $v --steps 30 --epochs 1
    OMP_NUM_THREADS=$threads REPRO_DEVICE=cpu $bench --data "$ep" --task even_pairs --variant $v --steps 30 --epochs 1 --workers 1
    $py --data "$ep" --task even_pairs --variant $v --steps 30 --epochs 1 --threads "$threads"
  done
done
for round in $(seq "$rounds"); do
  for v in full topk5; do
    OMP_NUM_THREADS=$threads REPRO_DEVICE=cpu $bench --data "$lo" --task listops --variant $v --warmup 1 --steps 4 --epochs 1 --train-limit 100 --heldout-limit 100
    $py --data "$lo" --task listops --variant $v --warmup 1 --steps 4 --epochs 1 --threads "$threads" --train-limit 100 --heldout-limit 100
  done
done
