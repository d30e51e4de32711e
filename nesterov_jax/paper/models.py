"""The paper's networks as Flax modules: deep autoencoders (Section 3) and a tanh RNN (Section 4)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from nesterov_jax.initializers import echo_state_init, sparse_init


class Autoencoder(nn.Module):
  """A deep autoencoder of Section 3, sparsely initialized (Martens 2010).

  Encoder ``input → encoder_sizes[0] → … → encoder_sizes[-1]`` (the code), decoder the
  mirror image back to ``output_size``. Hidden units are logistic, the code layer is
  linear; the module returns the output layer's pre-activation, which the task turns
  into logistic outputs (Curves, MNIST) or uses as linear outputs (Faces).
  """

  encoder_sizes: Sequence[int]
  output_size: int
  num_connections: int = 15

  @nn.compact
  def __call__(self, x_BxD: jax.Array) -> jax.Array:
    sizes = [*self.encoder_sizes, *reversed(self.encoder_sizes[:-1]), self.output_size]
    code_layer = len(self.encoder_sizes) - 1
    h = x_BxD
    for i, size in enumerate(sizes):
      self.sow("layer_inputs", f"h{i}", h)  # for per-case gradients (no-op unless mutable)
      h = nn.Dense(size, kernel_init=sparse_init(self.num_connections), name=f"dense{i}")(h)
      h = self.perturb(f"z{i}", h)  # ∂loss/∂(pre-activation) (no-op unless passed)
      if i != code_layer and i != len(sizes) - 1:
        h = nn.sigmoid(h)
    return h


def dense_squared_gradients(model: nn.Module, params, inputs: jax.Array, per_case_loss_sum) -> dict:
  """mean_i (∂ℓ_i/∂θ)² for every Dense layer's kernel and bias, at the cost of one gradient.

  For a Dense layer z = h W + b, case i's gradient is h_iᵀ δ_i (δ_i = ∂ℓ_i/∂z_i), so
  Σ_i (h_iᵀδ_i)² = (h²)ᵀ(δ²) elementwise: one matmul, where per-case gradients through
  ``vmap`` would materialize [cases, in, out]. ``model`` must name its Dense layers
  ``dense{i}``, ``sow`` each one's input into "layer_inputs" as ``h{i}`` and ``perturb`` its
  output as ``z{i}`` (as :class:`Autoencoder` does); ``per_case_loss_sum(outputs)`` is Σ_i ℓ_i.
  """
  _, sown = model.apply({"params": params}, inputs, mutable=["layer_inputs", "perturbations"])
  perturbations = sown["perturbations"]

  def loss(perturbations):
    outputs, inner = model.apply(
      {"params": params, "perturbations": perturbations}, inputs, mutable=["layer_inputs"]
    )
    return per_case_loss_sum(outputs), inner["layer_inputs"]

  deltas, layer_inputs = jax.grad(loss, has_aux=True)(perturbations)
  n = inputs.shape[0]
  out = {}
  for name, delta in deltas.items():
    (h,) = layer_inputs["h" + name[1:]]
    out["dense" + name[1:]] = {
      "kernel": (h * h).T @ (delta * delta) / n,
      "bias": jnp.sum(delta * delta, axis=0) / n,
    }
  return out


def _hidden_states(x_TxBxI, w_ih, b_h, w_hh, unroll: int = 1):
  """h[t] = tanh(W_ih x[t] + W_hh h[t−1] + b_h) from h[0] = 0, every step, as [T, H, B].

  The state is carried transposed, hᵀ of shape [H, B]: then the recurrence's product and both
  of the backward pass's (see :func:`tanh_recurrence`) are plain or B-transposed matrix
  products, which XLA's CPU backend runs on its fast path, where the [B, H] layout's weight
  gradient Σ h[t−1]ᵀ δ[t] is an A-transposed product it runs several times slower.
  """
  inputs_TxHxB = jnp.einsum("tbi,ih->thb", x_TxBxI, w_ih) + b_h[:, None]
  w_hh_T = w_hh.T

  def step(h_HxB, input_HxB):
    h_HxB = jnp.tanh(input_HxB + w_hh_T @ h_HxB)
    return h_HxB, h_HxB

  h0 = jnp.zeros(inputs_TxHxB.shape[1:], inputs_TxHxB.dtype)
  return jax.lax.scan(step, h0, inputs_TxHxB, unroll=unroll)[1]


@functools.partial(jax.custom_vjp, nondiff_argnums=(4, 5))
def tanh_recurrence(x_TxBxI, w_ih, b_h, w_hh, num_outputs: int, unroll: int = 1):
  """The last ``num_outputs`` hidden states of the tanh recurrence, [num_outputs, B, H].

  Its gradient is backpropagation through time written out: one backward scan that carries
  δ = ∂loss/∂h and accumulates the weight and bias gradients step by step,

      δz[t] = δh[t] ⊙ (1 − h[t]²),   δh[t−1] = W_hh δz[t] (+ the loss's own ∂/∂h[t−1]),
      ∂W_hh += h[t−1] δz[t]ᵀ,   ∂W_ih += x[t] δz[t]ᵀ,   ∂b_h += Σ_batch δz[t],

  saving only the hidden states (autodiff through ``lax.scan`` saves three [T, B, H] arrays
  per step and stacks δz for the input weights). The same gradient up to float rounding,
  and faster (``nesterov-jax bench``; results/README.md gives the figures). Reverse mode
  only: JAX refuses a forward-mode product (``jax.jvp``, Gauss-Newton's G·v) through it.
  """
  hidden_TxHxB = _hidden_states(x_TxBxI, w_ih, b_h, w_hh, unroll)
  return jnp.swapaxes(hidden_TxHxB[-num_outputs:], 1, 2)


def _recurrence_fwd(x_TxBxI, w_ih, b_h, w_hh, num_outputs, unroll):
  hidden_TxHxB = _hidden_states(x_TxBxI, w_ih, b_h, w_hh, unroll)
  return jnp.swapaxes(hidden_TxHxB[-num_outputs:], 1, 2), (x_TxBxI, w_ih, w_hh, hidden_TxHxB)


def _recurrence_bwd(num_outputs, unroll, residuals, g_NxBxH):
  x_TxBxI, w_ih, w_hh, hidden_TxHxB = residuals
  length = hidden_TxHxB.shape[0]
  g_NxHxB = jnp.swapaxes(g_NxBxH, 1, 2)
  previous_TxHxB = jnp.concatenate([jnp.zeros_like(hidden_TxHxB[:1]), hidden_TxHxB[:-1]])

  def step(carry, inputs):
    dh_HxB, dw_hh, dw_ih, db_h = carry
    t, h_HxB, h_prev_HxB, x_BxI = inputs
    k = t - (length - num_outputs)  # the output step this is, if it is one
    dh_HxB = dh_HxB + jnp.where(k >= 0, g_NxHxB[jnp.maximum(k, 0)], 0.0)
    dz_HxB = dh_HxB * (1.0 - h_HxB * h_HxB)
    return (
      w_hh @ dz_HxB,
      dw_hh + h_prev_HxB @ dz_HxB.T,
      dw_ih + x_BxI.T @ dz_HxB.T,
      db_h + jnp.sum(dz_HxB, axis=1),
    ), None

  zero = jnp.zeros_like(hidden_TxHxB[0])
  init = (zero, jnp.zeros_like(w_hh), jnp.zeros_like(w_ih), jnp.zeros(w_hh.shape[:1], w_hh.dtype))
  (_, dw_hh, dw_ih, db_h), _ = jax.lax.scan(
    step,
    init,
    (jnp.arange(length), hidden_TxHxB, previous_TxHxB, x_TxBxI),
    reverse=True,
    unroll=unroll,
  )
  # The inputs are data: their cotangent is never used, so it is not computed.
  return jnp.zeros_like(x_TxBxI), dw_ih, db_h, dw_hh


tanh_recurrence.defvjp(_recurrence_fwd, _recurrence_bwd)


def autodiff_tanh_recurrence(x_TxBxI, w_ih, b_h, w_hh, num_outputs: int, unroll: int = 1):
  """:func:`tanh_recurrence` as first written: the [B, H] layout, differentiated by JAX's
  autodiff through ``lax.scan``. Kept as the benchmark's "before" and the tests' reference."""
  inputs_TxBxH = x_TxBxI @ w_ih + b_h

  def step(h_BxH, input_BxH):
    h_BxH = jnp.tanh(input_BxH + h_BxH @ w_hh)
    return h_BxH, h_BxH

  h0 = jnp.zeros(x_TxBxI.shape[1:2] + (w_hh.shape[0],), x_TxBxI.dtype)
  return jax.lax.scan(step, h0, inputs_TxBxH, unroll=unroll)[1][-num_outputs:]


RECURRENCES = {"through_time": tanh_recurrence, "autodiff": autodiff_tanh_recurrence}


class TanhRNN(nn.Module):
  """The tanh RNN of Section 4: h[t] = tanh(W_ih x[t] + W_hh h[t−1] + b_h), h[0] = 0.

  Initialization follows Table 4: input weights ``input_scale`` · N(0, 1) (dense),
  hidden-to-hidden echo-state (15 incoming per unit, spectral radius 1.1), output
  weights 0.1 · N(0, 1), hidden bias 0, output bias ``output_bias`` (the task passes the
  average target). Outputs are read at the last ``num_outputs`` time steps.

  The input projection of every time step is one product before the recurrence, so the
  scan carries only the [H, H] × [H, B] product; ``unroll`` unrolls the scan, and the
  gradient is :func:`tanh_recurrence`'s (``gradient = "autodiff"``: the slower
  :func:`autodiff_tanh_recurrence`, the benchmark's reference).
  """

  output_size: int
  num_outputs: int = 1
  hidden_size: int = 100
  input_scale: float = 0.001
  output_scale: float = 0.1
  output_bias: float | Sequence[float] = 0.0
  num_connections: int = 15
  spectral_radius: float = 1.1
  unroll: int = 1
  gradient: str = "through_time"

  @nn.compact
  def __call__(self, x_TxBxI: jax.Array, return_hidden: bool = False):
    num_inputs = x_TxBxI.shape[-1]
    normal = jax.nn.initializers.normal
    w_ih = self.param("w_ih", normal(self.input_scale), (num_inputs, self.hidden_size))
    w_hh = self.param(
      "w_hh",
      echo_state_init(self.spectral_radius, self.num_connections),
      (self.hidden_size, self.hidden_size),
    )
    b_h = self.param("b_h", nn.initializers.zeros, (self.hidden_size,))
    w_ho = self.param("w_ho", normal(self.output_scale), (self.hidden_size, self.output_size))
    b_o = self.param(
      "b_o",
      lambda key, shape: jnp.broadcast_to(jnp.asarray(self.output_bias, jnp.float32), shape),
      (self.output_size,),
    )

    if return_hidden:  # every step's state, for pictures of the dynamics
      hidden_TxBxH = jnp.swapaxes(_hidden_states(x_TxBxI, w_ih, b_h, w_hh, self.unroll), 1, 2)
      return hidden_TxBxH[-self.num_outputs :] @ w_ho + b_o, hidden_TxBxH
    hidden_NxBxH = RECURRENCES[self.gradient](
      x_TxBxI, w_ih, b_h, w_hh, self.num_outputs, self.unroll
    )
    return hidden_NxBxH @ w_ho + b_o
