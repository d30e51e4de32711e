#!/usr/bin/env bash
# How long one 750,000-update Curves config takes on this machine, before committing to the
# paper's length (configs/curves_ae.py:updates_750k). Runs 3,000 updates of NAG μ_max 0.999
# at ε 0.01 (seed 0, the paper's protocol otherwise), twice:
#   (a) two single-config runs at once, each pinned to its own core (one device each);
#   (b) one single-config run alone, on every core (one device, XLA's threads on all).
# The rate is measured from update 1,000 to 3,000 (compilation excluded; an evaluation every
# 1,000 updates, where updates_750k evaluates every 5,000). Run it with nothing else running.
#
#   bash scripts/time_curves_750k.sh [OUT]     # OUT defaults to runs/time750k
set -euo pipefail
T=${1:-runs/time750k}
N=${UPDATES:-3000}  # a smaller multiple of 3 checks the script in seconds
rm -rf "$T"; mkdir -p "$T"
run() {  # run NAME [PREFIX...]: one single-device run, PREFIX before the command
  local name=$1; shift
  NESTEROV_JAX_CPU_DEVICES=1 "$@" nesterov-jax run configs/curves_ae.py:full \
    --workdir "$T/$name" --config.num_updates=$N --config.chunk_size=$((N / 6)) \
    --config.eval_every=$((N / 3)) --config.checkpoint_every=$N \
    "--config.grid.points=(('nag', 0.999, 0.01),)" "--config.grid.seeds=(0,)" \
    > "$T/$name.log" 2>&1
}
run pinned0 taskset -c 0 &
run pinned1 taskset -c 1 &
wait
run alone env
python - "$T" "$N" <<'PY'
import json, pathlib, sys
T, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
for name in ("pinned0", "pinned1", "alone"):
  rows = {r["step"]: r["wall_s"] for r in map(json.loads, open(T / name / "metrics.jsonl"))}
  rate = (n - n // 3) / (rows[n] - rows[n // 3])
  print(f"{name}: {rate:.1f} updates/s; 750,000 updates: {750_000 / rate / 3600:.2f} h")
PY
