#!/usr/bin/env bash
# The wheels of what the project needs and the GPU image lacks, into .whl/ (git ignores it), for
# scripts/gpu_check.sh to install there; carry .whl with the run.
#
#   bash scripts/gpu_wheels.sh
#
# Checked against the image's package list (the device tool's KINDS.md, read 2026-11-17): it has
# jax, optax, flax, chex, orbax-checkpoint, matplotlib, tqdm, scipy, scikit-image, pytest and
# hypothesis, and the dependencies of the two it lacks (absl-py, PyYAML, six; numpy, scipy,
# pandas, scikit-learn, matplotlib, joblib). It lacks ml_collections and mlxtend; both are
# pure-Python wheels (py3-none-any), right for any Python 3 there (it has 3.12). `wheel` too: the
# image has it, but a setuptools older than 70.1 cannot build the in-place install without it,
# and the CPU dry run's environment may have such a setuptools.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --dest .whl "ml_collections>=1.0,<2" "mlxtend>=0.23" "wheel>=0.40"
ls .whl
du -sh .whl  # the run carries at most 64 MiB in all
