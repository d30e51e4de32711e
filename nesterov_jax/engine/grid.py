"""The grid: a sweep config's points, their checks, and the arrays a compiled program reads.

A point is (optimizer, μ_max, ε, seed, task and optimizer hyperparameters). ``points`` lists
them in a fixed order (the order of results.json); ``groups`` splits them by optimizer
family (:mod:`nesterov_jax.engine.optimizers`), and ``arrays`` turns one group into the
hyperparameter arrays of its vmapped program. ``validate`` checks a config and returns its
points, so a run builds its grid once.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import ml_collections
import numpy as np

from nesterov_jax.engine import search
from nesterov_jax.engine.config import (
  ConfigError,
  check_number,
  check_numbers,
  check_string,
  grid_axes,
)
from nesterov_jax.engine.optimizers import Family, family
from nesterov_jax.engine.tasks import check_task_fields, check_task_name

CORE_AXES = ("optimizer", "mu_max", "learning_rate", "seed")
PRECISIONS = ("default", "high", "highest")
# How the report picks each setting's ε: the paper's final training error, or (for a pilot
# too short for the error to move) the training objective over the last 1000 updates.
SELECTIONS = ("final_train_error", "final_train_loss")
FLOAT32_MAX = float(np.finfo(np.float32).max)


def settings(grid: ml_collections.ConfigDict) -> list[tuple[str, float, float]]:
  """The grid's (optimizer, μ_max, ε) triples: ``grid.points`` when given, else the drawn
  points of a quasi-random search (``grid.search``), else each optimizer × its μ_max values ×
  learning rates. An optimizer without a momentum argument
  (Adam, ...) runs once per ε, recorded with μ_max 0; two optimizers of one family that run
  the same algorithm at a μ_max (its ``kind``) are kept once, under the first listed."""
  if grid.get("points"):
    return [tuple(p) for p in grid.points]
  if search.active(grid):  # each drawn pair with every optimizer; one without momentum at μ_max 0
    return [
      (opt, mu if family(opt).uses_momentum else 0.0, lr)
      for mu, lr in search.draw(grid.search)
      for opt in grid.optimizers
    ]
  out, seen = [], set()
  for opt in grid.optimizers:
    fam = family(opt)
    for mu in grid.mu_max if fam.uses_momentum else (0.0,):
      algorithm = (fam.key, fam.kind(opt, mu), mu)
      if algorithm in seen:
        continue
      seen.add(algorithm)
      out.extend((opt, mu, lr) for lr in grid.learning_rates)
  return out


def points(grid: ml_collections.ConfigDict) -> dict[str, np.ndarray]:
  """The grid's points, one row each: its (optimizer, μ_max, ε) settings (see ``settings``)
  × seeds × the extra axes.

  ``grid.points``, a tuple of (optimizer, μ_max, ε) triples, replaces the product of
  ``optimizers × mu_max × learning_rates`` where each setting runs at its own ε (e.g. the
  ε a pilot chose for it).
  """
  axes = grid_axes(grid)
  rows = [
    (opt, mu, lr, seed, *hp)
    for (opt, mu, lr), seed, *hp in itertools.product(
      settings(grid), grid.seeds, *(grid[k] for k in axes)
    )
  ]
  columns = list(zip(*rows)) if rows else [()] * (4 + len(axes))
  out = {
    "optimizer": np.array(columns[0], dtype=str),
    "mu_max": np.array(columns[1], np.float32),
    "learning_rate": np.array(columns[2], np.float32),
    "seed": np.array(columns[3], np.int32),
  }
  out.update({k: np.array(c, np.float32) for k, c in zip(axes, columns[4:])})
  return out


class Group(NamedTuple):
  """The points of one optimizer family: they are vmapped together."""

  family: Family
  rows: np.ndarray  # their indices in the grid (results.json's order)


def groups(grid: dict[str, np.ndarray]) -> list[Group]:
  """The grid's points by family, in order of each family's first point."""
  keys: dict[str, tuple[Family, list[int]]] = {}
  for i, name in enumerate(grid["optimizer"]):
    fam = family(str(name))
    keys.setdefault(fam.key, (fam, []))[1].append(i)
  return [Group(fam, np.array(rows)) for fam, rows in keys.values()]


def arrays(grid: dict[str, np.ndarray], group: Group, slots: int) -> dict[str, np.ndarray]:
  """One group's points as its program's hyperparameter arrays, padded to ``slots`` rows with
  copies of its first point (padding never reaches a result); the optimizer's name becomes
  whatever per-point arrays its family reads (``Family.arrays``)."""
  out = {k: v[group.rows] for k, v in grid.items() if k != "optimizer"}
  out.update(group.family.arrays(grid["optimizer"][group.rows]))
  return {k: np.concatenate([v, np.repeat(v[:1], slots - len(v), axis=0)]) for k, v in out.items()}


def phases(config, families: list[Family]) -> list[tuple[int, int, object]]:
  """(first update, end, phase) of each stretch of the run with its own program: one phase
  unless the grid's only family has several (HF, which takes no company)."""
  return families[0].phases(config) if len(families) == 1 else [(0, config.num_updates, None)]


def milestones(config, families: list[Family]) -> dict[str, int]:
  """The updates, besides the evaluations, where the families want every point's errors."""
  out = {}
  for fam in families:
    out.update(fam.milestones(config))
  return out


def validate(config: ml_collections.ConfigDict) -> dict[str, np.ndarray]:
  """Every check that can fail on a config, with one clear line, before anything compiles;
  returns the grid's points."""
  g = config.grid
  check_string("task.name", config.task.name)
  check_task_name(config.task.name)
  check_task_fields(config.task)
  for field in ("optimizers", "mu_max", "learning_rates", "seeds"):
    if not isinstance(g[field], (tuple, list)):
      raise ConfigError(f"config field grid.{field} = {g[field]!r}: must be a tuple of values")
  for o in g.optimizers:
    check_string("grid.optimizers", o)
    family(o)
  if g.get("search"):
    search.validate(g.search)
    if g.search.num_points and g.get("points"):
      raise ConfigError(
        "grid.points and grid.search both list the grid's points: set one (grid.search.num_points=0 "
        "or grid.points=())"
      )
  check_numbers("grid.mu_max", g.mu_max, low=0.0, high=1.0, high_open=True)
  check_numbers("grid.learning_rates", g.learning_rates, low=0.0, low_open=True, high=FLOAT32_MAX)
  check_numbers("grid.seeds", g.seeds, integer=True, low=0, high=2**31 - 1)
  for axis in grid_axes(g):  # the program reads them as float32
    check_numbers(f"grid.{axis}", g[axis], low=-FLOAT32_MAX, high=FLOAT32_MAX)
  bad_points = [
    p
    for p in g.get("points") or ()
    if not (
      isinstance(p, (tuple, list))
      and len(p) == 3
      and isinstance(p[0], str)
      and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p[1:])
    )
  ]
  if bad_points:
    raise ConfigError(
      f"grid.points holds (optimizer, mu_max, learning_rate) triples; got {bad_points[0]!r}"
    )
  for opt, mu, lr in g.get("points") or ():
    check_string("grid.points (optimizer)", opt)
    check_number("grid.points (mu_max)", mu, low=0.0, high=1.0, high_open=True)
    check_number("grid.points (learning_rate)", lr, low=0.0, low_open=True)
    if mu and not family(opt).uses_momentum:
      raise ConfigError(f"grid.points: {opt} has no momentum argument; its points take μ_max 0")
  grid = points(g)
  if len(grid["mu_max"]) == 0:
    raise ConfigError("the grid is empty: every axis needs at least one value")
  for field in ("num_updates", "chunk_size"):
    check_number(field, config[field], integer=True, low=1)
  for field in ("eval_every", "checkpoint_every"):
    check_number(field, config[field], integer=True, low=0)
  check_string("selection", config.get("selection", "final_train_error"), SELECTIONS)
  check_string("precision", config.precision, PRECISIONS)
  n, chunk = config.num_updates, config.chunk_size
  if n % chunk:
    raise ConfigError(f"num_updates ({n}) must be a positive multiple of chunk_size ({chunk})")
  for field in ("eval_every", "checkpoint_every"):
    if config[field] % chunk:
      raise ConfigError(f"{field} ({config[field]}) must be a multiple of chunk_size ({chunk})")
  for args_of, args in (config.get("optimizer_args") or {}).items():
    if args_of not in set(grid["optimizer"]):
      raise ConfigError(
        f"config field optimizer_args.{args_of}: no optimizer {args_of!r} in the grid"
      )
    for k, v in (args or {}).items():
      if not isinstance(v, (bool, int, float, str, type(None))):
        raise ConfigError(
          f"config field optimizer_args.{args_of}.{k} = {v!r}: must be a number, "
          "string, bool or None"
        )
      if isinstance(v, float):
        check_number(f"optimizer_args.{args_of}.{k}", v)
  for group in groups(grid):
    group.family.validate(config)
  return grid


def check_axes(config, task, grid: dict[str, np.ndarray]) -> None:
  """Every extra grid axis is a hyperparameter of the task or of an optimizer in the grid."""
  families = [g.family for g in groups(grid)]
  for axis in grid_axes(config.grid):
    takers = [f for f in families if f.takes_axis(axis)]
    if axis not in task.hparam_axes and not takers:
      raise ConfigError(
        f"grid axis {axis!r} is not a hyperparameter of task {task.name!r} "
        f"(it has: {', '.join(task.hparam_axes) or 'none'}) nor an argument of an "
        "optimizer in the grid"
      )
