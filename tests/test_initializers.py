"""Sparse initialization (Section 3) and echo-state initialization (Section 4, Table 4)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nesterov_jax as nj
from nesterov_jax import initializers


@pytest.mark.parametrize("fan_in, fan_out", [(784, 400), (30, 250), (6, 25)])
def test_every_unit_has_exactly_15_incoming_weights(fan_in, fan_out):
  w = nj.sparse_init()(jax.random.key(0), (fan_in, fan_out))
  np.testing.assert_array_equal((np.asarray(w) != 0).sum(axis=0), min(15, fan_in))


def test_sparse_weights_are_unit_gaussians_times_the_scale_on_uniformly_chosen_inputs():
  w = np.asarray(nj.sparse_init(scale=2.0)(jax.random.key(1), (100, 4000)))
  nonzero = w[w != 0]
  assert abs(nonzero.mean()) < 0.05 and abs(nonzero.std() - 2.0) < 0.05
  # Each input is chosen by 15/100 of the units: 600 of 4000, binomial sd ≈ 23.
  chosen = (w != 0).sum(axis=1)
  assert chosen.min() > 600 - 6 * 23 and chosen.max() < 600 + 6 * 23
  tanh = np.asarray(nj.sparse_init(tanh_units=True)(jax.random.key(1), (100, 4000)))
  np.testing.assert_allclose(tanh, 0.25 * w / 2.0, rtol=1e-6)
  assert initializers.TANH_BIAS == 0.5


def spectral_radius(w):
  return np.max(np.abs(np.linalg.eigvals(np.asarray(w, np.float64))))


def test_echo_state_matrix_has_15_per_unit_and_spectral_radius_1_1_also_under_jit_and_vmap():
  init = nj.echo_state_init()
  w = init(jax.random.key(2), (100, 100))
  np.testing.assert_array_equal((np.asarray(w) != 0).sum(axis=0), 15)
  np.testing.assert_allclose(spectral_radius(w), 1.1, rtol=1e-5)
  many = jax.jit(jax.vmap(lambda k: init(k, (100, 100))))(jax.random.split(jax.random.key(3), 3))
  np.testing.assert_allclose([spectral_radius(m) for m in many], 1.1, rtol=1e-5)
  assert not np.allclose(many[0], many[1])


def test_a_degenerate_draw_is_redrawn(monkeypatch):
  draw = initializers._draw
  monkeypatch.setattr(
    initializers,
    "_draw",
    lambda key, n, k: jnp.where(
      jnp.all(key == jax.random.fold_in(jax.random.key(4), 0)), 0.0, draw(key, n, k)
    ),
  )
  w = nj.echo_state_init(spectral_radius_target=0.9)(jax.random.key(4), (20, 20))
  assert np.all(np.isfinite(w)) and np.any(w != 0)
  np.testing.assert_allclose(spectral_radius(w), 0.9, rtol=1e-5)


def test_initializers_reject_shapes_they_cannot_fill():
  with pytest.raises(ValueError, match="square"):
    nj.echo_state_init()(jax.random.key(0), (3, 4))
  with pytest.raises(ValueError, match="fan_in, fan_out"):
    nj.sparse_init()(jax.random.key(0), (3, 4, 5))
