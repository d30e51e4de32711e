"""θ for Flax NNX: nj.evaluation_params on nnx.Optimizer's wrapped state.

nnx.Optimizer wraps its optax state's arrays in OptVariable/OptArray, and the model wraps
its parameters in nnx.Param. These tests train the same model twice, once through
nnx.Optimizer and once as a plain optax loop over the same arrays, and require the same θ.
A version that does not unwrap the variables fails with a pytree structure error; one that
unwraps but returns bare arrays fails the structure check; one that ignores the look-ahead
fails the NAG comparison against φ − μv.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import nesterov_jax as nj

pytestmark = pytest.mark.filterwarnings(
  "ignore:.*nnx.State.*:DeprecationWarning"
)  # flax's own, from nnx.state

X = jnp.linspace(-1.0, 1.0, 12).reshape(4, 3)


def _loss(model):
  return jnp.mean((model(X) - 1.0) ** 2)


def _trained(method, steps=5):
  """(model, nnx.Optimizer, the same run in plain optax: (params, opt_state))."""
  model = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
  tx = method(0.1, nj.momentum_schedule(0.99, total_steps=50))
  optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
  params = jax.tree.map(jnp.asarray, nnx.state(model, nnx.Param).to_pure_dict())
  state = tx.init(params)
  graphdef = nnx.graphdef(model)
  for _ in range(steps):
    optimizer.update(model, nnx.grad(_loss)(model))
    grads = jax.grad(lambda p: _loss(nnx.merge(graphdef, p)))(params)
    updates, state = tx.update(grads, state, params)
    params = optax.apply_updates(params, updates)
  return model, optimizer, (params, state)


@pytest.mark.parametrize("method", [nj.nag, nj.cm], ids=["nag", "cm"])
def test_evaluation_params_recovers_theta_from_an_nnx_optimizer_as_from_plain_optax(method):
  model, optimizer, (params, state) = _trained(method)
  stored = nnx.state(model, nnx.Param)
  theta = nj.evaluation_params(stored, optimizer.opt_state)
  assert jax.tree.structure(theta) == jax.tree.structure(stored)  # still nnx.Param leaves
  assert all(
    isinstance(v, nnx.Param)
    for v in jax.tree.leaves(theta, is_leaf=lambda x: isinstance(x, nnx.Variable))
  )
  expected = nj.evaluation_params(params, state)
  np.testing.assert_array_equal(theta.to_pure_dict()["kernel"], expected["kernel"])
  np.testing.assert_array_equal(theta.to_pure_dict()["bias"], expected["bias"])
  moved = not np.array_equal(theta.to_pure_dict()["kernel"], stored.to_pure_dict()["kernel"])
  assert moved == (method is nj.nag)  # NAG's θ = φ − μv differs from φ; CM's is φ


def test_the_recovered_theta_loads_into_a_model_and_is_phi_minus_mu_v():
  model, optimizer, _ = _trained(nj.nag)
  theta = nj.evaluation_params(nnx.state(model, nnx.Param), optimizer.opt_state)
  s = optimizer.opt_state
  phi, v = nnx.state(model, nnx.Param).to_pure_dict(), s.velocity
  np.testing.assert_allclose(
    theta.to_pure_dict()["kernel"],
    phi["kernel"] - s.lookahead.get_value() * v["kernel"].get_value(),
    rtol=1e-6,
  )
  evaluated = nnx.clone(model)
  nnx.update(evaluated, theta)
  np.testing.assert_array_equal(evaluated.kernel[...], theta.to_pure_dict()["kernel"])
  assert float(_loss(evaluated)) != float(_loss(model))
