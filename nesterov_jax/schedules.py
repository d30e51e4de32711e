"""The paper's momentum schedules, as optax schedules (functions of the update count).

Every schedule here takes the update count ``t`` (an int or int array) and returns
μ[t] as a float32 array. Its arguments may be traced arrays, so one compiled program
can serve a whole grid of μ_max values under ``jax.vmap``.
"""

from __future__ import annotations

import jax.numpy as jnp
from optax import Schedule


def momentum_schedule(
  mu_max,
  total_steps: int | None = None,
  period: float = 250,
  finetune_steps: int = 1000,
  finetune_momentum: float = 0.9,
) -> Schedule:
  """Eq. 5 of Sutskever et al. (2013), with the low-momentum finetuning of Table 2.

      μ[t] = min(1 − 2^(−1 − log2(⌊t/period⌋ + 1)), μ_max)
           = min(1 − 1 / (2 (⌊t/period⌋ + 1)), μ_max)

  With ``period = 250`` (the paper's), μ[t] first reaches 0.9 at t = 1000, 0.99 at
  t = 12,250, 0.995 at t = 24,750 and 0.999 at t = 124,750. Scaled-down presets pass
  a smaller ``period`` so the schedule keeps its shape over fewer updates.

  When ``total_steps`` is given, the last ``finetune_steps`` updates
  (t ≥ total_steps − finetune_steps) use min(finetune_momentum, μ_max): the paper sets
  μ to 0.9 for the final 1000 updates, and μ_max = 0 (plain SGD) stays 0.

  Args:
    mu_max: the cap μ_max in [0, 1); a float or a (possibly traced) scalar array.
    total_steps: number of updates in the run; enables the finetuning tail.
    period: updates per step of the schedule (250 in the paper); may be fractional
      when a short run compresses the schedule.
    finetune_steps: length of the finetuning tail (1000 in the paper).
    finetune_momentum: μ during the tail (0.9 in the paper).

  Returns:
    An optax schedule: the update count t ↦ μ[t], a float32 array.

  Example:
    >>> import nesterov_jax as nj
    >>> mu = nj.momentum_schedule(mu_max=0.99, total_steps=20_000)
    >>> [round(float(mu(t)), 4) for t in (0, 250, 999, 1000, 12_250, 19_000)]
    [0.5, 0.75, 0.875, 0.9, 0.99, 0.9]
  """
  mu_max = jnp.asarray(mu_max, jnp.float32)

  def schedule(count):
    k = jnp.floor(jnp.asarray(count, jnp.float32) / period)
    mu = jnp.minimum(1.0 - 1.0 / (2.0 * (k + 1.0)), mu_max)
    if total_steps is None:
      return mu
    in_tail = jnp.asarray(count) >= total_steps - finetune_steps
    return jnp.where(in_tail, jnp.minimum(finetune_momentum, mu_max), mu)

  return schedule


def rnn_momentum_schedule(mu0, warmup_steps: int = 1000, warmup_momentum: float = 0.9) -> Schedule:
  """The RNN protocol of Section 4: μ = 0.9 for the first 1000 updates, then μ0.

  Args:
    mu0: the momentum after the warm-up, μ0 ∈ {0, 0.9, 0.98, 0.995} in Table 5; a float
      or a (possibly traced) scalar array.
    warmup_steps: length of the warm-up (1000 in the paper).
    warmup_momentum: μ during the warm-up (0.9 in the paper).

  Returns:
    An optax schedule: the update count t ↦ μ[t], a float32 array.

  Example:
    >>> import nesterov_jax as nj
    >>> mu = nj.rnn_momentum_schedule(mu0=0.995)
    >>> [round(float(mu(t)), 4) for t in (0, 999, 1000)]
    [0.9, 0.9, 0.995]
  """
  mu0 = jnp.asarray(mu0, jnp.float32)

  def schedule(count):
    in_warmup = jnp.asarray(count) < warmup_steps
    return jnp.where(in_warmup, jnp.float32(warmup_momentum), mu0)

  return schedule
