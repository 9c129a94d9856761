#!/usr/bin/env bash
# Device call 2: CUDA parity, benchmark and concurrency after the flat-SGD and eval-batch
# changes; then the engine end to end on the GPU (smoke profile, verify against the CPU lock).
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PY=/opt/torch/.venv/bin/python3
export PYTHONUNBUFFERED=1
mkdir -p target/release && cp gpu/* target/release/ && chmod +x target/release/*
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
S=$OUT/log.txt
target/release/gen --task even_pairs --seed 153476998 --train 5000 --heldout 2000 --out /tmp/ep > $S 2>&1
target/release/gen --task listops --seed 153476998 --train 5000 --heldout 2000 --out /tmp/lo >> $S 2>&1
echo "== parity" >> $S
( REPRO_PARITY_DEVICE=cuda REPRO_PYTHON=$PY timeout 60 target/release/parity --nocapture ) > $OUT/parity.log 2>&1
echo "parity rc=$?" >> $S
echo "== engine smoke on the GPU" >> $S
cp repro.lock /tmp/ref.lock
( time timeout 150 target/release/repro run all -p smoke --no-build ) >> $S 2>&1; echo "run rc=$?" >> $S
target/release/repro status -p smoke --check >> $S 2>&1; echo "status rc=$?" >> $S
target/release/repro verify -p smoke --reference /tmp/ref.lock >> $S 2>&1; echo "verify rc=$?" >> $S
grep -h '"device"' work/smoke/runs/*/*/*/*/metrics.json | sort | uniq -c >> $S
cp work/smoke/runs/even_pairs/topk5/relu/153476998/history.csv $OUT/smoke-history.csv 2>/dev/null
echo "== bench" >> $S
( DEVICE=cuda PYTHON=$PY TRAIN_BENCH=target/release/train-bench LISTOPS_LIMIT=0 timeout 130 tests/reference/bench.sh /tmp/ep /tmp/lo 1 ) > $OUT/bench.jsonl 2>>$S
echo "bench rc=$?" >> $S
echo "== concurrency" >> $S
( TRAIN=target/release/train timeout 90 scripts/bench-concurrency.sh /tmp/ep even_pairs 4 5 0.1 1 4 8 16 ) > $OUT/conc.jsonl 2>>$S
echo "conc ep rc=$?" >> $S
( TRAIN=target/release/train timeout 110 scripts/bench-concurrency.sh /tmp/lo listops 2 10 1.0 1 4 8 ) >> $OUT/conc.jsonl 2>>$S
echo "conc lo rc=$?" >> $S
cat $S
