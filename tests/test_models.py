"""The Flax networks: the autoencoders' architectures and the tanh RNN's recurrence."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nesterov_jax.paper.models import (
  Autoencoder,
  TanhRNN,
  autodiff_tanh_recurrence,
  tanh_recurrence,
)


def test_mnist_autoencoder_is_784_1000_500_250_30_mirrored_with_sparse_layers():
  model = Autoencoder((1000, 500, 250, 30), 784)
  params = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 784)))["params"]
  shapes = [params[f"dense{i}"]["kernel"].shape for i in range(8)]
  assert shapes == [
    (784, 1000),
    (1000, 500),
    (500, 250),
    (250, 30),
    (30, 250),
    (250, 500),
    (500, 1000),
    (1000, 784),
  ]


def test_autoencoder_units_logistic_hidden_linear_code_and_raw_output():
  model = Autoencoder((8, 3), 5, num_connections=15)
  params = model.init(jax.random.key(1), jnp.zeros((1, 5)))["params"]
  x = jax.random.uniform(jax.random.key(2), (4, 5))
  p = jax.tree.map(np.asarray, params)
  h1 = 1 / (1 + np.exp(-(x @ p["dense0"]["kernel"] + p["dense0"]["bias"])))
  code = h1 @ p["dense1"]["kernel"] + p["dense1"]["bias"]  # linear code layer
  h3 = 1 / (1 + np.exp(-(code @ p["dense2"]["kernel"] + p["dense2"]["bias"])))
  out = h3 @ p["dense3"]["kernel"] + p["dense3"]["bias"]  # pre-activation
  np.testing.assert_allclose(model.apply({"params": params}, x), out, rtol=1e-5, atol=1e-6)
  assert all((np.asarray(params[f"dense{i}"]["bias"]) == 0).all() for i in range(4))


def test_tanh_rnn_equals_the_recurrence_written_out_and_starts_from_table_4():
  model = TanhRNN(output_size=2, num_outputs=3, hidden_size=16, output_bias=0.5)
  x = jax.random.normal(jax.random.key(3), (12, 4, 5))
  params = model.init(jax.random.key(4), x)["params"]
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
  h = np.zeros((4, 16))
  hs = []
  for t in range(12):
    h = np.tanh(x[t] @ p["w_ih"] + h @ p["w_hh"] + p["b_h"])
    hs.append(h)
  expected = np.stack(hs[-3:]) @ p["w_ho"] + p["b_o"]
  outputs, hidden = model.apply({"params": params}, x, return_hidden=True)
  np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(hidden, np.stack(hs), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(p["b_o"], 0.5)
  np.testing.assert_allclose(np.max(np.abs(np.linalg.eigvals(p["w_hh"]))), 1.1, rtol=1e-5)


def test_tanh_rnn_input_and_output_weights_have_table_4s_scales():
  # 400 units and 50 inputs: 20,000 weights each way, so the sample std is within ~1% of the
  # scale (a tenfold or a square-root error in a scale is far outside 3%).
  model = TanhRNN(output_size=50, hidden_size=400, input_scale=0.001, output_scale=0.1)
  params = model.init(jax.random.key(5), jnp.zeros((3, 1, 50)))["params"]
  np.testing.assert_allclose(np.std(params["w_ih"]), 0.001, rtol=0.03)
  np.testing.assert_allclose(np.std(params["w_ho"]), 0.1, rtol=0.03)
  assert abs(np.mean(params["w_ih"])) < 3 * 0.001 / np.sqrt(20_000) * 3


@pytest.mark.parametrize("num_outputs, num_inputs", [(1, 2), (3, 5)])
def test_tanh_recurrence_backpropagates_through_time_as_autodiff_through_the_scan_does(
  num_outputs, num_inputs
):
  # The hand-written backward pass (one reverse scan accumulating ∂W_hh, ∂W_ih, ∂b_h) against
  # jax.grad through the recurrence's lax.scan; a wrong tanh derivative, a step off by one in
  # h[t−1], or a cotangent injected at the wrong output step each break it.
  k = jax.random.split(jax.random.key(num_outputs), 5)
  x = jax.random.normal(k[0], (12, 4, num_inputs))
  w_ih, b_h = 0.5 * jax.random.normal(k[1], (num_inputs, 16)), 0.1 * jax.random.normal(k[2], (16,))
  w_hh = 0.3 * jax.random.normal(k[3], (16, 16))
  weights = jax.random.normal(k[4], (num_outputs, 4, 16))  # a loss that reads every output step

  def written_out(w_ih, b_h, w_hh):
    return jnp.sum(autodiff_tanh_recurrence(x, w_ih, b_h, w_hh, num_outputs) * weights)

  def ours(w_ih, b_h, w_hh):
    return jnp.sum(tanh_recurrence(x, w_ih, b_h, w_hh, num_outputs, 4) * weights)

  with jax.default_matmul_precision("highest"):
    expected = jax.grad(written_out, argnums=(0, 1, 2))(w_ih, b_h, w_hh)
    got = jax.jit(jax.grad(ours, argnums=(0, 1, 2)))(w_ih, b_h, w_hh)
  chex.assert_trees_all_close(got, expected, rtol=1e-5, atol=1e-6)
  chex.assert_trees_all_equal_shapes_and_dtypes(got, expected)
