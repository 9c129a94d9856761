# Call 2 (2026-12-04 16:46 UTC), on the same machine right after call 1 (the MPS daemon that
# call 1 started was still up; the singles measurement uses it and stops it after), commit
# 796be04 with a `bc` stand-in on PATH.
mkdir -p target/release /tmp/shim && cp gpu-bin/* target/release/ &&
printf '#!/opt/torch/.venv/bin/python\nimport sys\ne=sys.stdin.read().replace("scale=3;","").strip()\nprint(round(eval(e),3))\n' >/tmp/shim/bc &&
chmod +x /tmp/shim/bc &&
export PATH=/tmp/shim:$PATH LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PACKS_S=280 scripts/gpu-measure.sh /tmp/gm packs 2>&1 | tee $OUT/gm2.log
PACKS_S=1 scripts/gpu-measure.sh /tmp/gm peak >$OUT/peak.log 2>&1
cp /tmp/gm/packs/summary.tsv $OUT/packs-summary.tsv
cp /tmp/gm/peak.tsv /tmp/gm/peak-matmul.txt $OUT/
tar czf $OUT/gm2.tgz --exclude=data --exclude='*.safetensors' -C /tmp gm
