#!/usr/bin/env bash
# Every GPU measurement of issue 19 in one script, so that a lent GPU machine's few minutes
# suffice (docs/benchmarks.md, "Packed training (GPU)"; docs/slurm.md, the GPU-hours table).
# Build on a machine with Rust, then carry the stripped binaries (scripts/gpu-carry.sh) and run,
# on the GPU machine, from the repository root:
#
#   LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib \
#     scripts/gpu-measure.sh "$OUT" [packs|peak|slice|all]
#
# Phases (default `all`, in this order; each writes under OUT and survives the next failing):
#   packs  scripts/gpu-pack-bench.sh into OUT/packs: 16 single even_pairs runs at once under
#          CUDA MPS against packs of 16, 64 and 256 length-40 runs, and a ListOps pack
#          (OUT/packs/summary.tsv: wall seconds, whole epochs per second, peak GPU memory);
#   peak   the GPU's measured fp32 matmul rate (TF32 off) with PyTorch ($PYTHON), and the fraction
#          of it each length-40 measurement of `packs` reached, from the model's FLOPs per epoch
#          (below) and its epochs per second: OUT/peak.tsv;
#   slice  `repro run all -p $PROFILE` (default gpu-slice) with the seven task packs at once under
#          MPS (`-j 16 --set-resources train.pack.gpus=0.125`), then copies results/$PROFILE/, the
#          profile's lock entries (repro.lock), the run's log and `time` output into OUT/slice.
# Every phase runs under `timeout` ($PACKS_S, $SLICE_S seconds; defaults 240 and 480), so that
# a phase past its budget leaves what it measured and lets the next phase start.
#
# FLOPs per epoch of a length-40 run (the paper's model, SPEC §2: d = d_mlp = 64, one head, five
# blocks; L = 40 positions): one forward pass of one example costs
#   F = blocks * (8 L d^2 [q, k, v, o] + 4 L^2 d [q k^T and the weighted sum] + 4 L d d_mlp [mlp])
# multiply-adds counted as two FLOPs; embedding, LayerNorm, softmax, dropout and the readout are
# left out (a lower bound). A training step costs about 3F per example (forward and backward),
# and each epoch also evaluates the training and held-out sets once, so an epoch of N training and
# H held-out examples costs F * (3N + N + H).
#
# CPU trial (tiny sizes, no GPU): REPRO_DEVICE=cpu SIZES=4 EPOCHS=1 SINGLES=2 TRAIN=100 \
#   HELDOUT=50 LISTOPS_PACK=2 PROFILE=gpu-slice-mini scripts/gpu-measure.sh /tmp/gm all
set -uo pipefail
out=${1:?usage: gpu-measure.sh OUT [packs|peak|slice|all]}
phase=${2:-all}
bin=${BIN:-target/release}
python=${PYTHON:-/opt/torch/.venv/bin/python}
profile=${PROFILE:-gpu-slice}
packs_s=${PACKS_S:-240}
slice_s=${SLICE_S:-480}
export REPRO_DEVICE=${REPRO_DEVICE:-cuda}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "gpu-measure: $*" >&2; }
want() { [ "$phase" = all ] || [ "$phase" = "$1" ]; }

mps_start() {
    if [ "$REPRO_DEVICE" = cuda ] && command -v nvidia-cuda-mps-control >/dev/null; then
        # Its "already running" goes to stdout, which is this function's answer.
        nvidia-cuda-mps-control -d >/dev/null 2>&1 || true
        echo 1
    else
        echo 0
    fi
}
mps_stop() { [ "$1" = 1 ] && { echo quit | nvidia-cuda-mps-control 2>/dev/null || true; }; }

if want packs; then
    say "packs: scripts/gpu-pack-bench.sh (at most ${packs_s}s)"
    BIN=$bin timeout "$packs_s" "$here/gpu-pack-bench.sh" "$out/packs" >"$out/packs.log" 2>&1
    echo "packs exit $?" >>"$out/packs.log"
    tail -12 "$out/packs.log" >&2
fi

if want peak; then
    say "peak: fp32 matmul rate"
    # FLOPs per epoch of a length-40 member at the bench's sizes (see the header).
    flops=$(awk -v n="${TRAIN:-5000}" -v h="${HELDOUT:-2000}" 'BEGIN {
        L = 40; d = 64; m = 64; b = 5
        f = b * (8 * L * d * d + 4 * L * L * d + 4 * L * d * m)
        printf "%.0f", f * (4 * n + h) }')
    if [ "$REPRO_DEVICE" = cuda ]; then
        dev=cuda
    else
        dev=cpu
    fi
    "$python" - "$dev" >"$out/peak-matmul.txt" 2>&1 <<'EOF'
import sys, time, torch
dev = sys.argv[1]
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
n = 8192 if dev == "cuda" else 1024
a = torch.randn(n, n, device=dev)
b = torch.randn(n, n, device=dev)
sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
for _ in range(3):
    a @ b
sync()
reps = 20
t = time.perf_counter()
for _ in range(reps):
    a @ b
sync()
dt = time.perf_counter() - t
name = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"
print(f"device\t{name}")
print(f"fp32_matmul_tflops\t{2 * n ** 3 * reps / dt / 1e12:.2f}")
EOF
    peak=$(awk -F'\t' '$1 == "fp32_matmul_tflops" { print $2 }' "$out/peak-matmul.txt")
    {
        printf 'what\tmembers\tepochs_per_s\tflops_per_epoch\ttflops\tfraction_of_measured_fp32\n'
        if [ -n "$peak" ] && [ -f "$out/packs/summary.tsv" ]; then
            awk -F'\t' -v f="$flops" -v p="$peak" 'NR > 1 && $1 ~ /^even_pairs/ {
                t = $5 * f / 1e12
                printf "%s\t%s\t%s\t%.0f\t%.3f\t%.4f\n", $1, $2, $5, f, t, t / p }' \
                "$out/packs/summary.tsv"
        fi
    } >"$out/peak.tsv"
    cat "$out/peak-matmul.txt" "$out/peak.tsv" >&2
fi

if want slice; then
    say "slice: repro run all -p $profile (at most ${slice_s}s)"
    mkdir -p "$out/slice"
    mps=$(mps_start)
    start=$(date +%s.%N)
    timeout "$slice_s" "$bin/repro" run all -p "$profile" --no-build -j 16 \
        --set-resources train.pack.gpus=0.125 >"$out/slice/run.log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    mps_stop "$mps"
    echo "exit $rc, wall $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s, mps=$mps" >"$out/slice/time.txt"
    cp -r "results/$profile" "$out/slice/results" 2>/dev/null || true
    cp repro.lock "$out/slice/repro.lock" 2>/dev/null || true
    "$bin/repro" status -p "$profile" >"$out/slice/status.txt" 2>&1 || true
    cat "$out/slice/time.txt" >&2
    tail -5 "$out/slice/run.log" >&2
fi
nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || echo "no nvidia-smi" >"$out/nvidia-smi.txt"
