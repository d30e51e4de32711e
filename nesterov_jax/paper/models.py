"""The paper's networks as Flax modules: deep autoencoders (Section 3) and a tanh RNN (Section 4)."""

from __future__ import annotations

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
    outputs, inner = model.apply({"params": params, "perturbations": perturbations}, inputs,
                                 mutable=["layer_inputs"])
    return per_case_loss_sum(outputs), inner["layer_inputs"]

  deltas, layer_inputs = jax.grad(loss, has_aux=True)(perturbations)
  n = inputs.shape[0]
  out = {}
  for name, delta in deltas.items():
    (h,) = layer_inputs["h" + name[1:]]
    out["dense" + name[1:]] = {"kernel": (h * h).T @ (delta * delta) / n, "bias": jnp.sum(delta * delta, axis=0) / n}
  return out


class TanhRNN(nn.Module):
  """The tanh RNN of Section 4: h[t] = tanh(W_ih x[t] + W_hh h[t−1] + b_h), h[0] = 0.

  Initialization follows Table 4: input weights ``input_scale`` · N(0, 1) (dense),
  hidden-to-hidden echo-state (15 incoming per unit, spectral radius 1.1), output
  weights 0.1 · N(0, 1), hidden bias 0, output bias ``output_bias`` (the task passes the
  average target). Outputs are read at the last ``num_outputs`` time steps.

  The input projection of every time step is one matmul before the recurrence, so the
  scan carries only the [B, H] × [H, H] product; ``unroll`` unrolls the scan.
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

  @nn.compact
  def __call__(self, x_TxBxI: jax.Array, return_hidden: bool = False):
    num_inputs = x_TxBxI.shape[-1]
    normal = jax.nn.initializers.normal
    w_ih = self.param("w_ih", normal(self.input_scale), (num_inputs, self.hidden_size))
    w_hh = self.param("w_hh", echo_state_init(self.spectral_radius, self.num_connections),
                      (self.hidden_size, self.hidden_size))
    b_h = self.param("b_h", nn.initializers.zeros, (self.hidden_size,))
    w_ho = self.param("w_ho", normal(self.output_scale), (self.hidden_size, self.output_size))
    b_o = self.param("b_o", lambda key, shape: jnp.broadcast_to(jnp.asarray(self.output_bias, jnp.float32), shape),
                     (self.output_size,))

    inputs_TxBxH = x_TxBxI @ w_ih + b_h

    def step(h_BxH, input_BxH):
      h_BxH = jnp.tanh(input_BxH + h_BxH @ w_hh)
      return h_BxH, h_BxH

    h0 = jnp.zeros(x_TxBxI.shape[1:2] + (self.hidden_size,), x_TxBxI.dtype)
    _, hidden_TxBxH = jax.lax.scan(step, h0, inputs_TxBxH, unroll=self.unroll)
    outputs = hidden_TxBxH[-self.num_outputs:] @ w_ho + b_o
    return (outputs, hidden_TxBxH) if return_hidden else outputs
