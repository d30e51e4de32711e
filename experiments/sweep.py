"""A hyperparameter sweep on the engine (nesterov_jax.engine.train), then its report.

Configs with ``experiment = "sweep"`` describe a task, a grid and a training protocol;
see ``configs/teacher_mlp.py`` for every field.
"""

from __future__ import annotations

import pathlib

import ml_collections

from nesterov_jax.engine import grid, report, train


def validate(config: ml_collections.ConfigDict) -> None:
  grid.validate(config)


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  if train.run(config, workdir):  # only the writing process gets records back
    report.write_report(workdir)
