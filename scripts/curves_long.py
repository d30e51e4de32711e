"""Table 1's Curves row at the long lengths, run by run, skipping what has finished.

    python scripts/curves_long.py 250k --dry-run          # the commands left, one per line
    nohup python scripts/curves_long.py 250k > runs/logs/curves_250k.log 2>&1 &
    nohup python scripts/curves_long.py 750k --max-runs 1 > runs/logs/curves_750k.log 2>&1 &

- ``250k`` (configs/curves_ae.py:updates_250k, seed 0): two points per run, one CPU device
  each. One config alone on two cores took 40 minutes
  (results/curves_calibrated_250k_nag0999_0.01); two in one run take about 62
  (results/curves_calibrated_init_scale_50k_edge2: 2 configs, 50,000 updates, 750 s), so a
  pair is the cheaper unit and each run stays near an hour. NAG at the headline μ_max (0.99,
  0.999) goes first. Once a setting's configs have all finished, the script adds one ε past
  its best wherever that best is the highest or the lowest ε it ran (``edge_runs``), so every
  best ε ends bracketed. Merge with
  ``nesterov-jax merge results/curves_calibrated_250k_merged results/curves_calibrated_250k_[nc]*``.
- ``750k`` (``:updates_750k``, NAG at μ_max 0.99 and 0.999, seeds 0, 1 and 2): one (point,
  seed) per run, alone on both cores with one device (results/curves_750k_timing/ predicted
  about 1.8 hours; the six runs took 80-110 minutes, results/LOG.md). A pair would take over
  3 hours: longer than a session. The order alternates μ_max within each seed, so every two
  runs finished add one seed to the comparison. Merge with
  ``nesterov-jax merge results/curves_calibrated_750k_merged results/curves_calibrated_750k_nag*``.

``--per-run 1`` runs the 250,000-update configs one at a time on one device (27-37 minutes
each in results/LOG.md's rows), to fill the end of a session that a pair would overrun.

The merge patterns leave out the merged folder itself, so a merge can be redone when more
runs finish. A (point, seed) is done when a results.json under
results/curves_calibrated_<length>_* holds it. Runs go one after another; ``--max-runs``
stops after that many (to fit a session). A stopped run resumes from its last checkpoint
when rerun with the same command.
"""

import argparse
import os
import pathlib
import shlex
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
# length → (preset, points per run, environment of each run, whether to bracket its best ε)
LENGTHS = {
  "250k": ("configs/curves_ae.py:updates_250k", 2, {}, True),
  "750k": ("configs/curves_ae.py:updates_750k", 1, {"NESTEROV_JAX_CPU_DEVICES": "1"}, False),
}


def prefix(length: str) -> str:
  return f"curves_calibrated_{length}_"


def grid_runs(preset: str) -> list[tuple]:
  """(optimizer, μ_max, ε, seed) of every config the preset runs, in the grid's order."""
  from nesterov_jax.engine.config import load_config

  grid = load_config(str(REPO / preset)).grid
  return [(*p, s) for s in grid.seeds for p in grid.points]


def finished_records(results: pathlib.Path, length: str) -> list[dict]:
  """Every record in a finished run of ``length`` (one whose results.json is written)."""
  from nesterov_jax.engine import files

  paths = results.glob(f"{prefix(length)}*/results.json")
  return [r for path in paths for r in files.read_json(path)]


def configs_of(records: list[dict]) -> set[tuple]:
  """(optimizer, μ_max, ε, seed) of each record."""
  return {(r["optimizer"], r["mu_max"], r["learning_rate"], r["seed"]) for r in records}


def edge_runs(records: list[dict], configs: list[tuple]) -> list[tuple]:
  """One ε past each setting's best where that best is the highest or the lowest ε the
  setting ran, so that every best ε ends bracketed: (optimizer, μ_max, ε, seed), on the
  grid's seed. Only settings whose grid configs have all finished count; a best at the end of
  the ε ladder has nothing past it. An edge that ends best asks for the next one."""
  from nesterov_jax.engine import results as results_lib
  from nesterov_jax.paper.protocols import learning_rate_band

  done = configs_of(records)
  settings = {c[:2] for c in configs}
  finished = {s for s in settings if all(c in done for c in configs if c[:2] == s)}
  seed = min(c[3] for c in configs)
  mine = [r for r in records if r["seed"] == seed and (r["optimizer"], r["mu_max"]) in finished]
  edges = []
  for best in results_lib.select_best(mine) if mine else []:
    key, lr = (best["optimizer"], best["mu_max"]), best["learning_rate"]
    if lr is None:  # every ε diverged: nothing to bracket
      continue
    ran = {r["learning_rate"] for r in mine if (r["optimizer"], r["mu_max"]) == key}
    # the best's neighbours on the ε ladder that lie outside what ran
    edges += [(*key, x, seed) for x in learning_rate_band(lr) if not min(ran) <= x <= max(ran)]
  return edges


def name(config: tuple, with_seed: bool) -> str:
  optimizer, mu, lr, seed = config
  return f"{optimizer}{str(mu).replace('.', '')}_{lr:g}" + (f"_s{seed}" if with_seed else "")


def headline_mu_max() -> tuple[float, ...]:
  """The μ_max of the paper's headline test (configs/curves_ae.py's HEADLINE_MU_MAX)."""
  sys.path.insert(0, str(REPO / "configs"))
  import curves_ae

  return curves_ae.HEADLINE_MU_MAX


def commands(
  length: str,
  configs: list[tuple],
  done: set[tuple],
  results: pathlib.Path,
  headline_mu,
  per_run: int | None = None,
) -> list[list[str]]:
  """One ``nesterov-jax run`` per group of ``per_run`` configs left (the length's own when
  None): NAG at ``headline_mu`` first, then the rest; within a seed, the grid's order."""
  preset, default_per_run, _, _ = LENGTHS[length]
  per_run = per_run or default_per_run
  left = [c for c in configs if c not in done]
  headline = [c for c in left if c[0] == "nag" and c[1] in headline_mu]
  left = sorted(headline, key=lambda c: c[3]) + [c for c in left if c not in headline]
  seeds = {c[3] for c in configs}
  out = []
  for i in range(0, len(left), per_run):
    group = left[i : i + per_run]
    if len({c[3] for c in group}) > 1:  # one seed per run: the grid crosses points and seeds
      raise ValueError(f"cannot put {group} in one run: they differ in seed")
    workdir = results / (prefix(length) + "_".join(name(c, len(seeds) > 1) for c in group))
    command = ["nesterov-jax", "run", preset, "--workdir", str(workdir)]
    command.append(f"--config.grid.points={tuple(c[:3] for c in group)!r}")
    if len(seeds) > 1:
      command.append(f"--config.grid.seeds=({group[0][3]},)")
    out.append(command)
  return out


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("length", choices=sorted(LENGTHS), help="which preset: updates_<length>")
  parser.add_argument("--dry-run", action="store_true", help="print the commands left")
  parser.add_argument("--max-runs", type=int, default=None, help="stop after this many runs")
  parser.add_argument("--results", default="results", help="where runs go (from the repository)")
  parser.add_argument(
    "--per-run",
    type=int,
    default=None,
    help="configs per run (default: 2 for 250k, 1 for 750k); 1 runs each alone on one device",
  )
  args = parser.parse_args(argv)
  if args.per_run is not None and args.per_run < 1:
    parser.error(f"--per-run must be at least 1, not {args.per_run}")
  preset, _, env, bracket = LENGTHS[args.length]
  if args.per_run == 1:  # one config: one device is faster than two (module docstring)
    env = {**env, "NESTEROV_JAX_CPU_DEVICES": "1"}
  results = pathlib.Path(args.results)
  try:
    configs = grid_runs(preset)
  except ValueError as e:  # updates_750k before LONG_BEST_LEARNING_RATES is filled
    print(f"{preset}: {e}", file=sys.stderr)
    return 2
  records = finished_records(REPO / results, args.length)
  done = configs_of(records)
  if bracket:  # then one ε past each best at the edge of what ran
    configs += [c for c in edge_runs(records, configs) if c not in configs]
  todo = commands(args.length, configs, done, results, headline_mu_max(), args.per_run)
  if not todo:
    print(f"every config of {preset} has finished under {results}/{prefix(args.length)}*")
  for command in todo[: args.max_runs]:
    line = " ".join(f"{k}={v}" for k, v in env.items()) + (" " if env else "")
    print(line + shlex.join(command), flush=True)
    if not args.dry_run:
      subprocess.run(command, cwd=REPO, check=True, env={**os.environ, **env})
  return 0


if __name__ == "__main__":
  sys.exit(main())
