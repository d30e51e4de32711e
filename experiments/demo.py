"""The quick start's demo: the quadratic experiment and a small Curves sweep, each in its own folder."""

from __future__ import annotations

import pathlib

import ml_collections

from nesterov_jax import report, sweep
from nesterov_jax.experiments import quadratic


def validate(config: ml_collections.ConfigDict) -> None:
  quadratic.validate(config.quadratic)
  sweep.validate(config.curves)


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  (workdir / "quadratic").mkdir(exist_ok=True)
  quadratic.run(config.quadratic, workdir / "quadratic")
  (workdir / "curves").mkdir(exist_ok=True)
  (workdir / "curves" / "config.json").write_text(config.curves.to_json_best_effort(indent=2, sort_keys=True))
  if sweep.run(config.curves, workdir / "curves"):
    report.write_report(workdir / "curves")
