"""Eq. 5's momentum schedule and the RNN protocol, at the update counts the paper names."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nesterov_jax import momentum_schedule, rnn_momentum_schedule

MU_MAXES = [0.0, 0.9, 0.99, 0.995, 0.999]
COUNTS = [0, 249, 250, 999, 1000, 12_249, 12_250, 24_750, 124_750]


def eq5_literal(t, mu_max):
  """Eq. 5 exactly as printed: min(1 − 2^(−1 − log2(⌊t/250⌋ + 1)), μ_max)."""
  return min(1.0 - 2.0 ** (-1.0 - math.log2(t // 250 + 1)), mu_max)


@pytest.mark.parametrize("mu_max", MU_MAXES)
def test_schedule_matches_eq5_at_the_papers_counts(mu_max):
  schedule = momentum_schedule(mu_max)
  got = [float(schedule(t)) for t in COUNTS]
  np.testing.assert_allclose(got, [eq5_literal(t, mu_max) for t in COUNTS], rtol=1e-6)


def test_schedule_reaches_each_mu_max_when_the_paper_says():
  schedule = jax.jit(momentum_schedule(1.0))
  first_reach = {0.9: 1000, 0.99: 12_250, 0.995: 24_750, 0.999: 124_750}
  for mu, t in first_reach.items():
    assert float(schedule(t - 1)) < mu - 1e-7
    np.testing.assert_allclose(float(schedule(t)), mu, rtol=1e-6)


def test_schedule_starts_at_one_half_and_steps_every_period():
  schedule = momentum_schedule(0.99)
  np.testing.assert_allclose(
    [float(schedule(t)) for t in (0, 249, 250, 499, 500)],
    [0.5, 0.5, 0.75, 0.75, 1 - 1 / 6],
    rtol=1e-6,
  )
  scaled = momentum_schedule(0.99, period=10)
  np.testing.assert_allclose(float(scaled(40)), 0.9, rtol=1e-6)


@pytest.mark.parametrize("mu_max", MU_MAXES)
def test_finetuning_tail_uses_point_nine_for_the_last_thousand_updates(mu_max):
  total = 200_000
  schedule = momentum_schedule(mu_max, total_steps=total)
  before, first, last = (float(schedule(t)) for t in (total - 1001, total - 1000, total - 1))
  np.testing.assert_allclose(before, eq5_literal(total - 1001, mu_max), rtol=1e-6)
  expected_tail = 0.0 if mu_max == 0.0 else 0.9
  np.testing.assert_allclose([first, last], [expected_tail] * 2, rtol=1e-6)


def test_schedule_accepts_a_traced_mu_max_under_vmap():
  counts = jnp.array(COUNTS)
  mu_maxes = jnp.array(MU_MAXES)
  grid = jax.jit(jax.vmap(lambda m: jax.vmap(momentum_schedule(m, total_steps=125_000))(counts)))(
    mu_maxes
  )
  expected = [[eq5_literal(t, m) for t in COUNTS] for m in MU_MAXES]
  expected = [
    [min(0.9, m) if t >= 124_000 else e for t, e in zip(COUNTS, row)]
    for m, row in zip(MU_MAXES, expected)
  ]
  np.testing.assert_allclose(np.asarray(grid), expected, rtol=1e-6)


def test_rnn_schedule_is_point_nine_for_a_thousand_updates_then_mu0():
  for mu0 in (0.0, 0.9, 0.98, 0.995):
    schedule = rnn_momentum_schedule(mu0)
    np.testing.assert_allclose(
      [float(schedule(t)) for t in (0, 999, 1000, 49_999)], [0.9, 0.9, mu0, mu0], rtol=1e-6
    )


def test_the_update_a_report_marks_is_where_eq5_first_reaches_mu_max():
  """The error curves' marks (paper.optimizers.mu_reached_at) against the schedule itself; an
  off-by-one period, or 1/(2(1 − μ)) rounded the wrong way for 0.99 (50.0000000004), fails."""
  import ml_collections

  from nesterov_jax.paper.optimizers import mu_reached_at, schedule_config

  config = ml_collections.ConfigDict({"schedule": schedule_config()})
  expected = {0.9: 1_000, 0.99: 12_250, 0.995: 24_750, 0.9975: 49_750, 0.999: 124_750}
  assert {mu: mu_reached_at(config, mu) for mu in expected} == expected
  mu = np.asarray(momentum_schedule(1.0)(np.arange(0, 200_000)), np.float64)
  for mu_max, t in expected.items():
    assert mu[t] >= mu_max - 1e-6 > mu[t - 1]
  assert mu_reached_at(config, 0.0) is None
  config.schedule.kind = "rnn"
  assert mu_reached_at(config, 0.99) is None
