"""Successive halving's rule, on a grid's points: which points go on at a rung.

The paper picks each setting's ε from a grid; successive halving stops the losing ε of every
setting early. This module is the rule alone, in NumPy, on the host: given every point's
metric at a rung (say, its training objective over the last 1000 updates), it says which
points survive. The config section that switches it on (``config.halving``, off by default)
is checked and turned into a :class:`Plan` here; ``train.run`` applies the plan at its chunk
boundaries, gathering the survivors' states into a smaller compiled grid.

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

from typing import NamedTuple

import ml_collections
import numpy as np

from nesterov_jax.engine import search
from nesterov_jax.engine.checks import ConfigError, check_number, check_string

COMPARED = ("learning_rate", "seed")  # the axes that do not separate one group from another


def group_keys(points: dict[str, np.ndarray], axes: tuple[str, ...] | None = None) -> list[tuple]:
  """Each point's group: its values on ``axes`` (default: every axis but :data:`COMPARED`)."""
  if axes is None:
    axes = tuple(k for k in points if k not in COMPARED)
  n = len(points["seed"])
  return [
    tuple(points[k][i].item() if hasattr(points[k][i], "item") else points[k][i] for k in axes)
    for i in range(n)
  ]


def survivors(
  points: dict[str, np.ndarray],
  metric: np.ndarray,
  diverged: np.ndarray,
  alive: np.ndarray,
  eta: float,
  axes: tuple[str, ...] | None = None,
) -> np.ndarray:
  """A bool per point: whether it runs on past this rung.

  ``metric``: each point's value at the rung (lower is better); ``diverged``: whether it has;
  ``alive``: whether it reached the rung (points stopped at earlier rungs stay stopped);
  ``eta`` > 1: the reduction factor; ``axes``: the group's axes (default: the paper's rule).
  """
  if not eta > 1:
    raise ValueError(f"eta = {eta!r}: the reduction factor must be > 1")
  metric = np.where(
    np.asarray(diverged, bool) | ~np.isfinite(metric), np.inf, np.asarray(metric, np.float64)
  )
  alive = np.asarray(alive, bool)
  groups = group_keys(points, axes)
  settings = group_keys(
    points, tuple(k for k in points if k != "seed")
  )  # a candidate: all but its seed
  candidates: dict[tuple, dict[tuple, list[int]]] = {}
  for i in np.flatnonzero(alive):
    candidates.setdefault(groups[i], {}).setdefault(settings[i], []).append(int(i))
  keep = np.zeros(len(metric), bool)
  for by_setting in candidates.values():
    ranked = sorted(by_setting.values(), key=lambda rows: (float(np.mean(metric[rows])), min(rows)))
    finite = [rows for rows in ranked if np.isfinite(np.mean(metric[rows]))]
    for rows in finite[: max(1, int(len(ranked) // eta))]:
      keep[rows] = True
  return keep


METRICS = ("train_loss", "train_error")


def add_section(config: ml_collections.ConfigDict) -> None:
  """``config.halving``, every field at its default (off)."""
  h = config.halving = ml_collections.ConfigDict()
  # > 1 switches halving on: at each rung every group keeps its best floor(n / eta) ε (at least
  # one); 0 = off (every point runs to the end).
  h.eta = 0.0
  # The updates at which points are compared, multiples of chunk_size below num_updates; ()
  # = min_updates, min_updates·eta, min_updates·eta², ... (each rounded down to a chunk).
  h.rungs = ()
  h.min_updates = 0
  # What is compared: "train_loss", the training objective over the trailing `window`
  # updates (the chunks' means), or "train_error", an evaluation at the rung.
  h.metric = "train_loss"
  h.window = 1000
  # The axes whose values separate groups; () = the paper's rule (every axis but ε and seed;
  # with grid.search on, but ε, μ_max and seed: a search's points compete per optimizer).
  h.groups = ()


def is_on(config) -> bool:
  h = config.get("halving")
  eta = h.get("eta", 0.0) if h is not None else 0.0
  return isinstance(eta, (int, float)) and not isinstance(eta, bool) and eta > 0


class Plan(NamedTuple):
  """A run's halving: the rungs (updates), η, the metric and its window, the group axes."""

  rungs: tuple[int, ...]
  eta: float
  metric: str
  window: int
  axes: tuple[str, ...] | None


def plan(config, axes_in_grid: tuple[str, ...]) -> Plan | None:
  """The checked plan of ``config.halving`` (None when off); a bad field is one line.

  ``axes_in_grid``: the grid's axes (``optimizer``, ``mu_max``, ..., as the points hold them).
  """
  if not is_on(config):
    eta = config.halving.get("eta") if config.get("halving") is not None else 0.0
    if eta not in (0, 0.0, None):
      raise ConfigError(f"config field halving.eta = {eta!r}: must be 0 (off) or a number > 1")
    return None
  h, n, chunk = config.halving, config.num_updates, config.chunk_size
  check_number("halving.eta", h.eta, low=1.0, low_open=True)
  check_string("halving.metric", h.metric, METRICS)
  if not isinstance(h.rungs, (tuple, list)):
    raise ConfigError(f"config field halving.rungs = {h.rungs!r}: must be a tuple of update counts")
  if h.rungs:
    for r in h.rungs:
      check_number("halving.rungs", r, integer=True, low=chunk, high=n, high_open=True)
      if r % chunk:
        raise ConfigError(
          f"config field halving.rungs: {r} is not a multiple of chunk_size ({chunk})"
        )
    rungs = tuple(int(r) for r in h.rungs)
    if list(rungs) != sorted(set(rungs)):
      raise ConfigError(f"config field halving.rungs = {h.rungs!r}: must increase")
  else:
    check_number(
      "halving.min_updates", h.min_updates, integer=True, low=chunk, high=n, high_open=True
    )
    rungs, r = [], float(h.min_updates)
    while r < n:
      step = int(r) // chunk * chunk
      if step >= chunk and (not rungs or step > rungs[-1]):
        rungs.append(step)
      r *= h.eta
    rungs = tuple(rungs)
  check_number("halving.window", h.window, integer=True, low=1, high=rungs[0])
  if h.metric == "train_loss" and h.window < chunk:
    raise ConfigError(
      f"config field halving.window = {h.window}: the training objective is logged per "
      f"chunk, so the window must be at least chunk_size ({chunk})"
    )
  if not isinstance(h.groups, (tuple, list)):
    raise ConfigError(f"config field halving.groups = {h.groups!r}: must be a tuple of grid axes")
  for axis in h.groups:
    if axis not in axes_in_grid or axis in COMPARED:
      allowed = ", ".join(a for a in axes_in_grid if a not in COMPARED)
      raise ConfigError(
        f"config field halving.groups: {axis!r} is not a grid axis that separates groups "
        f"(the grid has: {allowed})"
      )
  groups = tuple(h.groups) or None
  if groups is None and search.active(
    config.grid
  ):  # a search's μ_max is drawn, like its ε: compared too
    groups = tuple(a for a in axes_in_grid if a not in (*COMPARED, "mu_max"))
  return Plan(rungs, float(h.eta), str(h.metric), int(h.window), groups)


def rung_metric(plan: Plan, step: int, lines: list[dict], errors: dict | None) -> np.ndarray:
  """Each point's metric at the rung ``step``: the mean of the chunks' training objectives over
  the trailing window (``lines``: metrics.jsonl's records so far), or the rung's evaluation."""
  if plan.metric == "train_error":
    return np.asarray(errors["train_error"], np.float64)
  window = [
    m["train_loss"] for m in lines if step - plan.window < m["step"] <= step and "train_loss" in m
  ]
  with np.errstate(all="ignore"):
    return np.mean(
      np.array(window, np.float64), axis=0
    )  # a NaN chunk (diverged) gives NaN: +∞ below


def comparable(config: dict) -> dict:
  """A config.json as a dict, less what does not change its results: its halving section when
  halving is off, its grid's search section when the search is off, and whether it writes
  TensorBoard summaries. A run made before those fields existed and one made with them off
  are the same run (to resume, to merge)."""
  h = config.get("halving")
  if isinstance(h, dict) and not (h.get("eta") or 0):
    config = {k: v for k, v in config.items() if k != "halving"}
  grid = config.get("grid")
  if (
    isinstance(grid, dict)
    and isinstance(grid.get("search"), dict)
    and not grid["search"].get("num_points")
  ):
    config = {**config, "grid": {k: v for k, v in grid.items() if k != "search"}}
  return {k: v for k, v in config.items() if k != "tensorboard"}
