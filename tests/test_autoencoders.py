"""The Section 3 tasks: losses optimized, the error reported, and Table 3's init scale."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nesterov_jax.paper import autoencoders, data, protocols


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
  with pytest.MonkeyPatch.context() as mp:
    mp.delenv(data.DATA_ENV, raising=False)
    mp.setenv(data.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
    out = {}
    for name in ("curves_ae", "faces_ae"):
      config = protocols.autoencoder(name).task
      config.num_train, config.num_test, config.eval_batch_size = 37, 11, 8
      out[name] = autoencoders.autoencoder_task(config)
    return out


@pytest.mark.parametrize("name", ["curves_ae", "faces_ae"])
def test_reported_error_is_squared_error_summed_over_pixels_averaged_over_all_training_cases(
  tasks, name
):
  task = tasks[name]
  params = task.init(jax.random.key(0), {})
  x = np.asarray(task.data["train"], np.float64)
  out = np.asarray(task.apply(params, jnp.asarray(x)), np.float64)
  recon = 1 / (1 + np.exp(-out)) if name == "curves_ae" else out
  expected = np.mean(np.sum((recon - x) ** 2, axis=1))
  np.testing.assert_allclose(task.evaluate(params, task.data)["train_error"], expected, rtol=1e-4)
  assert x.shape[0] == 37  # 37 cases in batches of 8: the padding is not counted


def test_logistic_outputs_train_on_cross_entropy_and_linear_outputs_on_squared_error(tasks):
  targets = jnp.array([[0.0, 1.0, 0.25]])
  logits = jnp.array([[0.0, 2.0, -1.0]])
  p = 1 / (1 + np.exp(-np.asarray(logits)))
  ce = -np.sum(np.asarray(targets) * np.log(p) + (1 - np.asarray(targets)) * np.log(1 - p))
  np.testing.assert_allclose(tasks["curves_ae"].output_loss(logits, targets), ce, rtol=1e-5)
  np.testing.assert_allclose(
    tasks["faces_ae"].output_loss(logits, targets),
    0.5 * np.sum((np.asarray(logits) - np.asarray(targets)) ** 2),
    rtol=1e-6,
  )


def test_init_scale_multiplies_the_sparse_initialization(tasks):
  task = tasks["curves_ae"]
  one = task.init(jax.random.key(1), {"init_scale": 1.0})
  four = task.init(jax.random.key(1), {"init_scale": 4.0})
  jax.tree.map(lambda a, b: np.testing.assert_allclose(4.0 * a, b, rtol=1e-6), one, four)
  np.testing.assert_array_equal((np.asarray(one["dense0"]["kernel"]) != 0).sum(0), 15)


@pytest.mark.parametrize("name", ["curves_ae", "faces_ae"])
def test_objective_is_the_mean_over_cases_of_the_loss_summed_over_pixels(tasks, name):
  # Martens' (2010) code: the per-case loss summed over output units, averaged over the
  # minibatch's cases; the paper's ε grid (0.05 … 0.0001) is for that mean.
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(3, 4))
  targets = rng.uniform(size=(3, 4))
  if name == "curves_ae":
    p = 1 / (1 + np.exp(-logits))
    per_case = -np.sum(targets * np.log(p) + (1 - targets) * np.log(1 - p), axis=1)
  else:
    per_case = 0.5 * np.sum((logits - targets) ** 2, axis=1)
  loss = tasks[name].output_loss(
    jnp.asarray(logits, jnp.float32), jnp.asarray(targets, jnp.float32)
  )
  np.testing.assert_allclose(loss, per_case.sum() / 3, rtol=1e-5)
  repeated = tasks[name].output_loss(
    jnp.asarray(np.tile(logits, (2, 1)), jnp.float32),
    jnp.asarray(np.tile(targets, (2, 1)), jnp.float32),
  )
  np.testing.assert_allclose(repeated, loss, rtol=1e-5)  # a sum over cases would double
