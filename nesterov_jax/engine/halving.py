"""Successive halving's rule, on a grid's points: which points go on at a rung.

The paper picks each setting's ε from a grid; successive halving stops the losing ε of every
setting early. This module is the rule alone, in NumPy, on the host: given every point's
metric at a rung (say, its training objective over the last 1000 updates), it says which
points survive. Not yet wired into the training loop: the engine that gathers the survivors'
states into a smaller compiled grid, and the config section that switches it on, are the
open halving issue's next steps.

The rule, written once:

- The points that compete are a *group*: by default the ε of one setting (the points that
  share every grid axis but ``learning_rate`` and ``seed``: optimizer, μ_max, the task's own
  axes), as the paper's selection compares them.
- A *candidate* is one ε of a group with all its seeds: seeds stay together, compared by
  their mean. A seed that diverged counts as +∞, so a candidate with a diverged seed ranks
  after every finite one.
- At a rung each group keeps its best ⌊n/η⌋ candidates of the n still running, and at least
  one; ties go to the earlier point in the grid. A candidate whose every seed diverged never
  survives (its points are frozen, and their records are final), so a group whose candidates
  all diverged has nothing left to run.
"""

from __future__ import annotations

import numpy as np

COMPARED = ("learning_rate", "seed")  # the axes that do not separate one group from another


def group_keys(points: dict[str, np.ndarray], axes: tuple[str, ...] | None = None) -> list[tuple]:
  """Each point's group: its values on ``axes`` (default: every axis but :data:`COMPARED`)."""
  if axes is None:
    axes = tuple(k for k in points if k not in COMPARED)
  n = len(points["seed"])
  return [tuple(points[k][i].item() if hasattr(points[k][i], "item") else points[k][i] for k in axes)
          for i in range(n)]


def survivors(points: dict[str, np.ndarray], metric: np.ndarray, diverged: np.ndarray, alive: np.ndarray,
              eta: float, axes: tuple[str, ...] | None = None) -> np.ndarray:
  """A bool per point: whether it runs on past this rung.

  ``metric``: each point's value at the rung (lower is better); ``diverged``: whether it has;
  ``alive``: whether it reached the rung (points stopped at earlier rungs stay stopped);
  ``eta`` > 1: the reduction factor; ``axes``: the group's axes (default: the paper's rule).
  """
  if not eta > 1:
    raise ValueError(f"eta = {eta!r}: the reduction factor must be > 1")
  metric = np.where(np.asarray(diverged, bool) | ~np.isfinite(metric), np.inf, np.asarray(metric, np.float64))
  alive = np.asarray(alive, bool)
  groups = group_keys(points, axes)
  settings = group_keys(points, tuple(k for k in points if k != "seed"))  # a candidate: all but its seed
  candidates: dict[tuple, dict[tuple, list[int]]] = {}
  for i in np.flatnonzero(alive):
    candidates.setdefault(groups[i], {}).setdefault(settings[i], []).append(int(i))
  keep = np.zeros(len(metric), bool)
  for by_setting in candidates.values():
    ranked = sorted(by_setting.values(), key=lambda rows: (float(np.mean(metric[rows])), min(rows)))
    finite = [rows for rows in ranked if np.isfinite(np.mean(metric[rows]))]
    for rows in finite[:max(1, int(len(ranked) // eta))]:
      keep[rows] = True
  return keep
