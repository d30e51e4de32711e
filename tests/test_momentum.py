"""CM and NAG follow the paper's two-point formulas exactly, under any schedules (Section 2)."""

import chex
import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import nesterov_jax as nj
from nesterov_jax.paper import quadratics

STEPS = 200
PERIOD = 10  # the schedule's 250-update period, scaled so μ changes within 200 steps


def eq5(t, mu_max, period=PERIOD):
  return min(1.0 - 1.0 / (2.0 * (t // period + 1)), mu_max)


def eps_schedule(t):
  return 0.1 * 0.99**t


def literal_two_point(method, grad, theta0, eps_fn, mu_fn, steps):
  """The paper's formulas written out in float64: v ← μv − ε∇f(θ [+ μv]); θ ← θ + v."""
  theta, v = np.asarray(theta0, np.float64), np.zeros(np.shape(theta0))
  thetas, velocities = [theta], [v]
  for t in range(steps):
    mu, eps = mu_fn(t), eps_fn(t)
    point = theta + mu * v if method == "nag" else theta
    v = mu * v - eps * np.asarray(grad(point), np.float64)
    theta = theta + v
    thetas.append(theta)
    velocities.append(v)
  return np.stack(thetas), np.stack(velocities)


def our_transformation(method, mu_max):
  lr = optax.exponential_decay(0.1, transition_steps=1, decay_rate=0.99)
  factory = nj.nag if method == "nag" else nj.cm
  return factory(lr, nj.momentum_schedule(mu_max, period=PERIOD))


def mlp_problem():
  k1, k2, k3, k4 = jax.random.split(jax.random.key(2), 4)
  params = {
    "w1": 0.5 * jax.random.normal(k1, (4, 16)),
    "b1": jnp.zeros(16),
    "w2": 0.5 * jax.random.normal(k2, (16, 2)),
    "b2": jnp.zeros(2),
  }
  x, y = jax.random.normal(k3, (32, 4)), jax.random.normal(k4, (32, 2))

  def loss(p):
    h = jnp.tanh(x @ p["w1"] + p["b1"])
    return jnp.mean(jnp.sum((h @ p["w2"] + p["b2"] - y) ** 2, axis=-1))

  return params, loss


@pytest.mark.parametrize("method", ["cm", "nag"])
def test_trajectory_equals_literal_formulas_on_a_small_mlp(method):
  params, loss = mlp_problem()
  flat0, unravel = jax.flatten_util.ravel_pytree(params)
  ours, losses = jax.jit(
    lambda p: quadratics.optimize(our_transformation(method, 0.99), loss, p, STEPS)
  )(params)
  flat_grad = jax.jit(lambda f: jax.flatten_util.ravel_pytree(jax.grad(loss)(unravel(f)))[0])
  expected, _ = literal_two_point(
    method,
    lambda f: flat_grad(jnp.asarray(f, jnp.float32)),
    flat0,
    eps_schedule,
    lambda t: eq5(t, 0.99),
    STEPS,
  )
  ours_flat = jax.vmap(lambda p: jax.flatten_util.ravel_pytree(p)[0])(ours)
  assert losses[-1] < 0.5 * losses[0]  # the run actually trains
  np.testing.assert_allclose(ours_flat, expected, rtol=1e-3, atol=1e-4)


def run_optax(transformation, grad, params, steps):
  state = transformation.init(params)
  trajectory = [params]
  for _ in range(steps):
    updates, state = transformation.update(grad(params), state, params)
    params = optax.apply_updates(params, updates)
    trajectory.append(params)
  return jnp.stack(trajectory), state


@pytest.fixture(scope="module")
def quad():
  problem = quadratics.random_quadratic(jax.random.key(3), dim=6, condition_number=20.0)
  return problem, jax.jit(jax.grad(problem.loss)), jax.random.normal(jax.random.key(4), (6,))


def test_constant_hyperparameters_nag_stored_params_equal_optax_sgd_nesterov(quad):
  _, grad, theta0 = quad
  ours, _ = run_optax(nj.nag(0.2, 0.95), grad, theta0, STEPS)
  reference, _ = run_optax(optax.sgd(0.2, momentum=0.95, nesterov=True), grad, theta0, STEPS)
  np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


def test_constant_hyperparameters_cm_theta_equals_optax_sgd_momentum(quad):
  _, grad, theta0 = quad
  ours, _ = run_optax(nj.cm(0.2, 0.95), grad, theta0, STEPS)
  reference, _ = run_optax(optax.sgd(0.2, momentum=0.95), grad, theta0, STEPS)
  np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


def test_under_a_learning_rate_schedule_optax_rescales_past_velocity(quad):
  # optax keeps Σ μ^k g and multiplies by the current ε, so after one step with ε0 and one
  # with ε1 the paper's CM sits at optax's position − μ (ε0 − ε1) ∇f(θ0).
  _, grad, theta0 = quad
  eps0, eps1, mu = 0.2, 0.05, 0.9
  lr = lambda t: jnp.where(t == 0, eps0, eps1)
  ours, _ = run_optax(nj.cm(lr, mu), grad, theta0, 2)
  reference, _ = run_optax(optax.sgd(lr, momentum=mu), grad, theta0, 2)
  np.testing.assert_allclose(ours[1], reference[1], rtol=1e-6)
  np.testing.assert_allclose(
    ours[2] - reference[2], -mu * (eps0 - eps1) * grad(theta0), rtol=1e-4, atol=1e-7
  )
  long_ours, _ = run_optax(nj.cm(optax.exponential_decay(0.2, 20, 0.5), mu), grad, theta0, STEPS)
  long_ref, _ = run_optax(
    optax.sgd(optax.exponential_decay(0.2, 20, 0.5), momentum=mu), grad, theta0, STEPS
  )
  assert np.max(np.abs(long_ours - long_ref)) > 1e-3


def test_under_a_momentum_schedule_optax_nesterov_uses_mu_t_where_mu_t_plus_1_is_needed(quad):
  # One step from rest: ours moves to φ1 = θ0 + (1 + μ1) v1, optax to θ0 + (1 + μ0) v1,
  # a difference of (μ1 − μ0) v1 with v1 = −ε ∇f(θ0).
  _, grad, theta0 = quad
  eps = 0.1
  schedule = nj.momentum_schedule(0.99, period=1)  # μ0 = 0.5, μ1 = 0.75
  ours, _ = run_optax(nj.nag(eps, schedule), grad, theta0, 1)
  reference, _ = run_optax(
    optax.inject_hyperparams(optax.sgd)(learning_rate=eps, momentum=schedule, nesterov=True),
    grad,
    theta0,
    1,
  )
  np.testing.assert_allclose(
    ours[1] - reference[1], (0.75 - 0.5) * -eps * grad(theta0), rtol=1e-4, atol=1e-7
  )


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(
  seed=st.integers(0, 2**30), mu=st.floats(0.0, 0.999), eps_lambda_max=st.floats(0.01, 1.9)
)
def test_theorem_2_1_nag_step_is_cm_step_with_momentum_mu_times_one_minus_lambda_eps(
  seed, mu, eps_lambda_max
):
  dim = 5
  keys = jax.random.split(jax.random.key(seed), 4)
  eigenvalues = jnp.sort(jax.random.uniform(keys[0], (dim,), minval=0.05, maxval=1.0))
  problem = quadratics.quadratic_from_eigenvalues(
    eigenvalues, quadratics.random_rotation(keys[1], dim)
  )
  eps = eps_lambda_max / float(eigenvalues[-1])
  theta, v = jax.random.normal(keys[2], (dim,)), jax.random.normal(keys[3], (dim,))
  theta_new, v_new, theta_cm, v_cm = theorem_2_1_step(problem, theta, v, mu, eps)
  np.testing.assert_allclose(theta_new, theta_cm, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(v_new, v_cm, rtol=1e-4, atol=1e-5)


@jax.jit
def theorem_2_1_step(problem, theta, v, mu, eps):
  """One NAG step in parameter space vs one CM step per eigen-direction, both in eigen-coordinates."""
  opt = nj.nag(eps, mu)
  state = opt.init(theta)._replace(velocity=v)  # a state mid-run: θ and v arbitrary
  phi = theta + mu * v
  updates, state = opt.update(jax.grad(problem.loss)(phi), state, phi)
  theta_new = nj.evaluation_params(phi + updates, state)
  to_eigen = lambda x: problem.eigenvectors.T @ x

  def cm_step(theta_i, v_i, lam_i):
    cm = nj.cm(eps, mu * (1.0 - lam_i * eps))
    updates, s = cm.update(lam_i * theta_i, cm.init(theta_i)._replace(velocity=v_i))
    return theta_i + updates, s.velocity

  theta_cm, v_cm = jax.vmap(cm_step)(to_eigen(theta), to_eigen(v), problem.eigenvalues)
  return to_eigen(theta_new), to_eigen(state.velocity), theta_cm, v_cm


def sweep_point(problem, theta0, method, lr, mu_max):
  factory = nj.nag if method == "nag" else nj.cm
  _, losses = quadratics.optimize(
    factory(lr, nj.momentum_schedule(mu_max, total_steps=STEPS, period=PERIOD, finetune_steps=20)),
    problem.loss,
    theta0,
    STEPS,
  )
  return losses


@pytest.mark.parametrize("method", ["cm", "nag"])
def test_vmapped_grid_equals_separate_runs_and_values_never_recompile(method):
  problem = quadratics.random_quadratic(jax.random.key(5), dim=10, condition_number=100.0)
  theta0 = jax.random.normal(jax.random.key(6), (10,))
  lrs, mu_maxes = jnp.meshgrid(jnp.array([0.05, 0.2, 0.8]), jnp.array([0.0, 0.9, 0.99]))
  lrs, mu_maxes = lrs.ravel(), mu_maxes.ravel()
  chex.clear_trace_counter()  # the counts are per test (its parameters run the same code)

  @chex.assert_max_traces(n=1)
  def grid_point(lr, mu_max):
    return sweep_point(problem, theta0, method, lr, mu_max)

  @chex.assert_max_traces(n=1)
  def single_point(lr, mu_max):
    return sweep_point(problem, theta0, method, lr, mu_max)

  grid = jax.jit(jax.vmap(grid_point))(lrs, mu_maxes)  # one trace for the whole grid
  single = jax.jit(single_point)
  separate = np.stack([single(lr, m) for lr, m in zip(lrs, mu_maxes)])  # one for all nine runs
  np.testing.assert_allclose(grid, separate, rtol=1e-5, atol=1e-6)
  assert np.all(np.isfinite(grid[:, -1])) and grid[:, -1].min() < 1e-3 * grid[:, 0].max()


def test_nag_composes_after_gradient_clipping():
  problem = quadratics.random_quadratic(jax.random.key(7), dim=6, condition_number=10.0)
  grad = jax.grad(problem.loss)
  theta0 = 10.0 * jax.random.normal(jax.random.key(8), (6,))
  clipped = optax.chain(optax.clip_by_global_norm(1.0), nj.nag(0.1, 0.9))
  ours, state = run_optax(clipped, grad, theta0, 20)

  def clipped_grad(x):
    g = grad(x)
    return g * jnp.minimum(1.0, 1.0 / jnp.linalg.norm(g))

  reference, ref_state = run_optax(nj.nag(0.1, 0.9), clipped_grad, theta0, 20)
  np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(
    nj.evaluation_params(ours[-1], state), nj.evaluation_params(reference[-1], ref_state), rtol=1e-5
  )


def test_evaluation_params_finds_nag_inside_chain_inject_hyperparams_and_multisteps(quad):
  _, grad, theta0 = quad
  plain, plain_state = run_optax(nj.nag(0.1, 0.9), grad, theta0, 10)
  expected = nj.evaluation_params(plain[-1], plain_state)
  assert np.max(np.abs(expected - plain[-1])) > 1e-4  # θ and φ really differ here

  for wrapped in (
    optax.chain(optax.identity(), nj.nag(0.1, 0.9)),
    optax.inject_hyperparams(nj.nag)(learning_rate=0.1, momentum=0.9),
  ):
    stored, state = run_optax(wrapped, grad, theta0, 10)
    np.testing.assert_allclose(nj.evaluation_params(stored[-1], state), expected, rtol=1e-5)

  # MultiSteps(every_k=2) fed the same gradient twice is NAG on that gradient.
  multi = optax.MultiSteps(nj.nag(0.1, 0.9), every_k_schedule=2)
  params, state = theta0, multi.init(theta0)
  for _ in range(20):
    updates, state = multi.update(grad(params), state, params)
    params = optax.apply_updates(params, updates)
  np.testing.assert_allclose(nj.evaluation_params(params, state), expected, rtol=1e-5)


def test_evaluation_params_is_identity_for_cm_and_broadcasts_over_a_grid():
  params = {"w": jnp.ones((3, 2))}
  cm_state = nj.cm(0.1, 0.9).init(params)
  chex.assert_trees_all_equal(nj.evaluation_params(params, cm_state), params)
  grid_params = jnp.ones((4, 3))
  state = nj.MomentumState(
    count=jnp.zeros(4, jnp.int32),
    velocity=jnp.ones((4, 3)),
    lookahead=jnp.array([0.0, 0.5, 0.9, 0.99]),
  )
  np.testing.assert_allclose(
    nj.evaluation_params(grid_params, state),
    1.0 - jnp.array([0.0, 0.5, 0.9, 0.99])[:, None] * jnp.ones((4, 3)),
  )


def test_evaluation_params_refuses_two_nag_states_over_the_same_parameters():
  state = (nj.nag(0.1, 0.9).init(jnp.ones(2)),)
  two = {"first": state[0], "second": state[0]}  # as two wrappers holding one NAG each would
  with pytest.raises(ValueError, match="2 CM/NAG states over the same parameters"):
    nj.evaluation_params(jnp.ones(2), two)


def test_momentum_method_with_a_traced_nesterov_flag_is_cm_or_nag():
  problem = quadratics.random_quadratic(jax.random.key(9), dim=6, condition_number=30.0)
  theta0 = jax.random.normal(jax.random.key(10), (6,))
  schedule = nj.momentum_schedule(0.99, period=PERIOD)

  def run(transformation):
    return quadratics.optimize(transformation, problem.loss, theta0, 100)[0]

  mixed = jax.jit(jax.vmap(lambda a: run(nj.momentum_method(0.1, schedule, nesterov=a))))(
    jnp.array([0.0, 1.0])
  )
  np.testing.assert_allclose(mixed[0], run(nj.cm(0.1, schedule)), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(mixed[1], run(nj.nag(0.1, schedule)), rtol=1e-5, atol=1e-6)
  assert np.max(np.abs(mixed[0] - mixed[1])) > 1e-3


@pytest.mark.parametrize("method", [nj.cm, nj.nag])
def test_accumulator_dtype_keeps_a_float32_velocity_for_bfloat16_params(method):
  """As optax.trace's accumulator_dtype: bf16 parameters, fp32 velocity. The velocity is then
  exactly the fp32 recurrence v ← μv − εg on the (bf16) gradients, which a bf16 velocity is not;
  updates come out in the gradients' dtype, θ in the parameters'."""
  params = {"w": jnp.ones((64,), jnp.bfloat16)}
  grads = [jax.random.normal(jax.random.key(i), (64,)).astype(jnp.bfloat16) for i in range(30)]
  mu, lr = 0.99, 0.0123
  exact = np.zeros(64, np.float32)
  for g in grads:
    exact = np.float32(mu) * exact - np.float32(lr) * np.asarray(g, np.float32)
  for dtype, should_match in ((jnp.float32, True), (None, False)):
    opt = method(lr, mu, accumulator_dtype=dtype)
    state = opt.init(params)
    for g in grads:
      updates, state = opt.update({"w": g}, state, params)
      assert updates["w"].dtype == jnp.bfloat16
    velocity = state.velocity["w"]
    assert velocity.dtype == (jnp.float32 if dtype else jnp.bfloat16)
    assert np.array_equal(np.asarray(velocity, np.float32), exact) == should_match
    assert nj.evaluation_params(params, state)["w"].dtype == jnp.bfloat16
