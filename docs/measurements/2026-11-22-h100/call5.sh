#!/usr/bin/env bash
# Device call 5: the default profile through the engine with MPS and 16 training runs per GPU
# (`--set-resources train.gpus=0.0625`).
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
mkdir -p target/release && cp gpu/* target/release/ && chmod +x target/release/*
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps CUDA_MPS_LOG_DIRECTORY=/tmp/mpslog
mkdir -p /tmp/mps /tmp/mpslog && nvidia-cuda-mps-control -d
S=$OUT/quick16.log
( time timeout 300 target/release/repro run all --no-build -j 16 --set-resources train.gpus=0.0625 ) > $S 2>&1; echo "run rc=$?" >> $S
target/release/repro status --check >> $S 2>&1; echo "status rc=$?" >> $S
cp results/claims.md $OUT/claims.md 2>/dev/null
grep -h '"device"' work/quick/runs/*/*/*/*/metrics.json | sort | uniq -c >> $S
echo quit | nvidia-cuda-mps-control
tail -6 $S
