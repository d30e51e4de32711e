"""Quasi-random search: a grid's (μ_max, ε) drawn from continuous ranges instead of listed.

``config.grid.search`` (off while ``num_points`` is 0) draws ``num_points`` (μ_max, ε) pairs
from a scrambled Halton sequence, seeded, over the declared ranges. Each pair runs with
every optimizer of ``grid.optimizers`` and every seed, so optimizers and seeds stay paired,
exactly as a grid's would. The points then train as one compiled program, like any grid:
the same records, reports, checkpoints, resume and successive halving.

A range is ``("log", low, high)`` (log-uniform: a learning rate), ``("uniform", low, high)``,
or ``("log1m", low, high)`` for μ: 1 − μ log-uniform in [low, high], so μ_max lies in
[1 − high, 1 − low]. The tuning playbook's advice for exploration, and AlgoPerf's Nesterov
baseline (1 − β₁ log-uniform in [5e-3, 0.3]), draw μ this way.

Halton's points cover the square more evenly than independent uniform draws (a lower
discrepancy); its scrambling (a random permutation of the digits in each base, from the
seed) removes the plain sequence's correlations between dimensions.
"""

from __future__ import annotations

import ml_collections
import numpy as np

from nesterov_jax.engine.checks import ConfigError, check_number

KINDS = ("log", "uniform", "log1m")
_PRIMES = (2, 3, 5, 7, 11, 13)


def add_section(config: ml_collections.ConfigDict) -> None:
  """``config.grid.search``, off, with every field at its default."""
  search = ml_collections.ConfigDict()
  search.num_points = 0  # (μ_max, ε) pairs to draw; 0: off (the grid's lists are used)
  search.seed = 0  # the Halton sequence's scrambling
  search.learning_rate = ("log", 1e-4, 1e-1)  # ε: ("log" | "uniform", low, high)
  search.mu_max = ("log1m", 1e-3, 1e-1)  # μ_max: ("log1m" | "uniform" | "log", low, high)
  config.grid.search = search


def halton(num: int, dims: int, seed: int) -> np.ndarray:
  """The first ``num`` points of a ``dims``-dimensional Halton sequence in [0, 1)^dims, each
  digit of each dimension scrambled by its own permutation of the base's digits, drawn from
  ``seed`` (a permutation per digit keeps the sequence's stratification: each block of
  ``base**k`` points still falls one in each of ``base**k`` intervals)."""
  if dims > len(_PRIMES):
    raise ValueError(f"halton: at most {len(_PRIMES)} dimensions")
  rng = np.random.default_rng(seed)
  out = np.zeros((num, dims))
  index = np.arange(num)
  for d, base in enumerate(_PRIMES[:dims]):
    digits = int(np.ceil(np.log(num + 1) / np.log(base))) + 1
    remaining, scale = index.copy(), 1.0 / base
    for _ in range(digits):
      perm = rng.permutation(base)
      out[:, d] += perm[remaining % base] * scale
      remaining //= base
      scale /= base
  return out


def _check(field: str, spec) -> tuple[str, float, float]:
  if not (isinstance(spec, (tuple, list)) and len(spec) == 3 and spec[0] in KINDS):
    raise ConfigError(
      f"config field grid.search.{field} = {spec!r}: must be (kind, low, high) with kind one of "
      f"{', '.join(KINDS)}"
    )
  kind, low, high = spec
  for bound in (low, high):
    check_number(f"grid.search.{field}", bound, low=0.0, low_open=kind != "uniform")
  if not low < high:
    raise ConfigError(f"config field grid.search.{field} = {tuple(spec)!r}: low must be below high")
  if kind == "log1m" and high > 1.0:
    raise ConfigError(
      f"config field grid.search.{field} = {tuple(spec)!r}: 1 − μ above 1 makes μ negative"
    )
  return kind, float(low), float(high)


def _scale(u: np.ndarray, kind: str, low: float, high: float) -> np.ndarray:
  if kind == "uniform":
    return low + u * (high - low)
  logs = np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
  return 1.0 - logs if kind == "log1m" else logs


def validate(search: ml_collections.ConfigDict) -> None:
  """Every check on ``grid.search``, one line each, before anything compiles."""
  check_number("grid.search.num_points", search.num_points, integer=True, low=0)
  check_number("grid.search.seed", search.seed, integer=True, low=0)
  if search.num_points:
    kind, low, high = _check("mu_max", search.mu_max)
    if kind == "uniform" and high >= 1.0:
      raise ConfigError(
        f"config field grid.search.mu_max = {tuple(search.mu_max)!r}: μ_max must stay below 1"
      )
    _check("learning_rate", search.learning_rate)


def draw(search: ml_collections.ConfigDict) -> list[tuple[float, float]]:
  """The search's (μ_max, ε) pairs, in the order drawn (grid.py crosses them with the
  optimizers and seeds)."""
  validate(search)
  u = halton(search.num_points, 2, search.seed)
  mus = _scale(u[:, 0], *_check("mu_max", search.mu_max))
  lrs = _scale(u[:, 1], *_check("learning_rate", search.learning_rate))
  return [(float(mu), float(lr)) for mu, lr in zip(mus, lrs)]


def active(grid: ml_collections.ConfigDict) -> bool:
  return bool(grid.get("search") and grid.search.num_points)
