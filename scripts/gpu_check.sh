#!/bin/bash
# One GPU session's checks, in one call: the benchmark, then Table 5's addition row at the
# paper's full protocol (T = 80, 50,000 updates, 4 ε × 7 settings × 4 seeds = 112 runs in one
# compiled program).
#
#   bash scripts/gpu_check.sh OUT [PRESET]     # PRESET: full (default), or smoke to try it on a CPU
#
# Runs from the repository root without installing the package. Wheels of anything the
# machine lacks (e.g. ml_collections) may wait in .whl/: they are installed into a private
# folder first. Writes OUT/bench.md, bench.json, table5.md, summary.md, error_curves.png,
# results.json and log.txt; the run directory itself stays in runs/.
set -uo pipefail
out=${1:?usage: gpu_check.sh OUT [PRESET]}
preset=${2:-full}
mkdir -p "$out"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
{
  echo "== $(date -u +%FT%TZ) $(python3 -c 'import jax; print(jax.__version__, jax.devices())')"
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
  quick=$([ "$preset" = smoke ] && echo --quick)
  python3 -m nesterov_jax bench --out "$out" $quick
  workdir=runs/gpu_rnn_addition_$preset
  rm -rf "$workdir"
  start=$(date +%s)
  python3 -m nesterov_jax run "configs/rnn_addition.py:$preset" --workdir "$workdir"
  echo "== addition $preset: $(( $(date +%s) - start )) s"
  cp "$workdir"/{table5.md,summary.md,error_curves.png,results.json} "$out"/ 2>/dev/null
} 2>&1 | tr '\r' '\n' | grep -v "upd/s" | tee "$out/log.txt"
