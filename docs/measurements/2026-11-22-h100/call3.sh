#!/usr/bin/env bash
# Device call 3: concurrency under CUDA MPS (kernels of several processes share the GPU
# instead of time-slicing it).
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
mkdir -p target/release && cp gpu/* target/release/ && chmod +x target/release/*
S=$OUT/log.txt
target/release/gen --task even_pairs --seed 153476998 --train 5000 --heldout 2000 --out /tmp/ep > $S 2>&1
target/release/gen --task listops --seed 153476998 --train 5000 --heldout 2000 --out /tmp/lo >> $S 2>&1
which nvidia-cuda-mps-control nvidia-cuda-mps-server >> $S 2>&1
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps CUDA_MPS_LOG_DIRECTORY=/tmp/mpslog
mkdir -p /tmp/mps /tmp/mpslog
nvidia-cuda-mps-control -d >> $S 2>&1; echo "mps start rc=$?" >> $S
sleep 1
( TRAIN=target/release/train timeout 100 scripts/bench-concurrency.sh /tmp/ep even_pairs 4 5 0.1 1 4 8 16 ) > $OUT/conc-mps.jsonl 2>>$S
echo "conc ep rc=$?" >> $S
( TRAIN=target/release/train timeout 120 scripts/bench-concurrency.sh /tmp/lo listops 2 10 1.0 1 4 8 ) >> $OUT/conc-mps.jsonl 2>>$S
echo "conc lo rc=$?" >> $S
cat /tmp/mpslog/control.log >> $S 2>&1 | tail -5
echo quit | nvidia-cuda-mps-control >> $S 2>&1
cat $S; cat $OUT/conc-mps.jsonl
