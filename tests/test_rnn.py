"""The four long-term-dependency problems of Section 4: formats, metric, and the "biases" column."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from nesterov_jax.paper import protocols, rnn
from nesterov_jax.paper.rnn import rnn_task


@pytest.mark.parametrize("name", ["addition", "multiplication"])
def test_arithmetic_sequences_have_two_markers_and_the_target_combines_the_marked_values(name):
  T = 80
  task = rnn_task(name, T)
  x, y = task.sample(jax.random.key(0), 512)
  assert x.shape == (T, 512, 2) and y.shape == (512, 1)
  values, markers = np.asarray(x[..., 0]) + 0.5, np.asarray(x[..., 1])
  np.testing.assert_array_equal(markers.sum(axis=0), 2)
  first, second = (np.nonzero(markers.T)[1].reshape(512, 2)).T
  assert first.max() < T // 10 <= second.min() and second.max() < T // 2
  a, b = values[first, np.arange(512)], values[second, np.arange(512)]
  np.testing.assert_allclose(
    y[:, 0], (a + b) / 2 if name == "addition" else a * b, rtol=1e-5, atol=1e-6
  )
  assert abs(values.mean() - 0.5) < 0.01  # values U[0, 1], fed centered


@pytest.mark.parametrize(
  "name, n_values, n_pos", [("memorization5", 2, 5), ("memorization20", 5, 10)]
)
def test_memorization_shows_symbols_waits_T_steps_then_asks_for_them(name, n_values, n_pos):
  T = 30
  task = rnn_task(name, T)
  x, y = task.sample(jax.random.key(1), 64)
  assert x.shape == (T + 2 * n_pos, 64, n_values + 2) and y.shape == (n_pos, 64)
  np.testing.assert_array_equal(np.argmax(x[:n_pos, :, :n_values], -1), y)
  np.testing.assert_array_equal(x[n_pos:, :, :n_values], 0)
  go = np.nonzero(np.asarray(x[:, 0, -1]))[0]
  np.testing.assert_array_equal(go, [T + n_pos])
  np.testing.assert_array_equal(x[n_pos:, :, -2].sum(0), T + n_pos - 1)  # blank everywhere else


def test_zero_one_metric_counts_sequences_off_by_more_than_0_04_and_wrong_symbols():
  task = rnn_task("addition", 20)
  y = jnp.array([[0.5], [0.5], [0.5]])
  outputs = jnp.array([[[0.5], [0.539], [0.45]]])
  np.testing.assert_array_equal(task.error(outputs, y), [0, 0, 1])
  mem = rnn_task("memorization5", 20)
  y = jnp.array([[0, 1], [1, 1], [0, 0], [1, 0], [1, 1]])  # [n_pos, batch]
  logits = jax.nn.one_hot(y.at[0, 0].set(1).at[2, 0].set(1), 2)
  np.testing.assert_array_equal(mem.error(logits, y), [2, 0])


def test_biases_baseline_mean_target_gives_0_85_where_the_paper_has_0_82_and_the_sum_0_92():
  # A model that learns only its output bias predicts the average target. For the mean of two
  # U[0, 1] values the error is exactly 1 − (1 − 2·0.04)² = 0.8464; for the sum it would be
  # 1 − (1 − 0.04)² = 0.9216. The paper's 0.82 is near the mean's, so the target is the mean.
  config = protocols.rnn("addition", 80).task
  config.num_eval_sequences = 20_000
  assert abs(rnn.biases_baseline(config) - 0.8464) < 0.01
  x, y = rnn_task("addition", 80).sample(jax.random.key(5), 20_000)
  assert abs(float(jnp.mean(jnp.abs(2 * y - 1.0) > 0.04)) - 0.9216) < 0.01


@pytest.mark.parametrize(
  "problem, chance", [("memorization5", 2.5), ("memorization20", 8.0), ("multiplication", 0.889)]
)
def test_biases_baseline_of_the_other_problems(problem, chance):
  # Memorization: chance (n_pos × (1 − 1/n_values)), the paper's 2.5 and 8. Multiplication:
  # P(|ab − 0.25| > 0.04) for a, b ~ U[0, 1] is 0.889, above the paper's 0.84 (values drawn
  # from U[−1, 1] would give 0.83; the paper does not say which it used).
  config = protocols.rnn(problem, 20).task
  config.length = 20
  config.num_eval_sequences = 20_000
  assert abs(rnn.biases_baseline(config) - chance) < 0.05 * chance


@pytest.mark.parametrize(
  "problem, n_pos, n_values", [("memorization5", 5, 2), ("memorization20", 10, 5)]
)
def test_constant_symbol_errors_count_each_position_right_for_exactly_one_symbol(
  problem, n_pos, n_values
):
  # Fails an error that ignores the constant (all equal), one that counts right answers
  # (sum n_pos instead of n_pos·(n_values − 1)), and one on other sequences than the engine's.
  config = protocols.rnn(problem, 20).task
  config.length = 20
  config.num_eval_sequences = 300
  errors = rnn.constant_symbol_errors(config)
  assert len(errors) == n_values
  np.testing.assert_allclose(sum(errors), n_pos * (n_values - 1), rtol=1e-6)
  _, y = rnn.evaluation_sequences(rnn_task(problem, 20), config)["train"]  # [batch, n_pos]
  np.testing.assert_allclose(
    errors, [float(np.mean(np.sum(np.asarray(y) != k, axis=1))) for k in range(n_values)], rtol=1e-6
  )
  np.testing.assert_allclose(errors[0], rnn.biases_baseline(config), rtol=1e-6)
  assert rnn.constant_symbol_errors(config, "test") != errors
  with pytest.raises(ValueError, match="memorization problems only"):
    rnn.constant_symbol_errors(protocols.rnn("addition", 20).task)


def test_fixed_strings_at_finds_the_string_whose_errors_a_run_ended_at():
  # Fails a search that matches the training error alone (the test set must agree too), one
  # that tries only constant strings where all 32 are cheap, and one that returns near misses.
  config = protocols.rnn("memorization5", 20).task
  config.length = 20
  config.num_eval_sequences = 400
  task = rnn_task("memorization5", 20)
  data = rnn.evaluation_sequences(task, config)
  s = (1, 0, 1, 1, 0)  # not constant: found only where every string is tried
  err = lambda split, f: float(np.mean(np.sum(np.asarray(data[split][1]) != np.array(f), axis=1)))
  found = rnn.fixed_strings_at(config, err("train", s), err("test", s))
  assert s in found
  for f in found:
    assert (
      abs(err("train", f) - err("train", s)) < 1e-6 and abs(err("test", f) - err("test", s)) < 1e-6
    )
  assert s not in rnn.fixed_strings_at(config, err("train", s), err("test", s) + 2.0 / 400)
  assert rnn.fixed_strings_at(config, 1.0, 1.0) == []
  twenty = protocols.rnn("memorization20", 20).task
  twenty.length, twenty.num_eval_sequences = 20, 300
  train, test = rnn.constant_symbol_errors(twenty), rnn.constant_symbol_errors(twenty, "test")
  assert (3,) * 10 in rnn.fixed_strings_at(twenty, train[3], test[3])


def test_addition_objective_sums_half_squared_error_over_the_minibatch_sequences():
  # Martens & Sutskever's RNN code sums ½(o − y)² over sequences (and output steps); the
  # paper's ε grid is for that sum, not for a mean over the 100 sequences of a minibatch.
  task = rnn_task("addition", 20)
  outputs = np.array([[[0.1], [0.7], [0.4], [1.0]]], np.float32)  # [output steps, batch, 1]
  targets = np.array([[0.3], [0.2], [0.4], [0.5]], np.float32)
  expected = sum(
    0.5 * (o - t) ** 2 for o, t in zip(outputs[0, :, 0], targets[:, 0])
  )  # 0.02 + 0.125 + 0 + 0.125
  np.testing.assert_allclose(
    task.loss(jnp.asarray(outputs), jnp.asarray(targets)), expected, rtol=1e-6
  )
  np.testing.assert_allclose(expected, 0.27, rtol=1e-6)
  doubled = task.loss(
    jnp.concatenate([outputs, outputs], axis=1), jnp.concatenate([targets, targets])
  )
  np.testing.assert_allclose(doubled, 2 * expected, rtol=1e-6)  # a mean would stay put


def test_memorization_objective_sums_cross_entropy_over_sequences_and_output_steps():
  task = rnn_task("memorization5", 20)  # 5 output steps, 2 symbols
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(5, 3, 2)).astype(np.float32)  # [output steps, batch, symbols]
  symbols = rng.integers(0, 2, size=(5, 3))
  log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  expected = -sum(log_softmax[t, b, symbols[t, b]] for t in range(5) for b in range(3))
  np.testing.assert_allclose(
    task.loss(jnp.asarray(logits), jnp.asarray(symbols)), expected, rtol=1e-5
  )
  one_step = task.loss(jnp.asarray(logits[:1]), jnp.asarray(symbols[:1]))
  np.testing.assert_allclose(
    one_step, -sum(log_softmax[0, b, symbols[0, b]] for b in range(3)), rtol=1e-5
  )


def test_engine_task_trains_on_the_problem_objective_of_its_fresh_minibatch():
  config = protocols.rnn_smoke("addition")
  task = rnn.rnn_engine_task(config.task)
  params = task.init(jax.random.key(0), {})
  x, y = task.sample(task.data, jax.random.key(1))
  assert x.shape == (20, 100, 2)  # time-major, the paper's 100 sequences
  outputs = np.asarray(task.apply(params, x), np.float64)
  np.testing.assert_allclose(
    task.loss(params, (x, y)), np.sum(0.5 * (outputs[-1] - np.asarray(y)) ** 2), rtol=1e-5
  )


def test_table5_lists_the_runs_that_ended_at_a_fixed_output():
  # Fails a paragraph that ignores the test set, that counts diverged runs, or that appears
  # for the arithmetic problems (whose outputs are not symbols).
  from nesterov_jax.paper import tables

  task = dict(problem="memorization5", length=20, data_seed=0, num_eval_sequences=400)
  config = ml_collections.ConfigDict(task)
  data = rnn.evaluation_sequences(rnn_task("memorization5", 20), config)
  err = lambda split, s: float(np.mean(np.sum(np.asarray(data[split][1]) != np.array(s), axis=1)))
  point = dict(optimizer="nag", mu_max=0.995, learning_rate=1e-8, seed=2, diverged=False)
  records = [
    dict(
      point,
      final_train_error=err("train", (0, 1, 1, 0, 1)),
      final_test_error=err("test", (0, 1, 1, 0, 1)),
    ),
    dict(point, seed=3, final_train_error=err("train", (0, 1, 1, 0, 1)), final_test_error=0.5),
    dict(
      point,
      seed=4,
      diverged=True,
      final_train_error=err("train", (1,) * 5),
      final_test_error=err("test", (1,) * 5),
    ),
  ]
  text = "\n".join(tables.fixed_outputs(records, {"task": task}))
  constant = rnn.constant_symbol_errors(config)
  assert (
    f"0: {constant[0]:.4f} / " in text
    and "1 of 3 runs end at the errors of a fixed output string" in text
  )
  assert "all 32 fixed strings tried" in text
  assert "seed 2: " in text and "01101" in text and "seed 3" not in text and "seed 4" not in text
  assert "None of the 2 runs ends at" in "\n".join(
    tables.fixed_outputs(records[1:], {"task": task})
  )
  assert tables.fixed_outputs(records, {"task": dict(task, problem="addition")}) == []
