"""Hessian-free optimization (Martens 2010) and its link to momentum (Sutskever et al. 2013, §5)."""

import json
import pathlib

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

import nesterov_jax as nj
from nesterov_jax import cli, hf
from nesterov_jax.paper import protocols
from nesterov_jax.engine import results, train
from nesterov_jax.engine.config import ConfigError, load_config
from nesterov_jax.experiments import hf_comparison as hf_experiment
from nesterov_jax.paper.models import Autoencoder, dense_squared_gradients


def cross_entropy(outputs, targets):  # logistic outputs, as the Curves and MNIST tasks
  return jnp.mean(jnp.sum(optax.sigmoid_binary_cross_entropy(outputs, targets), axis=-1))


def squared_error(outputs, targets):  # linear outputs, as the Faces task
  return jnp.mean(jnp.sum(0.5 * (outputs - targets) ** 2, axis=-1))


def mlp(params, x):
  return jnp.tanh(x @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]


def mlp_params(key, sizes=(5, 4, 3)):
  k1, k2, k3 = jax.random.split(key, 3)
  return {
    "w1": jax.random.normal(k1, sizes[:2]),
    "b1": 0.1 * jax.random.normal(k3, sizes[1:2]),
    "w2": jax.random.normal(k2, sizes[1:]),
    "b2": jnp.zeros(sizes[2]),
  }


@pytest.mark.parametrize("loss", [cross_entropy, squared_error])
def test_gauss_newton_product_equals_jacobian_transpose_h_jacobian(loss):
  """G v from jvp/vjp equals Jᵀ H_L J v with J = jax.jacobian of the outputs, H_L = jax.hessian of the loss."""
  params = mlp_params(jax.random.key(0))
  x = jax.random.normal(jax.random.key(1), (7, 5))
  targets = jax.random.uniform(jax.random.key(2), (7, 3))
  flat, unravel = ravel_pytree(params)
  outputs = mlp(params, x)
  jac = jax.jacobian(lambda f: mlp(unravel(f), x).ravel())(flat)  # [7·3, P]
  h = jax.hessian(lambda o: loss(o.reshape(outputs.shape), targets))(outputs.ravel())  # [7·3, 7·3]
  gauss_newton = jac.T @ h @ jac
  product = hf.gauss_newton_operator(mlp, loss, params, x, targets)
  for seed in range(3):
    v = jax.random.normal(jax.random.key(10 + seed), flat.shape)
    np.testing.assert_allclose(
      ravel_pytree(product(unravel(v)))[0], gauss_newton @ v, rtol=2e-4, atol=1e-5
    )
  if loss is cross_entropy:  # H_L = diag(σ(1 − σ)) / cases for logistic outputs with cross-entropy
    s = jax.nn.sigmoid(outputs.ravel())
    np.testing.assert_allclose(h, jnp.diag(s * (1 - s)) / 7, rtol=1e-5, atol=1e-7)


def spd_system(seed, n=40, condition=1e3):
  rng = np.random.default_rng(seed)
  q, _ = np.linalg.qr(rng.normal(size=(n, n)))
  a = (q * np.geomspace(1.0, condition, n)) @ q.T
  return jnp.asarray(a, jnp.float32), jnp.asarray(rng.normal(size=n), jnp.float32)


@pytest.mark.parametrize("seed", range(3))
def test_cg_solves_random_spd_systems_with_and_without_a_preconditioner(seed):
  a, g = spd_system(seed, condition=100.0)
  solution = -np.linalg.solve(np.float64(a), np.float64(g))
  for m in (
    jnp.ones(40),
    jnp.asarray(np.random.default_rng(seed).uniform(0.5, 2.0, 40), jnp.float32),
  ):
    result = hf.conjugate_gradient(
      lambda v: a @ v, g, jnp.zeros(40), m, max_iterations=120, tolerance=0.0
    )
    np.testing.assert_allclose(result.x, solution, rtol=1e-3, atol=1e-3)
    phi = result.phi[: int(result.iterations) + 1]
    np.testing.assert_allclose(phi[-1], 0.5 * result.x @ a @ result.x + g @ result.x, rtol=1e-4)
    assert np.all(np.diff(np.asarray(phi)) <= 1e-5)  # CG never raises φ


def test_cg_stops_by_the_relative_progress_rule_exactly_when_it_first_holds():
  """Stop at the first i with i > k, φ_i < 0 and (φ_i − φ_{i−k}) / φ_i < k·ε, k = max(10, ⌈0.1 i⌉)."""
  a, g = spd_system(7, n=300, condition=1e4)
  result = hf.conjugate_gradient(
    lambda v: a @ v, g, jnp.zeros(300), jnp.ones(300), max_iterations=300
  )
  stop = int(result.iterations)
  phi = np.asarray(result.phi, np.float64)

  def rule(i):
    k = max(10, int(np.ceil(0.1 * i)))
    return i > k and phi[i] < 0 and (phi[i] - phi[i - k]) / phi[i] < k * 5e-4

  assert 11 < stop < 300
  assert rule(stop) and not any(rule(i) for i in range(1, stop))
  np.testing.assert_array_equal(
    result.saved[: int(result.num_saved)].shape[0], np.sum(hf.save_iterations(300) <= stop)
  )


def test_iterates_are_kept_where_martens_code_keeps_them():
  # ⌈5·1.3^j⌉ for j = 0, 1, ... below the cap, and the last iterate (conjgrad_1.m).
  np.testing.assert_array_equal(
    hf.save_iterations(250), [5, 7, 9, 11, 15, 19, 25, 32, 41, 54, 69, 90, 117, 152, 197, 250]
  )
  np.testing.assert_array_equal(hf.save_iterations(20), [5, 7, 9, 11, 15, 19, 20])
  np.testing.assert_array_equal(hf.save_iterations(3), [3])


def test_levenberg_marquardt_raises_damping_on_overprediction_and_lowers_it_on_a_good_model():
  assert float(hf.levenberg_marquardt(2.0, 0.1)) == pytest.approx(3.0)
  assert float(hf.levenberg_marquardt(3.0, 0.9)) == pytest.approx(2.0)
  assert float(hf.levenberg_marquardt(3.0, 0.5)) == pytest.approx(3.0)
  assert float(hf.levenberg_marquardt(2.0, jnp.nan)) == pytest.approx(3.0)  # NaN ρ: a failed update


def test_damping_never_underflows_to_zero_and_climbs_back():
  # λ = 45 × (2/3)^t reaches exactly 0 in float32 after ~225 updates of ρ > 3/4 without a floor.
  good = jax.lax.fori_loop(
    0, 10_000, lambda _, lam: hf.levenberg_marquardt(lam, 1.0), jnp.float32(45.0)
  )
  assert good.dtype == jnp.float32 and float(good) > 0.0
  assert float(good) == hf.MIN_DAMPING
  bad = jax.lax.fori_loop(0, 20, lambda _, lam: hf.levenberg_marquardt(lam, 0.0), good)
  assert float(bad) == pytest.approx(hf.MIN_DAMPING * 1.5**20, rel=1e-4)  # it moves again


def one_update(opt, params, batch, apply_fn, loss_fn, state=None):
  state = opt.init(params) if state is None else state
  grads = jax.grad(lambda p: loss_fn(apply_fn(p, batch[0]), batch[1]))(params)
  updates, state = opt.update(
    grads, state, params, batch=batch, apply_fn=apply_fn, output_loss_fn=loss_fn
  )
  return updates, state


def test_damping_rises_when_the_quadratic_model_overpredicts():
  """sin(w) fit to 0 from w = 1.4: the Gauss-Newton step jumps to w ≈ −4.4, where sin is still ≈ 1."""
  apply_fn = lambda p, x: jnp.sin(p["w"] * x)
  batch = (jnp.ones((1, 1)), jnp.zeros((1, 1)))
  opt = nj.hessian_free(
    initial_damping=1e-3,
    max_cg_iterations=5,
    preconditioner=False,
    backtracking=False,
    line_search=False,
  )
  params = {"w": jnp.array([1.4])}
  updates, state = one_update(opt, params, batch, apply_fn, squared_error)
  f = lambda p: squared_error(apply_fn(p, batch[0]), batch[1])
  j = jnp.cos(1.4)
  step = updates["w"][0]
  predicted = j * jnp.sin(1.4) * step + 0.5 * j * j * step**2
  rho = (f(optax.apply_updates(params, updates)) - f(params)) / predicted
  assert float(rho) < 0.25
  np.testing.assert_allclose(state.reduction_ratio, rho, rtol=1e-3)
  assert float(state.damping) == pytest.approx(1.5e-3)


def test_damping_falls_when_the_quadratic_model_is_exact():
  """A model linear in its parameters with squared error: q(p) is f's exact change, so ρ = 1."""
  apply_fn = lambda p, x: x @ p["w"] + p["b"]
  x = jax.random.normal(jax.random.key(0), (20, 4))
  batch = (x, jax.random.normal(jax.random.key(1), (20, 2)))
  opt = nj.hessian_free(initial_damping=1.0, max_cg_iterations=3)
  _, state = one_update(
    opt, {"w": jnp.zeros((4, 2)), "b": jnp.zeros(2)}, batch, apply_fn, squared_error
  )
  np.testing.assert_allclose(state.reduction_ratio, 1.0, rtol=1e-3)
  assert float(state.damping) == pytest.approx(2.0 / 3.0)


def test_a_nan_in_the_cg_solution_never_reaches_the_parameters():
  apply_fn = lambda p, x: x @ p["w"] + p["b"]
  x = jax.random.normal(jax.random.key(0), (20, 4))
  batch = (x, jax.random.normal(jax.random.key(1), (20, 2)))
  params = {"w": jnp.zeros((4, 2)), "b": jnp.zeros(2)}
  grads = jax.grad(lambda p: squared_error(apply_fn(p, x), batch[1]))(params)
  grads["w"] = grads["w"].at[0, 0].set(jnp.nan)  # CG's solution becomes NaN
  for line_search in (True, False):
    opt = nj.hessian_free(initial_damping=1.0, max_cg_iterations=3, line_search=line_search)
    updates, state = opt.update(
      grads, opt.init(params), params, batch=batch, apply_fn=apply_fn, output_loss_fn=squared_error
    )
    assert all(np.all(np.asarray(u) == 0.0) for u in jax.tree.leaves(updates))
    assert float(state.damping) == pytest.approx(1.5)  # a failed update raises λ
    assert all(
      np.all(np.isfinite(np.asarray(v))) for v in jax.tree.leaves(state.previous)
    )  # warm start cold


def test_an_objective_that_is_nan_at_the_step_takes_no_step_and_raises_damping():
  # Finite at θ (so the gradient and G are), NaN anywhere else: f(θ + p) is NaN, ρ is NaN.
  apply_fn = lambda p, x: jnp.where(jnp.any(p["w"] != 0.0), jnp.nan, 1.0) * (x @ p["w"])
  x = jax.random.normal(jax.random.key(0), (20, 4))
  batch = (x, jax.random.normal(jax.random.key(1), (20, 2)))
  params = {"w": jnp.zeros((4, 2))}
  opt = nj.hessian_free(
    initial_damping=1.0,
    max_cg_iterations=3,
    preconditioner=False,
    backtracking=False,
    line_search=False,
  )
  updates, state = one_update(opt, params, batch, apply_fn, squared_error)
  assert np.all(np.asarray(updates["w"]) == 0.0)
  assert np.isnan(float(state.reduction_ratio)) and float(state.damping) == pytest.approx(1.5)


def test_curvature_comes_from_fixed_chunks_in_turn_and_the_preconditioner_from_the_whole_batch():
  """Linear least squares, one preconditioned CG step from 0, no damping: the step is
  −α M⁻¹g with α = gᵀM⁻¹g / (M⁻¹g)ᵀ G_c (M⁻¹g), where G_c is chunk c's Gauss-Newton matrix
  (c = update count mod 3) and M = (mean over *all* cases of the per-case squared gradients)^0.75."""
  x = np.asarray(jax.random.normal(jax.random.key(0), (12, 3)), np.float64)
  x[4:8] *= 3.0  # the three chunks of 4 cases have different curvature
  y = np.asarray(jax.random.normal(jax.random.key(1), (12, 1)), np.float64)
  apply_fn = lambda p, inputs: inputs @ p["w"]
  loss = lambda out, t: jnp.mean(0.5 * jnp.sum((out - t) ** 2, axis=-1))
  w = np.array([[0.3], [-0.2], [0.1]])
  residual = x @ w - y  # [12, 1]
  g = x.T @ residual[:, 0] / 12  # the whole batch's gradient
  m = np.mean((x * residual) ** 2, axis=0) ** 0.75  # per-case squared gradients, all cases
  opt = nj.hessian_free(
    decay=0.0,
    initial_damping=0.0,
    max_cg_iterations=1,
    curvature_batch_size=4,
    backtracking=False,
    line_search=False,
  )
  params = {"w": jnp.asarray(w, jnp.float32)}
  batch = (jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
  state = opt.init(params)
  for count in range(4):
    updates, new_state = opt.update(
      {"w": jnp.asarray(g[:, None], jnp.float32)},
      state,
      params,
      batch=batch,
      apply_fn=apply_fn,
      output_loss_fn=loss,
    )
    chunk = x[4 * (count % 3) : 4 * (count % 3) + 4]
    gauss_newton = chunk.T @ chunk / 4
    d = g / m
    expected = -(g @ d) / (d @ gauss_newton @ d) * d
    np.testing.assert_allclose(np.asarray(updates["w"])[:, 0], expected, rtol=2e-4)
    state = new_state._replace(damping=jnp.float32(0.0))


def test_one_cg_step_from_a_warm_start_decayed_by_mu_is_a_nag_update_with_curvature_learning_rate():
  """§5: HF with 1 CG step, warm start ζ·v, ε = 1, no line search or backtracking, no damping:

      update = μ v − α ∇f(θ + μ v),   μ = ζ,  α = rᵀr / rᵀ G r,  r = ∇f(θ + μ v),

  NAG's velocity update, its learning rate α set by the curvature (exact on a quadratic,
  where G is the Hessian)."""
  apply_fn = lambda p, x: x @ p["w"] + p["b"]
  x = jax.random.normal(jax.random.key(0), (30, 5))
  batch = (x, jax.random.normal(jax.random.key(1), (30, 3)))
  f = lambda p: squared_error(apply_fn(p, batch[0]), batch[1])
  mu = 0.9
  opt = nj.hessian_free(
    decay=mu,
    initial_damping=0.0,
    max_cg_iterations=1,
    preconditioner=False,
    backtracking=False,
    line_search=False,
  )
  params = {"w": 0.1 * jax.random.normal(jax.random.key(2), (5, 3)), "b": jnp.zeros(3)}
  v, state = one_update(opt, params, batch, apply_fn, squared_error)
  params = optax.apply_updates(params, v)
  update, state = one_update(opt, params, batch, apply_fn, squared_error, state)

  flat_v = ravel_pytree(v)[0]
  flat, unravel = ravel_pytree(params)
  r = jax.grad(lambda q: f(unravel(q)))(flat + mu * flat_v)
  hessian = jax.hessian(lambda q: f(unravel(q)))(flat)
  alpha = (r @ r) / (r @ hessian @ r)
  np.testing.assert_allclose(ravel_pytree(update)[0], mu * flat_v - alpha * r, rtol=1e-4, atol=1e-6)
  assert int(state.cg_iterations) == 1


class HessianFreeVariantsTest(chex.TestCase):
  """HF's update jitted and not, as the momentum trajectories are tested (chex.variants)."""

  def _update(self, opt, apply_fn, loss_fn):
    def update(grads, state, params, batch):
      return opt.update(
        grads, state, params, batch=batch, apply_fn=apply_fn, output_loss_fn=loss_fn
      )

    return self.variant(update)

  @chex.variants(with_jit=True, without_jit=True)
  def test_one_cg_step_is_nag_with_a_curvature_learning_rate(self):
    """§5's identity (see the test above), through the jitted and the plain update."""
    apply_fn = lambda p, x: x @ p["w"] + p["b"]
    x = jax.random.normal(jax.random.key(0), (30, 5))
    batch = (x, jax.random.normal(jax.random.key(1), (30, 3)))
    f = lambda p: squared_error(apply_fn(p, batch[0]), batch[1])
    mu = 0.9
    opt = nj.hessian_free(
      decay=mu,
      initial_damping=0.0,
      max_cg_iterations=1,
      preconditioner=False,
      backtracking=False,
      line_search=False,
    )
    update = self._update(opt, apply_fn, squared_error)
    params = {"w": 0.1 * jax.random.normal(jax.random.key(2), (5, 3)), "b": jnp.zeros(3)}
    v, state = update(jax.grad(f)(params), opt.init(params), params, batch)
    params = optax.apply_updates(params, v)
    step, state = update(jax.grad(f)(params), state, params, batch)
    flat_v, (flat, unravel) = ravel_pytree(v)[0], ravel_pytree(params)
    r = jax.grad(lambda q: f(unravel(q)))(flat + mu * flat_v)
    hessian = jax.hessian(lambda q: f(unravel(q)))(flat)
    alpha = (r @ r) / (r @ hessian @ r)
    np.testing.assert_allclose(ravel_pytree(step)[0], mu * flat_v - alpha * r, rtol=1e-4, atol=1e-6)
    assert int(state.count) == 2 and int(state.cg_iterations) == 1

  @chex.variants(with_jit=True, without_jit=True)
  def test_a_full_update_keeps_shapes_and_dtypes_and_lowers_the_objective(self):
    """Preconditioner, CG backtracking, line search and damping on: one update on a small
    tanh network lowers the objective and returns the parameters' tree and the state's."""
    params = mlp_params(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (40, 5))
    batch = (x, jnp.sin(x[:, :3]))
    f = lambda p: squared_error(mlp(p, batch[0]), batch[1])
    opt = nj.hessian_free(initial_damping=1.0, weight_cost=1e-5, max_cg_iterations=20)
    state = opt.init(params)
    updates, new_state = self._update(opt, mlp, squared_error)(
      jax.grad(f)(params), state, params, batch
    )
    chex.assert_trees_all_equal_shapes_and_dtypes(updates, params)
    chex.assert_trees_all_equal_shapes_and_dtypes(new_state, state)
    assert float(f(optax.apply_updates(params, updates))) < float(f(params))
    assert int(new_state.count) == 1 and 1 <= int(new_state.cg_iterations) <= 20


def test_dense_squared_gradients_equal_per_case_gradients_by_vmap():
  model = Autoencoder((6, 3), 8, num_connections=4)
  x = jax.random.uniform(jax.random.key(0), (12, 8))
  params = model.init(jax.random.key(1), x)["params"]
  fast = dense_squared_gradients(model, params, x, lambda out: cross_entropy(out, x) * 12)
  flat, unravel = ravel_pytree(params)
  loss_of_case = lambda p, a, b: cross_entropy(model.apply({"params": p}, a[None]), b[None])
  slow = hf.per_case_squared_gradients(loss_of_case, flat, unravel, x, x)
  np.testing.assert_allclose(ravel_pytree(fast)[0], slow, rtol=1e-4, atol=1e-9)


@pytest.mark.slow
def test_hf_lowers_a_small_autoencoders_training_error_far_more_per_update_than_sgd():
  """8 HF updates (≤ 40 CG steps each) reach a lower error than the best of 4 SGD learning rates in 80."""
  codes = jax.random.normal(jax.random.key(0), (256, 4))
  x = jax.nn.sigmoid(3.0 * codes @ jax.random.normal(jax.random.key(1), (4, 64)))
  model = Autoencoder((32, 16, 4), 64, num_connections=15)
  params0 = model.init(jax.random.key(2), x[:1])["params"]
  apply_fn = lambda p, inputs: model.apply({"params": p}, inputs)
  error = lambda p: float(jnp.mean(jnp.sum((jax.nn.sigmoid(apply_fn(p, x)) - x) ** 2, axis=-1)))

  def train(opt, hessian_free, num_updates):
    @jax.jit
    def step(p, s):
      grads = jax.grad(lambda q: cross_entropy(apply_fn(q, x), x))(p)
      extra = (
        dict(batch=(x, x), apply_fn=apply_fn, output_loss_fn=cross_entropy) if hessian_free else {}
      )
      u, s = opt.update(grads, s, p, **extra)
      return optax.apply_updates(p, u), s

    p, s = params0, opt.init(params0)
    for _ in range(num_updates):
      p, s = step(p, s)
    return error(p)

  hf_error = train(nj.hessian_free(max_cg_iterations=40), True, 8)
  sgd_error = min(train(optax.sgd(lr), False, 80) for lr in (3.0, 1.0, 0.3, 0.1))
  assert hf_error < 0.8 * sgd_error < 0.8 * error(params0), (
    hf_error,
    sgd_error,
  )  # 8 HF updates beat 80 SGD


# ------------------------------------------------------------------ HF in the sweep engine

ROOT = pathlib.Path(__file__).parents[1]
HF_SMOKE = f"{ROOT / 'configs' / 'hf_curves.py'}:smoke"


@pytest.fixture(scope="module")
def hf_smoke(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("hf_curves")
  assert cli.main(["run", HF_SMOKE, "--workdir", str(workdir)]) == 0
  return workdir


@pytest.mark.slow
def test_hf_experiment_writes_table1s_hf_columns_beside_the_papers_and_the_passes_plot(hf_smoke):
  table = (hf_smoke / "table1.md").read_text()
  assert (
    "| HF* (Martens 2010) | HF† (momentum-like HF, §5) | NAG, about the same compute |" in table
  )
  assert "(0.11)" in table and "(0.058)" in table and "(0.074)" in table and " passes |" in table
  assert table.count("Made by `") == 3
  assert (hf_smoke / "error_vs_passes.png").stat().st_size > 0
  records, metrics = results.load_run(hf_smoke / "hybrid")
  assert records[0]["optimizer"] == "hf" and records[0]["num_train"] == 400
  passes = [m["case_passes"][0] for m in metrics]
  assert passes[0] == 0 and all(b > a for a, b in zip(passes, passes[1:]))
  # the first phase caps CG at 5 steps, the second at 10; the last phase is classic HF
  assert metrics[1]["cg_iterations"][0] <= 5 and metrics[-1]["cg_iterations"][0] <= 10
  assert metrics[-1]["train_error"][0] < metrics[0]["train_error"][0]
  # λ starts at 45 and is restarted at 1 by the last phase: two LM steps later it lies in
  # [1·(2/3)², 1·(3/2)²] (the chunk's mean), where 45 could not have fallen in four
  assert metrics[1]["damping"][0] > 15 and 0.4 < metrics[-1]["damping"][0] < 2.3


@pytest.mark.slow
def test_an_hf_grid_point_equals_the_same_config_trained_alone(hf_smoke, tmp_path):
  """HF's while-loops run under vmap: a grid of (ζ, ε) gives what each point gives alone."""
  base = load_config(HF_SMOKE).hybrid
  grid = ml_collections.ConfigDict(base.to_dict())
  grid.hf.phases = tuple(
    ml_collections.ConfigDict({**p, "decay": None, "learning_rate": None}) for p in base.hf.phases
  )
  grid.grid.mu_max, grid.grid.learning_rates = (0.9, 0.95), (1.0, 0.5)
  alone = ml_collections.ConfigDict(grid.to_dict())
  alone.grid.mu_max, alone.grid.learning_rates = (0.95,), (0.5,)
  out = []
  for name, config in (("grid", grid), ("alone", alone)):
    train.prepare_workdir(tmp_path / name, config)
    out.append(train.run(config, tmp_path / name))
  (point,) = [r for r in out[0] if r["mu_max"] == 0.95 and r["learning_rate"] == 0.5]
  np.testing.assert_allclose(point["final_train_error"], out[1][0]["final_train_error"], rtol=1e-4)
  np.testing.assert_allclose(point["case_passes"], out[1][0]["case_passes"], rtol=1e-6)
  assert len({r["final_train_error"] for r in out[0]}) == 4  # the settings differ


@pytest.mark.cpu_bitwise
@pytest.mark.slow
def test_an_hf_run_killed_across_a_phase_boundary_resumes_bitwise(hf_smoke, tmp_path, monkeypatch):
  """Checkpointed at the end of phase 1 (update 2), failed inside phase 2, rerun: the resumed
  run starts phase 2 from the checkpoint (its damping restart included) and ends bitwise
  where the uninterrupted run ended."""
  config = load_config(HF_SMOKE).hybrid
  with config.unlocked():
    config.checkpoint_every = 2  # not part of the fingerprint: the same run, more checkpoints
  assert [p.num_updates for p in config.hf.phases] == [2, 2] and config.chunk_size == 2
  workdir, real = tmp_path / "hybrid", train._to_host

  def failing(x):  # the first read off the devices once update 2 is recorded: inside phase 2
    metrics = workdir / "metrics.jsonl"
    if metrics.exists() and '"step": 2' in metrics.read_text():
      raise RuntimeError("simulated crash in phase 2")
    return real(x)

  train.prepare_workdir(workdir, config)
  monkeypatch.setattr(train, "_to_host", failing)
  with pytest.raises(RuntimeError, match="simulated crash"):
    train.run(config, workdir)
  monkeypatch.setattr(train, "_to_host", real)
  assert sorted(int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit()) == [2]
  resumed = train.run(config, workdir)
  (uninterrupted,) = json.loads((hf_smoke / "hybrid" / "results.json").read_text())
  for key in ("final_train_error", "final_test_error", "case_passes"):
    assert resumed[0][key] == uninterrupted[key], key


@pytest.mark.parametrize(
  "override, message",
  [
    ("hybrid.grid.optimizers=('hf','nag')", "holds no other optimizer"),
    ("hybrid.num_updates=6", "add up to 4 updates"),
    ("hybrid.schedule.kind='eq5'", "schedule.kind = 'constant'"),
    ("hybrid.hf.initial_damping=-1", "hf.initial_damping = -1.0: must be a finite number > 0"),
    ("hybrid.hf.cg_tolerance=0", "hf.cg_tolerance = 0.0: must be a finite number > 0"),
  ],
)
def test_bad_hf_configs_fail_with_one_line_before_compiling(override, message):
  config = load_config(HF_SMOKE, [override])
  with pytest.raises(ConfigError, match=message):
    hf_experiment.validate(config)


def test_hf_refuses_a_time_major_task_with_one_line(tmp_path):
  config = load_config(f"{ROOT / 'configs' / 'rnn_addition.py'}:smoke")
  hybrid = load_config(HF_SMOKE).hybrid
  config.unlock()
  config.grid.optimizers, config.schedule.kind, config.hf = ("hf",), "constant", hybrid.hf
  config.hf.phases = (
    protocols.hf_phase(config.num_updates, 10, 10, 3, weight_cost=0.0, classic=False),
  )
  with pytest.raises(ConfigError, match="cases on axis 0"):
    train.run(config, tmp_path)
