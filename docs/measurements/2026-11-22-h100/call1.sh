#!/usr/bin/env bash
# Device call 1: CUDA sanity, CUDA parity, reference benchmark, concurrency.
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PY=/opt/torch/.venv/bin/python3
export PYTHONUNBUFFERED=1
{ nvidia-smi; nproc; free -g; pwd; $PY -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())'; } > $OUT/machine.txt 2>&1
mkdir -p target/release && cp gpu/* target/release/ && chmod +x target/release/*
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
S=$OUT/sanity.log
{
  ldd target/release/train | grep torch
  time target/release/gen --task even_pairs --seed 153476998 --train 5000 --heldout 2000 --out /tmp/ep
  time target/release/gen --task listops --seed 153476998 --train 5000 --heldout 2000 --out /tmp/lo
  time REPRO_DEVICE=cuda target/release/train --data /tmp/ep --task even_pairs --variant topk5 --activation relu --seed 153476998 --epochs 12 --lr 0.1 --gamma 0.9995 --blocks 5 --out /tmp/run1
  cat /tmp/run1/metrics.json /tmp/run1/history.csv
} > $S 2>&1
echo "== parity" >> $S
( REPRO_PARITY_DEVICE=cuda REPRO_PYTHON=$PY timeout 110 target/release/parity --nocapture ) > $OUT/parity.log 2>&1
echo "parity rc=$?" >> $S
echo "== bench" >> $S
( DEVICE=cuda PYTHON=$PY TRAIN_BENCH=target/release/train-bench LISTOPS_LIMIT=0 timeout 170 tests/reference/bench.sh /tmp/ep /tmp/lo 2 ) > $OUT/bench.jsonl 2>>$S
echo "bench rc=$?" >> $S
echo "== concurrency" >> $S
( TRAIN=target/release/train timeout 100 scripts/bench-concurrency.sh /tmp/ep even_pairs 4 5 0.1 1 2 4 8 16 24 ) > $OUT/conc.jsonl 2>>$S
echo "conc ep rc=$?" >> $S
( TRAIN=target/release/train timeout 90 scripts/bench-concurrency.sh /tmp/lo listops 2 10 1.0 1 4 8 16 ) >> $OUT/conc.jsonl 2>>$S
echo "conc lo rc=$?" >> $S
nvidia-smi --query-gpu=memory.used,memory.total --format=csv >> $S 2>&1
cat $S
