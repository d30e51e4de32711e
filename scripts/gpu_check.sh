#!/usr/bin/env bash
# A GPU machine's checks, in one call, each step a few minutes at most:
#
#   bash scripts/gpu_check.sh OUT [full|smoke]     # smoke: every step at tiny sizes, on a CPU too
#
#   install  the wheels of what the machine lacks, then the package in place, all offline from
#            .whl/ (bash scripts/gpu_wheels.sh makes them; GPU_CHECK_WHEELS names another folder):
#            the in-place install is built in an isolated environment from .whl/'s setuptools and
#            wheel, so the machine's own setuptools (old, or none) does not matter;
#            smoke: pip's dry run of both, which installs nothing
#   a        the package's imports, devices, versions, and the fast tests (pytest -m "not slow"; smoke: two quick files),
#            matmul precision pinned by tests/conftest.py
#   b        the benchmark, trimmed to fit (nesterov-jax bench --preset gpu_check; smoke: smoke, one RNN cell):
#            MNIST autoencoder at 1, 4, 54 configs, RNN T = 200 at 16, 64, 256, both precisions
#   c        Table 5's addition row at the paper's protocol: the 112 runs of configs/rnn_addition.py:full
#            if step b predicts they take <= 4 minutes, else the 7 settings x 4 seeds at the chosen
#            learning rates (28 runs); smoke: the smoke preset
#
# Each step writes its files into OUT as it ends (a timeout loses only the step that was running):
# OUT/log.txt (everything printed), OUT/bench.md, OUT/bench.json, OUT/table5.md and
# OUT/rnn_addition_gpu.tar.gz (the run directory, checkpoints left out). It stops at the first
# failure and names the step. STEP_TIMEOUT (seconds, default 240) bounds each step;
# GPU_CHECK_PYTHON (default python3) is the interpreter; GPU_CHECK_STEPS (default "install a b c")
# runs only the steps it names.
set -euo pipefail
out=${1:?usage: gpu_check.sh OUT [full|smoke]}
preset=${2:-full}
case "$preset" in full|smoke) ;; *) echo "gpu_check: preset must be full or smoke, not $preset" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
export PYTHONUNBUFFERED=1
limit=${STEP_TIMEOUT:-240}
py=${GPU_CHECK_PYTHON:-python3}  # the interpreter every step runs (the tests give it a stand-in)
wheels=${GPU_CHECK_WHEELS:-.whl}
steps=" ${GPU_CHECK_STEPS:-install a b c} "
: > "$out/log.txt"

step() {  # NAME FUNCTION: runs FUNCTION (below) with its output in log.txt; stops the script if it fails
  local name=$1 function=$2 start rc=0
  start=$(date +%s)
  echo "== step $name: $function" | tee -a "$out/log.txt"
  timeout "$limit" bash -euo pipefail -c "$function" > >(tr '\r' '\n' | grep --line-buffered -v "upd/s" | tee -a "$out/log.txt") 2>&1 || rc=$?
  sleep 0.2  # let the log's pipe drain
  if [ "$rc" -ne 0 ]; then
    echo "gpu_check: step $name failed (exit $rc$([ "$rc" -eq 124 ] && echo ", after its ${limit} s limit"))" | tee -a "$out/log.txt" >&2
    exit 1
  fi
  echo "== step $name: $(( $(date +%s) - start )) s" | tee -a "$out/log.txt"
}

install() {
  # smoke: pip's dry run (it resolves and builds, and installs nothing), so that the test suite,
  # which runs this step, leaves the environment it runs in as it was
  local dry="" offline=(--no-index --find-links "$wheels")
  if [ "$preset" = smoke ]; then dry="--dry-run"; fi
  if compgen -G "$wheels/ml_collections-*.whl" > /dev/null; then
    "$py" -m pip install -q $dry "${offline[@]}" --no-deps --no-compile ml_collections mlxtend
  fi
  # Build isolation: pip builds in a fresh environment holding setuptools and wheel from
  # $wheels, never the machine's own setuptools
  "$py" -m pip install -q $dry "${offline[@]}" --no-deps -e .
}

environment() {
  "$py" -c "import nesterov_jax.experiments.sweep, nesterov_jax.paper.bench, ml_collections, mlxtend"
  "$py" -c "import sys, jax, optax, flax, chex; print(sys.version.split()[0], 'jax', jax.__version__, 'optax', optax.__version__, 'flax', flax.__version__, 'chex', chex.__version__); print(jax.devices())"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
  if [ "$preset" = smoke ]; then
    "$py" -m pytest -q -p no:cacheprovider tests/test_schedules.py tests/test_layers.py
  else
    "$py" -m pytest -q -p no:cacheprovider -m "not slow"
  fi
}

benchmark() {
  "$py" -m nesterov_jax bench --preset "$([ "$preset" = smoke ] && echo smoke || echo gpu_check)" --out "$out/bench_dir"
  cp "$out/bench_dir/bench.md" "$out/bench_dir/bench.json" "$out/"
  rm -r "$out/bench_dir"
}

# Table 5's addition: the full 112 runs when the benchmark says they fit in the step, else 28.
addition_spec() {
  if [ "$preset" = smoke ]; then echo "configs/rnn_addition.py:smoke"; return; fi
  "$py" - "$out/bench.json" "$limit" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
rnn = [r for r in rows if r["workload"].startswith("rnn") and r["method"].startswith("engine") and r["precision"] == "default"]
best = max(rnn, key=lambda r: r["configs"])
length = int(best["workload"].removeprefix("rnn_T"))
seconds = 112 * 50_000 * best["us_per_config_update"] * 1e-6 * 80 / length  # T = 80 costs 80/T of the bench's
fits = seconds <= 0.8 * float(sys.argv[2])
print("configs/rnn_addition.py:full" if fits else "configs/rnn_addition.py:seeds --config.grid.seeds=(0,1,2,3)")
print(f"predicted {seconds:.0f} s for the 112 runs from {best['configs']} configs at T = {length}: "
      + ("run them" if fits else "too long for the step, so the 7 settings x 4 seeds at the chosen ε"), file=sys.stderr)
EOF
}

table5() {
  local spec workdir=runs/gpu_rnn_addition_$preset
  spec=$(addition_spec)
  rm -rf "$workdir"
  # shellcheck disable=SC2086 -- the spec holds the preset and its override
  "$py" -m nesterov_jax run $spec --workdir "$workdir"
  cp "$workdir/table5.md" "$out/"
  tar czf "$out/rnn_addition_gpu.tar.gz" --exclude=checkpoints -C "$(dirname "$workdir")" "$(basename "$workdir")"
}

export out preset limit py wheels
export -f install environment benchmark addition_spec table5
for name in install a b c; do
  case "$steps" in *" $name "*) ;; *) continue ;; esac
  case $name in install) step install install ;; a) step a environment ;; b) step b benchmark ;; c) step c table5 ;; esac
done
echo "gpu_check: every step passed ($(echo $steps)); files in $out" | tee -a "$out/log.txt"
