#!/usr/bin/env bash
# Packed training against separate processes on the CPU (docs/benchmarks.md, "Packed training
# (CPU)"): five even_pairs runs (full, relu, paper settings, one seed each, 5,000 training and
# 1,000 held-out examples from `gen`), EPOCHS epochs each, trained
#   (a) as five `train` processes one after another, and
#   (b) as one `train --pack` process,
# both with REPRO_THREADS=THREADS on the CPU. Prints one line per measurement: wall seconds of
# the whole process(es) and whole epochs per second (5 * EPOCHS / wall).
#
# usage: stages/train/scripts/bench-pack.sh WORKDIR [EPOCHS=2] [THREADS=1] [ROUNDS=1]
# Needs `cargo build --release -p gen -p train` first.
set -euo pipefail
work=${1:?usage: bench-pack.sh WORKDIR [EPOCHS] [THREADS] [ROUNDS]}
epochs=${2:-2}
threads=${3:-1}
rounds=${4:-1}
bin=${REPRO_BIN:-target/release}
seeds=(153476998 235510766 205084180 129959864 149896109)
mkdir -p "$work"

cmd() { # seed out
    printf '%s\n' "$bin/train" --data "$work/data/$1" --task even_pairs --variant full \
        --activation relu --seed "$1" --epochs "$epochs" --lr 0.1 --gamma 0.9995 --blocks 5 \
        --out "$2"
}

for s in "${seeds[@]}"; do
    [ -f "$work/data/$s/meta.json" ] ||
        "$bin/gen" --task even_pairs --seed "$s" --train 5000 --heldout 1000 --out "$work/data/$s" >/dev/null
done

now() { date +%s.%N; }
for round in $(seq "$rounds"); do
    rm -rf "$work/single" "$work/pack"
    start=$(now)
    for s in "${seeds[@]}"; do
        mapfile -t argv < <(cmd "$s" "$work/single/$s")
        REPRO_DEVICE=cpu REPRO_THREADS=$threads "${argv[@]}" 2>"$work/single-$s.log"
    done
    end=$(now)
    echo "round $round threads $threads separate: $(echo "$end - $start" | bc) s," \
        "$(echo "scale=4; 5 * $epochs / ($end - $start)" | bc) epochs/s"

    {
        echo '{"members": ['
        sep=""
        for s in "${seeds[@]}"; do
            mapfile -t argv < <(cmd "$s" "$work/pack/$s")
            printf '%s{"instance": "train@seed=%s", "key": null, "cmd": [' "$sep" "$s"
            printf '"%s",' "${argv[@]:0:${#argv[@]}-1}"
            printf '"%s"]}\n' "${argv[-1]}"
            sep=","
        done
        echo ']}'
    } >"$work/manifest.json"
    start=$(now)
    REPRO_DEVICE=cpu REPRO_THREADS=$threads "$bin/train" --pack "$work/manifest.json" 2>"$work/pack.log"
    end=$(now)
    echo "round $round threads $threads pack: $(echo "$end - $start" | bc) s," \
        "$(echo "scale=4; 5 * $epochs / ($end - $start)" | bc) epochs/s"
done
