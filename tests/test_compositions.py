"""NAG inside the optax compositions a researcher will try: each is exact (against a plain
reference written from the paper's formulas) or refused in one line."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import nesterov_jax as nj

EPS, STEPS = 0.05, 40
A = jax.random.normal(jax.random.key(0), (5, 5))
HESSIAN = A @ A.T / 5 + 0.2 * jnp.eye(5)  # couples the two parts of the parameters below


def loss(params):
  x = jnp.concatenate([params["a"], params["b"]])
  return 0.5 * x @ HESSIAN @ x


grad = jax.jit(jax.grad(loss))
THETA0 = {"a": jnp.arange(1.0, 3.0), "b": jnp.arange(-1.0, 2.0)}


def run(opt, steps=STEPS, gradient=lambda p, t: grad(p)):
  params, state = THETA0, opt.init(THETA0)
  for t in range(steps):
    updates, state = opt.update(gradient(params, t), state, params)
    params = optax.apply_updates(params, updates)
  return params, state


def reference(
  steps=STEPS,
  nag_parts=("a", "b"),
  mu=lambda part, t: 0.9,
  lookahead_mu=None,
  other=lambda g: -0.1 * g,
  gradient=lambda p, t: grad(p),
):
  """θ from the paper's formulas, part by part: v ← μv − ε∇f(θ + μv); θ ← θ + v on the NAG parts
  (the look-ahead with ``lookahead_mu`` where it differs from μ); θ ← θ + other(∇f(θ)) elsewhere."""
  lookahead_mu = lookahead_mu or mu
  theta = {k: np.asarray(v, np.float64) for k, v in THETA0.items()}
  v = {k: np.zeros_like(x) for k, x in theta.items()}
  for t in range(steps):
    point = {k: theta[k] + (lookahead_mu(k, t) * v[k] if k in nag_parts else 0.0) for k in theta}
    g = {
      k: np.asarray(x, np.float64)
      for k, x in gradient({k: jnp.asarray(x, jnp.float32) for k, x in point.items()}, t).items()
    }
    for k in theta:
      if k in nag_parts:
        v[k] = mu(k, t) * v[k] - EPS * g[k]
        theta[k] = theta[k] + v[k]
      else:
        theta[k] = theta[k] + other(g[k])
  return theta


def close(got, expected):
  chex.assert_trees_all_close(jax.tree.map(np.asarray, got), expected, rtol=2e-5, atol=2e-6)


def test_plain_nag_reference_is_not_the_stored_point():
  params, state = run(nj.nag(EPS, 0.9))
  close(nj.evaluation_params(params, state), reference())
  assert np.max(np.abs(np.asarray(params["a"]) - reference()["a"])) > 1e-4  # φ ≠ θ


def test_multi_transform_recovers_theta_on_nags_part_only():
  opt = optax.multi_transform(
    {"nag": nj.nag(EPS, 0.9), "sgd": optax.sgd(0.1)}, {"a": "nag", "b": "sgd"}
  )
  params, state = run(opt)
  theta = nj.evaluation_params(params, state)
  close(theta, reference(nag_parts=("a",)))
  chex.assert_trees_all_equal(theta["b"], params["b"])  # SGD's part is its own θ
  chex.assert_trees_all_equal_shapes_and_dtypes(theta, THETA0)


def test_multi_transform_with_nag_on_both_parts_recovers_each_parts_theta():
  opt = optax.multi_transform(
    {"fast": nj.nag(EPS, 0.9), "slow": nj.nag(EPS, 0.5)}, {"a": "fast", "b": "slow"}
  )
  params, state = run(opt)
  close(nj.evaluation_params(params, state), reference(mu=lambda k, t: 0.9 if k == "a" else 0.5))


def test_masked_nag_recovers_theta_on_the_masked_part():
  # optax.masked passes the other part's updates through unchanged: there θ ← θ + ∇f.
  params, state = run(optax.masked(nj.nag(EPS, 0.9), {"a": True, "b": False}), steps=10)
  close(
    nj.evaluation_params(params, state), reference(steps=10, nag_parts=("a",), other=lambda g: g)
  )


def test_apply_if_finite_skips_a_non_finite_gradient_and_theta_stays_exact():
  bad = 7

  def gradient(p, t):
    g = grad(p)
    return jax.tree.map(lambda x: x * jnp.nan, g) if t == bad else g

  params, state = run(
    optax.apply_if_finite(nj.nag(EPS, 0.9), max_consecutive_errors=3), gradient=gradient
  )
  assert int(state.total_notfinite) == 1
  # The skipped update leaves θ and v as they were: the formulas with one update fewer.
  close(nj.evaluation_params(params, state), reference(steps=STEPS - 1))


def test_inject_hyperparams_lags_the_look_ahead_by_one_update_and_measures_it():
  schedule = lambda t: jnp.where(t < 10, 0.5, 0.9)  # μ jumps at update 10
  mu = lambda k, t: 0.5 if t < 10 else 0.9
  params, state = run(optax.inject_hyperparams(nj.nag)(learning_rate=EPS, momentum=schedule))
  theta = nj.evaluation_params(params, state)
  # μ[t+1] is not known in advance: the look-ahead of update t uses μ[t-1] (μ[0] at t = 0).
  lagged = reference(mu=mu, lookahead_mu=lambda k, t: mu(k, max(t - 1, 0)))
  close(theta, lagged)
  exact = reference(mu=mu)
  lag = max(np.max(np.abs(np.asarray(theta[k]) - exact[k])) for k in exact)
  assert lag > 1e-4  # the one update whose look-ahead is off moves the trajectory
  params, state = run(nj.nag(EPS, schedule))  # the schedule passed to nj.nag: exact
  close(nj.evaluation_params(params, state), exact)


def test_multisteps_applies_nag_to_the_mean_of_k_gradients():
  noise = jax.random.normal(jax.random.key(1), (2 * STEPS, 5))
  gradient = lambda p, t: jax.tree.map(
    lambda g, n: g + n, grad(p), {"a": noise[t, :2], "b": noise[t, 2:]}
  )
  params, state = run(
    optax.MultiSteps(nj.nag(EPS, 0.9), every_k_schedule=2), steps=2 * STEPS, gradient=gradient
  )
  mean_of_two = lambda p, t: jax.tree.map(
    lambda x, y: (x + y) / 2, gradient(p, 2 * t), gradient(p, 2 * t + 1)
  )
  close(nj.evaluation_params(params, state), reference(gradient=mean_of_two))
  # Between real updates the parameters stand still, and θ with them.
  updates, mid = optax.MultiSteps(nj.nag(EPS, 0.9), 2).update(grad(params), state, params)
  chex.assert_trees_all_equal(updates, jax.tree.map(jnp.zeros_like, params))


@pytest.mark.parametrize(
  "opt",
  [
    optax.chain(nj.nag(EPS, 0.9), optax.scale(0.5)),
    optax.named_chain(("nag", nj.nag(EPS, 0.9)), ("scale", optax.scale(0.5))),
    optax.chain(nj.nag(EPS, 0.9), nj.nag(EPS, 0.9)),
  ],
  ids=["chain", "named_chain", "two_nags"],
)
def test_a_transformation_after_nag_is_refused_in_one_line(opt):
  with pytest.raises(
    ValueError, match="must be the last transformation of an optax chain"
  ) as error:
    nj.evaluation_params(THETA0, opt.init(THETA0))
  assert "\n" not in str(error.value)


def test_transformations_before_nag_are_exact():
  clip = optax.chain(optax.clip_by_global_norm(0.5), nj.nag(EPS, 0.9))
  params, state = run(clip)

  def clipped(p, t):
    g = grad(p)
    norm = optax.tree.norm(g)
    return jax.tree.map(lambda x: x * jnp.minimum(1.0, 0.5 / norm), g)

  close(nj.evaluation_params(params, state), reference(gradient=clipped))
