"""Successive halving's rule (engine/halving.py): who survives a rung."""

import numpy as np
import pytest

from nesterov_jax.engine import halving


def grid(settings, lrs, seeds):
  rows = [(o, mu, lr, s) for o, mu in settings for lr in lrs for s in seeds]
  return {"optimizer": np.array([r[0] for r in rows]), "mu_max": np.array([r[1] for r in rows]),
          "learning_rate": np.array([r[2] for r in rows]), "seed": np.array([r[3] for r in rows])}


def kept(points, keep):
  return sorted({(str(o), float(mu), float(lr)) for o, mu, lr, k in
                 zip(points["optimizer"], points["mu_max"], points["learning_rate"], keep) if k})


SETTINGS = [("nag", 0.9), ("cm", 0.9)]
LRS = (0.1, 0.01, 0.001)


def test_each_setting_keeps_its_own_best_third_not_the_grids():
  """NAG's every ε beats CM's best: a global ranking keeps no CM; the paper's groups keep one each."""
  points = grid(SETTINGS, LRS, (0,))
  metric = np.array([1.0, 2.0, 3.0, 10.0, 5.0, 20.0])
  keep = halving.survivors(points, metric, np.zeros(6, bool), np.ones(6, bool), eta=3)
  assert kept(points, keep) == [("cm", 0.9, 0.01), ("nag", 0.9, 0.1)]
  # Groups by optimizer alone (every μ_max's ε compete) is a choice the caller can make.
  points2 = grid([("nag", 0.9), ("nag", 0.99)], (0.1, 0.01), (0,))
  keep2 = halving.survivors(points2, np.array([1.0, 2.0, 3.0, 4.0]), np.zeros(4, bool), np.ones(4, bool),
                            eta=2, axes=("optimizer",))
  assert kept(points2, keep2) == [("nag", 0.9, 0.01), ("nag", 0.9, 0.1)]


def test_seeds_go_on_together_judged_by_their_mean():
  points = grid([("nag", 0.9)], (0.1, 0.01), (0, 1))
  metric = np.array([0.1, 0.9, 0.4, 0.4])  # 0.1: the best single seed, the worse mean
  keep = halving.survivors(points, metric, np.zeros(4, bool), np.ones(4, bool), eta=2)
  assert keep.tolist() == [False, False, True, True]


def test_at_least_one_per_group_and_never_a_point_stopped_before():
  points = grid(SETTINGS, LRS, (0,))
  metric = np.arange(6.0)
  keep = halving.survivors(points, metric, np.zeros(6, bool), np.ones(6, bool), eta=100)
  assert keep.tolist() == [True, False, False, True, False, False]
  alive = np.array([False, True, True, True, True, True])  # nag 0.1 stopped at an earlier rung
  keep = halving.survivors(points, metric, np.zeros(6, bool), alive, eta=100)
  assert keep.tolist() == [False, True, False, True, False, False]


def test_a_diverged_seed_sinks_its_epsilon_and_an_all_diverged_group_keeps_nothing():
  points = grid([("nag", 0.9)], (0.1, 0.01), (0, 1))
  metric = np.array([0.01, 0.5, 0.3, 0.3])
  diverged = np.array([False, True, False, False])  # 0.1's other seed blew up
  keep = halving.survivors(points, metric, diverged, np.ones(4, bool), eta=2)
  assert keep.tolist() == [False, False, True, True]
  nan = np.array([np.nan, 0.5, 0.3, 0.3])  # a non-finite metric counts as diverged
  assert halving.survivors(points, nan, np.zeros(4, bool), np.ones(4, bool), eta=2).tolist() == keep.tolist()
  assert not halving.survivors(points, metric, np.ones(4, bool), np.ones(4, bool), eta=2).any()


def test_the_reduction_factor_must_exceed_one():
  points = grid([("nag", 0.9)], (0.1,), (0,))
  with pytest.raises(ValueError, match="eta"):
    halving.survivors(points, np.zeros(1), np.zeros(1, bool), np.ones(1, bool), eta=1)
