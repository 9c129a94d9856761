#!/usr/bin/env bash
# Device call 4: the default profile (`quick`) end to end through the engine on one H100,
# with MPS on; default packing (train asks for 0.25 GPU: four runs at a time).
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
mkdir -p target/release && cp gpu/* target/release/ && chmod +x target/release/*
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps CUDA_MPS_LOG_DIRECTORY=/tmp/mpslog
mkdir -p /tmp/mps /tmp/mpslog && nvidia-cuda-mps-control -d
S=$OUT/quick.log
( time timeout 400 target/release/repro run all --no-build ) > $S 2>&1; echo "run rc=$?" >> $S
target/release/repro status --check >> $S 2>&1; echo "status rc=$?" >> $S
cp results/table.md $OUT/table.md 2>/dev/null; cp results/claims.md $OUT/claims.md 2>/dev/null
grep -h '"device"' work/quick/runs/*/*/*/*/metrics.json | sort | uniq -c >> $S
echo quit | nvidia-cuda-mps-control
tail -5 $S
