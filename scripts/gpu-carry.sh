#!/usr/bin/env bash
# Prepares the binaries a GPU machine without Rust needs: stripped copies of every release binary
# in `gpu-bin/` (about 2 MB each instead of 70 MB with line tables, so that they fit what a run
# may carry), and `gpu-bin/` listed in .git/info/exclude so that it never enters a commit.
#
#   make build && scripts/gpu-carry.sh
#
# On the GPU machine, from the repository root (the pipeline names `target/release/...`):
#
#   mkdir -p target/release && cp gpu-bin/* target/release/ &&
#     LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib \
#     scripts/gpu-measure.sh "$OUT" all
set -euo pipefail
cd "$(dirname "$0")/.."
bins=(repro gen train probe landscape stats table ablation-table)
mkdir -p gpu-bin
for b in "${bins[@]}"; do
    [ -x "target/release/$b" ] || { echo "gpu-carry: target/release/$b missing: run make build" >&2; exit 2; }
    strip -o "gpu-bin/$b" "target/release/$b"
done
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/gpu-bin/' "$exclude" 2>/dev/null || echo '/gpu-bin/' >>"$exclude"
du -sh gpu-bin >&2
