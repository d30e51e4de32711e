#!/usr/bin/env bash
# The wheels of what the project needs and the GPU image lacks, into .whl/ (git ignores it), for
# scripts/gpu_check.sh to install there; carry .whl with the run.
#
#   bash scripts/gpu_wheels.sh          # GPU_WHEELS_DEST names another folder (the tests use one)
#
# Checked against the image's package list (the device tool's KINDS.md, read 2026-11-17): it has
# jax, optax, flax, chex, orbax-checkpoint, matplotlib, tqdm, scipy, scikit-image, pytest and
# hypothesis, and the dependencies of the two it lacks (absl-py, PyYAML, six; numpy, scipy,
# pandas, scikit-learn, matplotlib, joblib). It lacks ml_collections and mlxtend; both are
# pure-Python wheels (py3-none-any), right for any Python 3 there (it has 3.12). setuptools and
# wheel too: gpu_check.sh builds the in-place install in an isolated environment made from
# these two alone, offline, so it works whatever setuptools the machine has, or none (Python
# 3.11's venv ships 65.5, too old to build it without wheel; 3.12's ships none).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${GPU_WHEELS_DEST:-.whl}
mkdir -p "$dest"
python3 -m pip download -q --no-deps --only-binary=:all: --dest "$dest" "ml_collections>=1.0,<2" "mlxtend>=0.23" \
  "setuptools>=70.1" "wheel>=0.40"
ls "$dest"
du -sh "$dest"  # the run carries at most 64 MiB in all
