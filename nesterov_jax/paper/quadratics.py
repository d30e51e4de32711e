"""Quadratic objectives f(θ) = ½ θᵀAθ and a scanned optimizer loop, for Section 2's analysis.

Theorem 2.1 of the paper is a statement about quadratics: in the eigenbasis of A, one NAG
step is one CM step with momentum μ(1 − λ_i ε). These helpers build such problems and run
any optax transformation on them, reporting errors at the paper's iterate θ.
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax

from nesterov_jax.momentum import evaluation_params


class Quadratic(NamedTuple):
  """f(θ) = ½ θᵀAθ with A = Q diag(eigenvalues) Qᵀ; the minimum is f(0) = 0."""

  hessian: chex.Array  # A, [D, D]
  eigenvalues: chex.Array  # λ_i, [D], ascending
  eigenvectors: chex.Array  # Q, [D, D], columns are eigen-directions

  def loss(self, theta: chex.Array) -> chex.Array:
    return 0.5 * theta @ self.hessian @ theta


def quadratic_from_eigenvalues(
  eigenvalues: chex.Array, rotation: chex.Array | None = None
) -> Quadratic:
  """A quadratic with the given spectrum, in the given orthonormal basis (identity if None)."""
  eigenvalues = jnp.sort(jnp.asarray(eigenvalues, jnp.float32))
  q = jnp.eye(eigenvalues.shape[0]) if rotation is None else rotation
  hessian = (q * eigenvalues) @ q.T
  return Quadratic(0.5 * (hessian + hessian.T), eigenvalues, q)


def random_rotation(key: chex.PRNGKey, dim: int) -> chex.Array:
  """A Haar-random orthonormal matrix (QR of a Gaussian matrix with the sign fix)."""
  q, r = jnp.linalg.qr(jax.random.normal(key, (dim, dim)))
  return q * jnp.sign(jnp.diag(r))


def random_quadratic(key: chex.PRNGKey, dim: int, condition_number: float) -> Quadratic:
  """Eigenvalues log-spaced in [1/condition_number, 1], in a random rotation."""
  eigenvalues = jnp.logspace(-jnp.log10(condition_number), 0.0, dim)
  return quadratic_from_eigenvalues(eigenvalues, random_rotation(key, dim))


def optimize(
  transformation: optax.GradientTransformation,
  loss_fn,
  params: optax.Params,
  num_steps: int,
) -> tuple[optax.Params, chex.Array]:
  """Runs ``num_steps`` updates with ``lax.scan``; gradients at the stored parameters.

  Returns:
    The paper's iterate θ (via :func:`evaluation_params`) at t = 0 .. num_steps, stacked
    on a leading axis, and ``loss_fn`` at each of them.
  """
  grad_fn = jax.grad(loss_fn)

  def step(carry, _):
    stored, state = carry
    updates, state = transformation.update(grad_fn(stored), state, stored)
    stored = optax.apply_updates(stored, updates)
    theta = evaluation_params(stored, state)
    return (stored, state), theta

  _, thetas = jax.lax.scan(step, (params, transformation.init(params)), length=num_steps)
  thetas = jax.tree.map(lambda p0, ps: jnp.concatenate([p0[None], ps]), params, thetas)
  return thetas, jax.vmap(loss_fn)(thetas)
