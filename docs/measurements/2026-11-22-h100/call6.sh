#!/usr/bin/env bash
# Device call 6: the `gpu` profile through the engine, MPS on, 16 training runs per GPU.
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
mkdir -p target/release && cp gpu/* target/release/ && chmod +x target/release/*
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps CUDA_MPS_LOG_DIRECTORY=/tmp/mpslog
mkdir -p /tmp/mps /tmp/mpslog && nvidia-cuda-mps-control -d
S=$OUT/gpu-profile.log
( time timeout 300 target/release/repro run all -p gpu --no-build -j 16 --set-resources train.gpus=0.0625 ) > $S 2>&1; echo "run rc=$?" >> $S
target/release/repro status -p gpu --check >> $S 2>&1; echo "status rc=$?" >> $S
cp results/table.md $OUT/table.md 2>/dev/null; cp results/claims.md $OUT/claims.md 2>/dev/null; cp results/table.csv $OUT/table.csv 2>/dev/null
cp repro.lock $OUT/repro.lock
grep -h '"device"' work/gpu/runs/*/*/*/*/metrics.json | sort | uniq -c >> $S
echo quit | nvidia-cuda-mps-control
tail -4 $S
