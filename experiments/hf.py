"""Section 5 on one autoencoder: classic HF (Martens 2010; Table 1's HF*), the momentum-like
hybrid (HF†) and NAG at about the same compute, then the comparison.

Configs with ``experiment = "hf"`` hold three sweep configs, ``classic``, ``hybrid`` and
``nag`` (see ``configs/hf_curves.py``). Writes ``WORKDIR/{classic,hybrid,nag}/`` (each a
sweep run with its report), then ``WORKDIR/table1.md`` (Table 1's HF columns, ours beside
the paper's) and ``WORKDIR/error_vs_passes.png``.
"""

from __future__ import annotations

import pathlib

import jax
import ml_collections

from nesterov_jax import cli
from nesterov_jax.engine import grid, report
from nesterov_jax.engine.config import ConfigError
from nesterov_jax.experiments import sweep as sweep_experiment

RUNS = ("classic", "hybrid", "nag")


def validate(config: ml_collections.ConfigDict) -> None:
  for name in RUNS:
    grid.validate(config[name])
  if len({config[name].task.name for name in RUNS}) != 1:
    raise ConfigError("classic, hybrid and nag must train the same task")
  if "hf" not in config.classic.grid.optimizers or "hf" not in config.hybrid.grid.optimizers:
    raise ConfigError("classic and hybrid are HF runs (grid.optimizers = ('hf',))")


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  for name in RUNS:
    cli.prepare_workdir(workdir / name, config[name])
    sweep_experiment.run(config[name], workdir / name)
  if jax.process_index() == 0:
    report.write_report(workdir)
