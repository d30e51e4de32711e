"""The paper's initializations: sparse (Section 3, Martens 2010) and echo-state (Section 4, Table 4).

Both are ordinary JAX initializers ``init(key, shape, dtype) -> array`` for a
``(fan_in, fan_out)`` kernel (Flax's layout: inputs along rows), usable as a Flax
``kernel_init``.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

# Section 3: "For tanh units: weights × 0.25 and biases 0.5" (Martens 2010).
TANH_WEIGHT_SCALE = 0.25
TANH_BIAS = 0.5


def _sparse_mask(key: chex.PRNGKey, fan_in: int, fan_out: int, num_connections: int) -> chex.Array:
  """[fan_in, fan_out] booleans: each column has exactly min(k, fan_in) distinct True rows."""
  k = min(num_connections, fan_in)
  scores = jax.random.uniform(key, (fan_in, fan_out))
  # The k rows with the smallest scores in each column: a uniform k-subset of the inputs.
  ranks = jnp.argsort(jnp.argsort(scores, axis=0), axis=0)
  return ranks < k


def sparse_init(num_connections: int = 15, scale: float = 1.0, tanh_units: bool = False):
  """Sparse initialization (Martens 2010), as used for the autoencoders of Section 3.

  Every output unit gets exactly min(``num_connections``, fan_in) incoming connections
  from distinct, uniformly chosen input units, with weights N(0, 1) × ``scale``; all
  other weights are 0. With ``tanh_units`` the weights are further × 0.25 (the paper's
  variant for tanh units; pair it with biases of 0.5, :data:`TANH_BIAS`). Table 3
  sweeps ``scale`` over {0.25, 0.5, 1, 2, 4}.

  Args:
    num_connections: incoming connections per unit (15 in the paper).
    scale: the factor on the N(0, 1) weights (Table 3's sweep).
    tanh_units: multiply the weights by 0.25, for tanh layers.

  Returns:
    A flax/jax initializer ``init(key, shape, dtype)`` for a (fan_in, fan_out) kernel.

  Example:
    >>> import jax, nesterov_jax as nj
    >>> w = nj.sparse_init()(jax.random.key(0), (100, 8))
    >>> (w != 0).sum(axis=0).tolist()  # exactly 15 incoming weights per unit
    [15, 15, 15, 15, 15, 15, 15, 15]

  References:
    Martens (2010), Deep learning via Hessian-free optimization, Section 5.
  """
  weight_scale = scale * (TANH_WEIGHT_SCALE if tanh_units else 1.0)

  def init(key, shape, dtype=jnp.float32):
    if len(shape) != 2:
      raise ValueError(f"sparse_init expects a (fan_in, fan_out) kernel; got shape {shape}")
    key_mask, key_values = jax.random.split(key)
    mask = _sparse_mask(key_mask, shape[0], shape[1], num_connections)
    values = jax.random.normal(key_values, shape, jnp.float32) * weight_scale
    return jnp.where(mask, values, 0.0).astype(dtype)

  return init


def echo_state_init(spectral_radius_target: float = 1.1, num_connections: int = 15):
  """Echo-state-inspired hidden-to-hidden initialization of Section 4 (Table 4).

  Each hidden unit gets exactly min(``num_connections``, n) incoming weights N(0, 1) from
  distinct units, all others 0; the matrix is then rescaled so that its spectral radius
  (the largest absolute eigenvalue) equals ``spectral_radius_target`` (1.1 in the paper).

  A draw whose spectral radius is (numerically) zero cannot be rescaled. With at least
  one connection per unit the connection graph always has a cycle, so this needs
  weights that vanish; the draw is then repeated with the next key (up to 16 times)
  before the result is NaN, which the sweep engine reports as a diverged point.

  Args:
    spectral_radius_target: the spectral radius after rescaling (1.1 in the paper).
    num_connections: incoming connections per unit (15 in the paper).

  Returns:
    An initializer ``init(key, shape, dtype)`` for a square hidden-to-hidden kernel.

  Example:
    >>> import jax, numpy as np, nesterov_jax as nj
    >>> w = nj.echo_state_init()(jax.random.key(0), (100, 100))
    >>> round(float(np.abs(np.linalg.eigvals(np.asarray(w))).max()), 3)
    1.1

  References:
    Jaeger and Haas (2004), Harnessing nonlinearity, Science 304; Sutskever et al. (2013), Table 4.
  """

  def init(key, shape, dtype=jnp.float32):
    if len(shape) != 2 or shape[0] != shape[1]:
      raise ValueError(f"echo_state_init expects a square kernel; got shape {shape}")
    n = shape[0]

    def retry(carry):
      attempt, _, _ = carry
      w = _draw(jax.random.fold_in(key, attempt), n, num_connections)
      return attempt + 1, w, _radius(w)

    def degenerate(carry):
      attempt, _, radius = carry
      return (radius < 1e-6) & (attempt < 16)

    w0 = _draw(jax.random.fold_in(key, 0), n, num_connections)
    _, w, radius = jax.lax.while_loop(degenerate, retry, (1, w0, _radius(w0)))
    radius = jnp.where(radius < 1e-6, jnp.nan, radius)
    return (w * (spectral_radius_target / radius)).astype(dtype)

  return init


def _draw(key: chex.PRNGKey, n: int, num_connections: int) -> chex.Array:
  key_mask, key_values = jax.random.split(key)
  mask = _sparse_mask(key_mask, n, n, num_connections)
  return jnp.where(mask, jax.random.normal(key_values, (n, n)), 0.0)


def _radius(matrix: chex.Array) -> chex.Array:
  """Spectral radius, computed on the host: XLA has no non-symmetric eigensolver on GPUs."""
  host = lambda m: np.float32(np.max(np.abs(np.linalg.eigvals(np.asarray(m, np.float64)))))
  return jax.pure_callback(
    host, jax.ShapeDtypeStruct((), jnp.float32), matrix, vmap_method="sequential"
  )
