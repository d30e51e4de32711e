"""CM and NAG jitted and not (chex.variants): the same formulas as test_momentum.py, in
chex's test-case style, which chex.variants needs. test_momentum.py holds the pytest-style tests."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl.testing import parameterized
from test_momentum import (
  STEPS,
  eps_schedule,
  eq5,
  literal_two_point,
  mlp_problem,
  our_transformation,
)

import nesterov_jax as nj
from nesterov_jax.paper import quadratics


class TrajectoryTest(chex.TestCase):
  """The optimizers' trajectories against the formulas, jitted and not."""

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product(method=["cm", "nag"], mu_max=[0.0, 0.9, 0.99])
  def test_trajectory_equals_literal_formulas_on_a_random_quadratic(self, method, mu_max):
    problem = quadratics.random_quadratic(jax.random.key(0), dim=8, condition_number=50.0)
    theta0 = jax.random.normal(jax.random.key(1), (8,))
    ours, _ = self.variant(
      lambda p: quadratics.optimize(our_transformation(method, mu_max), problem.loss, p, STEPS)
    )(theta0)
    hessian = np.asarray(problem.hessian, np.float64)
    expected, _ = literal_two_point(
      method, lambda x: hessian @ x, theta0, eps_schedule, lambda t: eq5(t, mu_max), STEPS
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters("cm", "nag")
  def test_one_update_keeps_the_parameters_shapes_and_dtypes(self, method):
    params, loss = mlp_problem()
    params = dict(params, b2=params["b2"].astype(jnp.bfloat16))  # a mixed-precision tree
    opt = (nj.nag if method == "nag" else nj.cm)(0.1, nj.momentum_schedule(0.99, period=5))
    state = opt.init(params)
    grads = jax.grad(lambda p: loss(jax.tree.map(lambda x: x.astype(jnp.float32), p)))(params)
    updates, new_state = self.variant(opt.update)(grads, state, params)
    chex.assert_trees_all_equal_shapes_and_dtypes(updates, params)
    chex.assert_trees_all_equal_shapes_and_dtypes(new_state.velocity, params)
    chex.assert_trees_all_equal_shapes_and_dtypes(new_state, state)
    chex.assert_trees_all_equal_shapes_and_dtypes(nj.evaluation_params(params, new_state), params)


class JitAgreementTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True)
  def test_jit_and_no_jit_agree(self):
    params, loss = mlp_problem()
    opt = nj.nag(optax.linear_schedule(0.1, 0.01, 50), nj.momentum_schedule(0.99, period=5))

    @self.variant
    def step(p, s):
      updates, s = opt.update(jax.grad(loss)(p), s, p)
      p = optax.apply_updates(p, updates)
      return p, s, nj.evaluation_params(p, s)

    p, s = params, opt.init(params)
    for _ in range(30):
      p, s, theta = step(p, s)
    reference, _ = jax.jit(lambda q: quadratics.optimize(opt, loss, q, 30))(params)
    chex.assert_trees_all_close(
      theta, jax.tree.map(lambda x: x[-1], reference), rtol=1e-5, atol=1e-6
    )
