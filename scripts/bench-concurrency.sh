#!/usr/bin/env bash
# How many training runs one machine (one GPU, or the CPU) serves at once.
#
#   scripts/bench-concurrency.sh DATA TASK EPOCHS BLOCKS LR N [N ...]
#
# For each N, starts N `train` processes together on the same data (variants taken in turn
# from $VARIANTS, default "full topk5"; distinct seeds; one intra-op thread each unless
# REPRO_THREADS says otherwise), waits for all of them, and prints one JSON line: N, the wall
# time, the median over runs of each run's median seconds per epoch (training plus both
# evaluation passes, from each run's log: train prints `epoch E/N: ... (S.SSSs)` on stderr, since
# wall times are kept out of its hashed outputs; first epoch left out as warm-up; every epoch is
# printed while there are fewer than 200) and the throughput in
# epochs per second over all runs. $TRAIN names the trainer (default target/release/train);
# $REPRO_DEVICE is passed through (auto by default: the GPU when there is one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=$1 task=$2 epochs=$3 blocks=$4 lr=$5
shift 5
train=${TRAIN:-$root/target/release/train}
read -r -a variants <<<"${VARIANTS:-full topk5}"
export REPRO_THREADS=${REPRO_THREADS:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in "$@"; do
  start=$(date +%s.%N)
  pids=()
  for i in $(seq 0 $((n - 1))); do
    v=${variants[$((i % ${#variants[@]}))]}
    out="$work/$n/$i"
    "$train" --data "$data" --task "$task" --variant "$v" --activation relu \
      --seed $((1000 + i)) --epochs "$epochs" --lr "$lr" --gamma 0.9995 --blocks "$blocks" \
      --out "$out" >"$work/$n-$i.log" 2>&1 &
    pids+=($!)
  done
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  end=$(date +%s.%N)
  if [ "$failed" -gt 0 ]; then
    echo "bench-concurrency: $failed of $n runs failed; first log:" >&2
    cat "$work/$n-0.log" >&2
    exit 1
  fi
  python3 - "$work/$n" "$n" "$start" "$end" "$task" <<'EOF'
import json, os, re, statistics, sys
root, n, start, end, task = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
per_run, epochs, device = [], 0, None
for name in sorted(os.listdir(root)):
    with open(f"{root}-{name}.log") as f:
        secs = [float(s) for s in re.findall(r"^epoch \d+/\d+: .*\(([\d.]+)s\)$", f.read(), re.M)]
    with open(os.path.join(root, name, "metrics.json")) as f:
        device = json.load(f).get("device")
    epochs += len(secs)
    per_run.append(statistics.median(secs[1:] if len(secs) > 1 else secs))
epoch_s = statistics.median(per_run)
print(json.dumps({
    "task": task, "concurrent": n, "device": device, "wall_s": round(end - start, 2),
    "epoch_s_median": round(epoch_s, 4), "epoch_s_max": round(max(per_run), 4),
    "epochs_per_s": round(n / epoch_s, 3),
}))
EOF
done
