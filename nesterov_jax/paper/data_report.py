"""``nesterov-jax data curves``: a Curves data set's statistics beside the original's, and a
sheet of its images.

    nesterov-jax data curves                       # the calibrated generator (the default)
    nesterov-jax data curves --generator v1        # our first generator
    nesterov-jax data curves --data-dir DIR        # the original digs3pts_1.mat in DIR
    nesterov-jax data curves --out DIR --no-logistic  # skip logistic PCA (minutes on 2 cores)

Writes ``statistics.md``, ``statistics.json`` and ``samples.png`` to ``--out`` (default
``runs/data_curves_<generator>``) and prints the table.
"""

from __future__ import annotations

import pathlib
import time

import numpy as np

from nesterov_jax.engine import files, provenance
from nesterov_jax.paper import data, data_stats


def sample_sheet(
  images: np.ndarray, path: pathlib.Path, title: str, rows: int = 6, cols: int = 12
) -> None:
  """The first ``rows × cols`` images, on one gray scale from 0 to 1."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.8, rows * 0.8 + 0.5))
  side = int(round(images.shape[1] ** 0.5))
  for image, ax in zip(images, axes.flat):
    ax.imshow(image.reshape(side, side), cmap="gray", vmin=0.0, vmax=1.0)
    ax.axis("off")
  fig.suptitle(title, fontsize=9)
  fig.savefig(path, dpi=100, bbox_inches="tight")
  plt.close(fig)


def write_markdown(out: pathlib.Path) -> str:
  """statistics.md from statistics.json; returns the table."""
  stored = files.read_json(out / "statistics.json")
  table = data_stats.markdown(stored["statistics"], stored["data"])
  files.write_text(
    out / "statistics.md",
    "# Curves data beside the original's published statistics\n\n"
    f"{provenance.markdown(stored['provenance'])}\n{table}",
  )
  return table


def main(
  generator: str = "calibrated",
  data_dir: str = "",
  out: pathlib.Path | None = None,
  logistic: bool = True,
  num_train: int = 20_000,
  num_test: int = 10_000,
  seed: int = 0,
) -> dict:
  start = time.perf_counter()
  dataset = data.load_curves(
    data_dir, num_train=num_train, num_test=num_test, seed=seed, generator=generator
  )
  stats = data_stats.statistics(dataset.train, dataset.test, logistic=logistic)
  out = pathlib.Path(out or f"runs/data_curves_{'original' if data_dir else generator}")
  out.mkdir(parents=True, exist_ok=True)
  record = provenance.record(time.perf_counter() - start)
  table = data_stats.markdown(stats, dataset.provenance)
  files.write_text(
    out / "statistics.md",
    f"# Curves data beside the original's published statistics\n\n"
    f"{provenance.markdown(record)}\n\n{table}",
  )
  files.write_json(
    out / "statistics.json", {"data": dataset.provenance, "statistics": stats, "provenance": record}
  )
  sample_sheet(dataset.train, out / "samples.png", dataset.provenance)
  print(table)
  print(f"wrote {out / 'statistics.md'}, statistics.json, samples.png")
  return stats
