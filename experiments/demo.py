"""The quick start's demo: the quadratic experiment and a small Curves sweep, each in its own folder."""

from __future__ import annotations

import pathlib

import ml_collections

from nesterov_jax.engine import grid
from nesterov_jax.engine.train import prepare_workdir
from nesterov_jax.experiments import quadratic
from nesterov_jax.experiments import sweep as sweep_experiment


def validate(config: ml_collections.ConfigDict) -> None:
  quadratic.validate(config.quadratic)
  grid.validate(config.curves)


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  for name, experiment in (("quadratic", quadratic), ("curves", sweep_experiment)):
    prepare_workdir(workdir / name, config[name])
    experiment.run(config[name], workdir / name)
