#!/usr/bin/env bash
# Packed training on one GPU against single runs under MPS: the measurements that issue 10 asks
# for, prepared as one script so that a lent GPU machine's few minutes suffice (docs/benchmarks.md,
# "Packed training (GPU)"). Run it on the device machine with the binaries carried from a
# build machine:
#
#   LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib \
#     scripts/gpu-pack-bench.sh "$OUT"
#
# Writes under OUT: `summary.tsv` (one line per measurement: what, members, epochs, wall
# seconds, whole epochs per second, peak GPU memory in MiB), each process's stderr, and
# `nvidia-smi.txt`. Measurements, in order:
#   1. even_pairs (paper settings, 5,000 / 2,000 examples): 16 single runs at once under MPS;
#   2. even_pairs packs of each size in SIZES (members cycle through seeds, the length-40
#      variants full, topk5, band5, bloc5 and the three activations: one stack);
#   3. ListOps: one single run, then one pack of LISTOPS_PACK members (topk5, band5, bloc5,
#      length 600: one stack).
# Environment knobs (defaults in brackets), so that the script can be tried on a CPU with tiny
# sizes first: REPRO_DEVICE [cuda], BIN [target/release], SIZES ["16 64 256"], EPOCHS [3],
# SINGLES [16], TRAIN [5000], HELDOUT [2000], LISTOPS_PACK [16], LISTOPS_EPOCHS [1].
set -euo pipefail
out=${1:?usage: gpu-pack-bench.sh OUT}
bin=${BIN:-target/release}
sizes=${SIZES:-16 64 256}
epochs=${EPOCHS:-3}
singles=${SINGLES:-16}
train_n=${TRAIN:-5000}
heldout_n=${HELDOUT:-2000}
listops_pack=${LISTOPS_PACK:-16}
listops_epochs=${LISTOPS_EPOCHS:-1}
export REPRO_DEVICE=${REPRO_DEVICE:-cuda}
seeds=(153476998 235510766 205084180 129959864 149896109 140439608 145017219 162518970 245293503 152674004)
mkdir -p "$out/data" "$out/runs" "$out/logs"
printf 'what\tmembers\tepochs\twall_s\tepochs_per_s\tpeak_mib\n' >"$out/summary.tsv"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || echo "no nvidia-smi" >"$out/nvidia-smi.txt"

now() { date +%s.%N; }

# Samples the GPU's used memory every 0.2 s into FILE until stopped; `peak FILE` prints the max.
sample_memory() {
    while :; do
        nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1
        sleep 0.2
    done >"$1"
}
peak() { sort -n "$1" 2>/dev/null | tail -1 | tr -d ' ' || true; }

# record WHAT MEMBERS EPOCHS START END MEMFILE
record() {
    local wall rate
    # awk, not bc: the GPU machine has no bc.
    wall=$(awk -v a="$4" -v b="$5" 'BEGIN { printf "%.3f", b - a }')
    rate=$(awk -v n="$2" -v e="$3" -v w="$wall" 'BEGIN { printf "%.3f", n * e / w }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$wall" "$rate" "$(peak "$6")" >>"$out/summary.tsv"
    echo "$1: $2 x $3 epochs in $wall s = $rate epochs/s"
}

# timed WHAT MEMBERS EPOCHS NAME CMD...: runs CMD once (stderr to logs/NAME.log) while sampling
# the GPU's memory, and records it.
timed() {
    local what=$1 n=$2 ep=$3 name=$4 sampler start end
    shift 4
    sample_memory "$out/mem-$name.txt" &
    sampler=$!
    start=$(now)
    REPRO_THREADS=1 "$@" 2>"$out/logs/$name.log"
    end=$(now)
    kill "$sampler" 2>/dev/null || true
    record "$what" "$n" "$ep" "$start" "$end" "$out/mem-$name.txt"
}

data() { # task seed
    local dir="$out/data/$1/$2"
    [ -f "$dir/meta.json" ] ||
        "$bin/gen" --task "$1" --seed "$2" --train "$train_n" --heldout "$heldout_n" --out "$dir" >/dev/null
}

# argv of one run: task variant activation seed epochs out (one argument per line)
run_argv() {
    local blocks=5 lr=0.1 gamma=0.9995
    if [ "$1" = listops ]; then blocks=10 lr=1.0 gamma=0.99; fi
    printf '%s\n' "$bin/train" --data "$out/data/$1/$4" --task "$1" --variant "$2" \
        --activation "$3" --seed "$4" --epochs "$5" --lr "$lr" --gamma "$gamma" \
        --blocks "$blocks" --out "$6"
}

# manifest FILE task epochs n variants... : n members cycling seeds, variants, activations
manifest() {
    local file=$1 task=$2 ep=$3 n=$4
    shift 4
    local variants=("$@") activations=(relu gelu mish) sep="" i
    {
        echo '{"members": ['
        for ((i = 0; i < n; i++)); do
            local s=${seeds[i % ${#seeds[@]}]}
            local v=${variants[(i / ${#seeds[@]}) % ${#variants[@]}]}
            local a=${activations[(i / (${#seeds[@]} * ${#variants[@]})) % 3]}
            mapfile -t argv < <(run_argv "$task" "$v" "$a" "$s" "$ep" "$out/runs/$(basename "$file" .json)/$i")
            printf '%s{"instance": "train@%s", "key": null, "cmd": [' "$sep" "$i"
            printf '"%s",' "${argv[@]:0:${#argv[@]}-1}"
            printf '"%s"]}\n' "${argv[-1]}"
            sep=","
        done
        echo ']}'
    } >"$file"
}

for s in "${seeds[@]}"; do data even_pairs "$s"; done
for s in "${seeds[@]:0:4}"; do data listops "$s"; done

# 1. Single runs at once under MPS (started here when the control daemon exists).
if command -v nvidia-cuda-mps-control >/dev/null && [ "$REPRO_DEVICE" = cuda ]; then
    nvidia-cuda-mps-control -d 2>/dev/null || true
    mps=1
else
    mps=0
fi
sample_memory "$out/mem-singles.txt" &
sampler=$!
start=$(now)
pids=()
for ((i = 0; i < singles; i++)); do
    mapfile -t argv < <(run_argv even_pairs full relu "${seeds[i % ${#seeds[@]}]}" "$epochs" "$out/runs/single/$i")
    REPRO_THREADS=1 "${argv[@]}" 2>"$out/logs/single-$i.log" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
end=$(now)
kill "$sampler" 2>/dev/null || true
record "even_pairs singles (mps=$mps)" "$singles" "$epochs" "$start" "$end" "$out/mem-singles.txt"
if [ "$mps" = 1 ]; then echo quit | nvidia-cuda-mps-control 2>/dev/null || true; fi

# 2. Packs of each size.
for n in $sizes; do
    manifest "$out/pack-$n.json" even_pairs "$epochs" "$n" full topk5 band5 bloc5
    timed "even_pairs pack" "$n" "$epochs" "pack-$n" "$bin/train" --pack "$out/pack-$n.json"
done

# 3. ListOps: one single run, then one pack.
mapfile -t argv < <(run_argv listops topk5 relu "${seeds[0]}" "$listops_epochs" "$out/runs/listops-single")
timed "listops single" 1 "$listops_epochs" listops-single "${argv[@]}"

seeds=("${seeds[@]:0:4}")
manifest "$out/listops-pack.json" listops "$listops_epochs" "$listops_pack" topk5 band5 bloc5
timed "listops pack" "$listops_pack" "$listops_epochs" listops-pack "$bin/train" --pack "$out/listops-pack.json"
cat "$out/summary.tsv"
