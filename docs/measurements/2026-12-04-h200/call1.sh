# Call 1 (2026-12-04 16:40 UTC), from the repository root at commit 796be04, binaries built on
# the development VM and carried as `gpu-bin/` (scripts/gpu-carry.sh). The packs phase stopped
# at its first record: the machine has no `bc` (fixed since: the scripts use awk).
set -o pipefail; mkdir -p target/release && cp gpu-bin/* target/release/ &&
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib PYTHONUNBUFFERED=1
nvidia-smi -L
PACKS_S=235 SLICE_S=250 scripts/gpu-measure.sh /tmp/gm all 2>&1 | tee $OUT/gm.log
cp /tmp/gm/packs/summary.tsv $OUT/packs-summary.tsv
cp /tmp/gm/peak.tsv /tmp/gm/peak-matmul.txt $OUT/ 2>/dev/null
tar czf $OUT/gm.tgz --exclude=data --exclude='*.safetensors' -C /tmp gm
tar czf $OUT/slice-work.tgz --exclude='*.safetensors' --exclude='data' work/gpu-slice .repro/logs
