"""Table 1's Curves row at 250,000 updates (configs/curves_ae.py:updates_250k), in runs of two
configs, one CPU device each, run one after another.

One config alone on two cores took 40 minutes (results/curves_calibrated_250k_nag0999_0.01,
beside low-priority tests); two in one run, one per device, take about 62
(results/curves_calibrated_init_scale_50k_edge2: 2 configs, 50,000 updates, 750 s). So a
pair is the cheaper unit, and each run stays near an hour.

The points are the preset's grid. A point is done when a results.json under
results/curves_calibrated_250k_* holds it; the rest are paired in order, NAG at the headline
μ_max (0.99, 0.999) first. A stopped run resumes from its last checkpoint when rerun.

    python scripts/curves_250k.py --dry-run                 # the commands left, one per line
    nohup python scripts/curves_250k.py > runs/logs/curves_250k.log 2>&1 &
    nesterov-jax merge results/curves_calibrated_250k_merged results/curves_calibrated_250k_*
"""

import argparse
import json
import pathlib
import shlex
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
PRESET = "configs/curves_ae.py:updates_250k"
PREFIX = "curves_calibrated_250k_"


def grid_points(preset: str = PRESET) -> list[tuple]:
  from nesterov_jax.engine.config import load_config

  return [tuple(p) for p in load_config(str(REPO / preset)).grid.points]


def done_points(results: pathlib.Path) -> set[tuple]:
  """The (optimizer, μ_max, ε) of every record in a finished run under ``results``."""
  done = set()
  for path in results.glob(f"{PREFIX}*/results.json"):
    data = json.loads(path.read_text())
    records = data["records"] if isinstance(data, dict) else data
    done |= {(r["optimizer"], r["mu_max"], r["learning_rate"]) for r in records}
  return done


def name(point: tuple) -> str:
  optimizer, mu, lr = point
  return f"{optimizer}{str(mu).replace('.', '')}_{lr:g}"


def headline_mu_max() -> tuple[float, ...]:
  """The μ_max of the paper's headline test (configs/curves_ae.py's HEADLINE_MU_MAX)."""
  sys.path.insert(0, str(REPO / "configs"))
  import curves_ae

  return curves_ae.HEADLINE_MU_MAX


def commands(
  points: list[tuple], done: set[tuple], results: pathlib.Path, headline_mu: tuple[float, ...]
) -> list[list[str]]:
  """One ``nesterov-jax run`` per pair of points left, NAG at ``headline_mu`` first."""
  left = [p for p in points if p not in done]
  headline = [p for p in left if p[0] == "nag" and p[1] in headline_mu]
  left = headline + [p for p in left if p not in headline]
  out = []
  for i in range(0, len(left), 2):
    pair = left[i : i + 2]
    workdir = results / (PREFIX + "_".join(name(p) for p in pair))
    out.append(
      [
        "nesterov-jax",
        "run",
        PRESET,
        "--workdir",
        str(workdir),
        f"--config.grid.points={tuple(pair)!r}",
      ]
    )
  return out


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--dry-run", action="store_true", help="print the commands left")
  parser.add_argument("--results", default="results", help="where runs go (from the repository)")
  args = parser.parse_args(argv)
  results = pathlib.Path(args.results)
  todo = commands(grid_points(), done_points(REPO / results), results, headline_mu_max())
  for command in todo:
    print(shlex.join(command), flush=True)
    if not args.dry_run:
      subprocess.run(command, cwd=REPO, check=True)
  if not todo:
    print(f"every point of {PRESET} has finished under {results}/{PREFIX}*")
  return 0


if __name__ == "__main__":
  sys.exit(main())
