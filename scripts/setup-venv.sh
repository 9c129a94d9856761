#!/usr/bin/env bash
# Creates the project-local virtualenv `.venv` with torch==2.11.0 (the libtorch that tch 0.24
# links against) from PyPI, if it is missing or holds another torch, and links `.venv/torch` to
# the installed package so that `.cargo/config.toml` can point torch-sys at it.
set -euo pipefail
cd "$(dirname "$0")/.."
want=2.11.0
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($py --version)" >&2
  "$py" -m venv .venv
fi
have=$(.venv/bin/python -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "setup: installing torch==$want into .venv (about 4.6 GB)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==$want" numpy safetensors
fi
torch_dir=$(.venv/bin/python -c 'import torch, os; print(os.path.relpath(os.path.dirname(torch.__file__), ".venv"))')
ln -sfn "$torch_dir" .venv/torch
echo "setup: libtorch at $torch_dir" >&2
