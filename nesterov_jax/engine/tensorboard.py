"""Live TensorBoard summaries of a sweep, with its hyperparameters for the HParams dashboard.

    pip install -e ".[tensorboard]"              # tensorboardX writes; tensorboard views
    nesterov-jax run CONFIG.py --config.tensorboard=True
    tensorboard --logdir WORKDIR/tensorboard

Each grid or search point gets its own run directory, ``WORKDIR/tensorboard/NNN_<point>``.
At every chunk boundary it receives what ``metrics.jsonl`` records for it (the training
objective, the errors when evaluated, an optimizer family's diagnostics) and the values of
its family's schedules (μ for CM and NAG). Its hyperparameters, the same keys for every
point, are written into the same directory (tensorboardX's ``add_hparams`` would make a
separate sub-run for them), with ``train_error`` and ``test_error`` as the metrics, so the
HParams dashboard shows the sweep as a table and as parallel coordinates.

``metrics.jsonl`` is the record, and the event files mirror it: a run that starts or resumes
rewrites them from the lines it keeps, so no step is ever written twice. A point stopped by
successive halving has no values after its stop, so its curves end there. Only process 0
writes.
"""

from __future__ import annotations

import math
import pathlib
import shutil

import numpy as np

FOLDER = "tensorboard"
SKIP = ("step", "wall_s", "case_passes")


def point_name(i: int, point: dict) -> str:
  extra = "".join(
    f"_{k}{v:g}"
    for k, v in point.items()
    if k not in ("optimizer", "mu_max", "learning_rate", "seed")
  )
  return (
    f"{i:03d}_{point['optimizer']}_mu{point['mu_max']:g}_lr{point['learning_rate']:.3g}"
    f"_seed{point['seed']}{extra}"
  )


class Board:
  """The event files of one run: ``write`` a metrics.jsonl record, ``close`` at the end."""

  def __init__(self, workdir: pathlib.Path, points: dict[str, np.ndarray], schedules: list[dict]):
    try:
      from tensorboardX import SummaryWriter
      from tensorboardX.summary import hparams
    except ImportError as e:
      raise ImportError(
        "config.tensorboard needs tensorboardX: pip install 'nesterov_jax[tensorboard]'",
        name="tensorboardX",
      ) from e
    root = pathlib.Path(workdir) / FOLDER
    if (
      root.exists()
    ):  # rewritten from metrics.jsonl: a resumed run's later steps are not kept twice
      shutil.rmtree(root)
    self.schedules = schedules
    rows = [
      {
        k: (str(v[i]) if k == "optimizer" else int(v[i]) if k == "seed" else float(v[i]))
        for k, v in points.items()
      }
      for i in range(len(points["seed"]))
    ]
    self.writers = []
    for i, row in enumerate(rows):
      writer = SummaryWriter(str(root / point_name(i, row)), flush_secs=10)
      for summary in hparams(row, {"train_error": math.nan, "test_error": math.nan}):
        writer.file_writer.add_summary(summary)
      self.writers.append(writer)

  def write(self, record: dict) -> None:
    step = int(record["step"])
    for key, values in record.items():
      if key in SKIP:
        continue
      for writer, value in zip(self.writers, values):
        if value is not None and math.isfinite(value):
          writer.add_scalar(key, value, step)
    for writer, schedules in zip(self.writers, self.schedules):
      for key, value_at in schedules.items():
        writer.add_scalar(key, float(value_at(step)), step)
    for writer in self.writers:
      writer.flush()

  def close(self) -> None:
    for writer in self.writers:
      writer.close()
