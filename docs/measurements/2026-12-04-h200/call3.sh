#!/usr/bin/env bash
# Call 3 (2026-12-04): ListOps on the same H200, like for like: 8 single runs at once under MPS
# against one pack of 16, two epochs each (the second epoch is the steady rate), paper data and
# settings (10 blocks, lr 1.0, gamma 0.99, topk5 and band5 alternating, the first four seeds).
# Run from the repository root with the binaries in gpu-bin/ (scripts/gpu-carry.sh); writes
# $OUT/summary.txt, $OUT/singles.log and $OUT/pack.log.
set -uo pipefail
mkdir -p target/release && cp gpu-bin/* target/release/
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib REPRO_DEVICE=cuda
b=target/release d=/tmp/lo
seeds=(153476998 235510766 205084180 129959864)
variants=(topk5 band5)
mkdir -p "$d/logs"
now() { date +%s.%N; }
say() { echo "$*" | tee -a "$OUT/summary.txt"; }
argv() { # seed variant out
    printf '%s\n' "$b/train" --data "$d/data/$1" --task listops --variant "$2" --activation relu \
        --seed "$1" --epochs 2 --lr 1.0 --gamma 0.99 --blocks 10 --out "$3"
}
for s in "${seeds[@]}"; do
    "$b/gen" --task listops --seed "$s" --train 5000 --heldout 2000 --out "$d/data/$s" >/dev/null
done
nvidia-smi -L | tee -a "$OUT/summary.txt"

nvidia-cuda-mps-control -d >/dev/null 2>&1
start=$(now)
for i in 0 1 2 3 4 5 6 7; do
    mapfile -t a < <(argv "${seeds[i % 4]}" "${variants[i % 2]}" "$d/runs/single-$i")
    REPRO_THREADS=1 timeout 150 "${a[@]}" 2>"$d/logs/single-$i.log" &
done
wait
end=$(now)
echo quit | nvidia-cuda-mps-control
say "singles: 8 x 2 epochs under MPS, wall $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
for i in 0 1 2 3 4 5 6 7; do echo "== single-$i"; cat "$d/logs/single-$i.log"; done >"$OUT/singles.log"

{
    echo '{"members": ['
    for i in $(seq 0 15); do
        mapfile -t a < <(argv "${seeds[i % 4]}" "${variants[(i / 4) % 2]}" "$d/runs/pack/$i")
        [ "$i" = 0 ] || echo ','
        printf '{"instance": "train@%s", "key": null, "cmd": [' "$i"
        printf '"%s",' "${a[@]:0:${#a[@]}-1}"
        printf '"%s"]}\n' "${a[-1]}"
    done
    echo ']}'
} >"$d/pack.json"
start=$(now)
REPRO_THREADS=1 timeout 170 "$b/train" --pack "$d/pack.json" 2>"$OUT/pack.log"
rc=$?
end=$(now)
say "pack: 16 x 2 epochs in one process, exit $rc, wall $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
