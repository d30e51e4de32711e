"""The long-term-dependency problems of Section 4 (Table 5) and their engine tasks.

The formats follow Hochreiter & Schmidhuber (1997) as set up by Martens & Sutskever
(2011), in the form of Pascanu et al.'s public generators, with these choices written
down (the paper does not give them):

- **T counts** the sequence length for addition and multiplication, and the number of
  blank steps between the last shown symbol and the go signal for memorization (total
  length T + 2·n_pos).
- **Lengths are fixed.** Pascanu's generators (and Martens & Sutskever's) draw each
  sequence's length from [T, 1.1·T) and mask the steps past its end. We keep every
  sequence at T: the paper reports one T per problem, a fixed length lets one compiled
  program with static shapes serve every minibatch and every grid point, and it costs no
  padded steps. A variable length would only move the output step by up to 10%; the
  dependency to bridge (from the marked values to the end) stays as long.
- **addition / multiplication**: inputs [value, marker]; values U[0, 1], centered by
  subtracting 0.5 (the paper centers inputs); exactly two markers, the first at a step
  uniform in [0, T/10), the second in [T/10, T/2). Target at the last step: the **mean**
  of the two marked values (addition; Pascanu's definition: the "biases" column's 0.82
  is near what a constant achieves on the mean, not on the sum) or their product.
  Output linear; error: fraction of sequences with |o − y| > 0.04.
- **memorization5 / memorization20**: n_pos symbols from an alphabet of n_values
  (5 bits: 2 values × 5; "20 bits": 5 values × 10) shown one-hot in the first n_pos steps;
  then T blank steps (a "blank" input channel on); then a go signal; then n_pos output
  steps, where the network must emit the symbols in order (softmax over the alphabet).
  Error: wrong symbols per sequence. Pascanu's generator also asks for a "blank" class at
  every earlier step; we train on the output steps only, which leaves the error the
  paper reports unchanged.

**The objective's scale.** In Martens & Sutskever's (2011) RNN code, which the paper's
experiments come from, the network's loss and gradient are *sums* over the minibatch's
sequences and output steps of ½(o − y)² per linear output and of the cross-entropy per
softmax output; their HF divides by the number of outputs, but the paper's SGD learning
rates (1e-3 … 1e-6, 100 sequences per minibatch) only make sense for the sum: on a mean,
1e-6 could not move the weights in 50,000 updates, and our earlier runs on the mean found
the best ε at the top of the grid. So :meth:`RNNProblem.loss` is the sum over the
minibatch's sequences (and output steps): ε here is the paper's ε, and it equals a
per-sequence-mean learning rate 100 × larger. The pilot runs in ``results/`` check that the
paper's ε grid brackets the optimum under it.
"""

from __future__ import annotations

import functools
import itertools
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from nesterov_jax.paper.models import TanhRNN
from nesterov_jax.engine.tasks import Task, dataset_mean

PROBLEMS = ("addition", "multiplication", "memorization5", "memorization20")
MEMORY = {"memorization5": (2, 5), "memorization20": (5, 10)}  # (n_values, n_pos)
THRESHOLD = 0.04
# Table 4's input→hidden scale per problem.
INPUT_SCALE = {
  "addition": 0.001,
  "multiplication": 0.001,
  "memorization5": 0.1,
  "memorization20": 0.1,
}


class RNNProblem(NamedTuple):
  """One long-term-dependency problem: ``x, y = problem.sample(key, batch_size)``.

  ``x`` is [time, batch, input_dim]; ``y`` is [batch, 1] targets (addition,
  multiplication) or [n_pos, batch] symbol indices (memorization).
  """

  name: str
  length: int
  input_dim: int
  output_dim: int
  num_outputs: int  # output steps at the end of the sequence
  average_target: float

  @property
  def total_length(self) -> int:
    return self.length + 2 * MEMORY[self.name][1] if self.name in MEMORY else self.length

  def sample(self, key: chex.PRNGKey, batch_size: int):
    if self.name in MEMORY:
      return _memorization(key, batch_size, self.length, *MEMORY[self.name])
    return _arithmetic(key, batch_size, self.length, self.name)

  def loss(self, outputs: chex.Array, y: chex.Array) -> chex.Array:
    """The training objective, summed over the minibatch's sequences and output steps (see
    the module's docstring): Σ ½(o − y)² at the last step, or Σ cross-entropy over the
    output steps."""
    if self.name in MEMORY:
      return jnp.sum(optax.softmax_cross_entropy_with_integer_labels(outputs, y))
    return jnp.sum(0.5 * (outputs[-1] - y) ** 2)

  def error(self, outputs: chex.Array, y: chex.Array) -> chex.Array:
    """The paper's zero-one metric per sequence, [batch] (average it for Table 5)."""
    if self.name in MEMORY:
      return jnp.sum(jnp.argmax(outputs, axis=-1) != y, axis=0).astype(jnp.float32)
    return (jnp.abs(outputs[-1, :, 0] - y[:, 0]) > THRESHOLD).astype(jnp.float32)


def rnn_task(name: str, length: int) -> RNNProblem:
  """The problem ``name`` ∈ {addition, multiplication, memorization5, memorization20} at T = ``length``."""
  if name not in PROBLEMS:
    raise ValueError(f"task.problem = {name!r}: unknown RNN problem; known: {', '.join(PROBLEMS)}")
  if name in MEMORY:
    n_values, n_pos = MEMORY[name]
    return RNNProblem(name, length, n_values + 2, n_values, n_pos, 1.0 / n_values)
  if length < 10:
    raise ValueError(
      f"task.length = {length}: {name} needs T ≥ 10 (its first marker lies in the first T/10 steps)"
    )
  return RNNProblem(name, length, 2, 1, 1, 0.5 if name == "addition" else 0.25)


def _arithmetic(key, batch_size, length, name):
  k_values, k_first, k_second = jax.random.split(key, 3)
  values = jax.random.uniform(k_values, (length, batch_size))
  first = jax.random.randint(k_first, (batch_size,), 0, length // 10)
  second = jax.random.randint(k_second, (batch_size,), length // 10, length // 2)
  steps = jnp.arange(length)[:, None]
  markers = ((steps == first) | (steps == second)).astype(jnp.float32)
  a, b = values[first, jnp.arange(batch_size)], values[second, jnp.arange(batch_size)]
  target = (a + b) / 2.0 if name == "addition" else a * b
  x = jnp.stack([values - 0.5, markers], axis=-1)
  return x, target[:, None]


def _memorization(key, batch_size, length, n_values, n_pos):
  symbols = jax.random.randint(key, (n_pos, batch_size), 0, n_values)
  total = length + 2 * n_pos
  steps = jnp.arange(total)[:, None]
  go_step = length + n_pos
  shown = jax.nn.one_hot(
    jnp.concatenate([symbols, jnp.full((total - n_pos, batch_size), -1)]), n_values
  )
  blank = ((steps >= n_pos) & (steps != go_step)) * jnp.ones((1, batch_size))
  go = (steps == go_step) * jnp.ones((1, batch_size))
  x = jnp.concatenate([shown, blank[..., None], go[..., None]], axis=-1)
  return x, symbols


def evaluation_sequences(problem: RNNProblem, config: ml_collections.ConfigDict) -> dict:
  """The two fixed sets of ``num_eval_sequences`` sequences ("train", "test"), batch first."""
  k_train, k_test = jax.random.split(jax.random.key(config.data_seed))
  batch_first = lambda xy: (
    jnp.swapaxes(xy[0], 0, 1),
    jnp.swapaxes(xy[1], 0, 1) if problem.name in MEMORY else xy[1],
  )
  n = config.num_eval_sequences
  return {
    "train": batch_first(problem.sample(k_train, n)),
    "test": batch_first(problem.sample(k_test, n)),
  }


def biases_baseline(config: ml_collections.ConfigDict) -> float:
  """Table 5's "biases" column: the error, on the engine's "train" evaluation sequences, of
  the constant output a model that learns only its output biases converges to (the average
  target under squared error; uniform class probabilities under cross-entropy, whose argmax
  is the first symbol)."""
  problem = rnn_task(config.problem, config.length)
  if problem.name in MEMORY:
    return constant_symbol_errors(config)[0]
  _, y = evaluation_sequences(problem, config)["train"]
  outputs = jnp.full((1, y.shape[0], 1), problem.average_target)
  return float(jnp.mean(problem.error(outputs, y)))


def fixed_output_errors(config: ml_collections.ConfigDict, split: str = "train") -> np.ndarray:
  """Memorization only: ``[n_pos, n_values]``, the fraction of the engine's ``split``
  evaluation sequences whose symbol at position i is not k. A model that ignores its input
  outputs one fixed string s (symbol s_i at output step i); its error is Σ_i table[i, s_i]."""
  if config.problem not in MEMORY:
    raise ValueError(
      f"task.problem = {config.problem!r}: fixed outputs are defined for "
      f"the memorization problems only ({', '.join(MEMORY)})"
    )
  return _fixed_output_errors(
    config.problem, config.length, config.data_seed, config.num_eval_sequences, split
  ).copy()


@functools.lru_cache(maxsize=32)
def _fixed_output_errors(name: str, length: int, data_seed: int, n: int, split: str) -> np.ndarray:
  problem = rnn_task(name, length)
  config = ml_collections.ConfigDict(dict(data_seed=data_seed, num_eval_sequences=n))
  _, y = evaluation_sequences(problem, config)[split]  # [batch, n_pos]
  y = np.asarray(y)
  return np.stack([np.mean(y != k, axis=0) for k in range(problem.output_dim)], axis=1)


def constant_symbol_errors(
  config: ml_collections.ConfigDict, split: str = "train"
) -> tuple[float, ...]:
  """The error of outputting the same symbol k at every output step, for k = 0 … n_values − 1
  (symbol 0 is ``biases_baseline``). Each position is right for exactly one k, so the errors
  sum to n_pos × (n_values − 1): 10 × 4 = 40 for 20-bit, 5 × 1 = 5 for 5-bit."""
  return tuple(float(e) for e in fixed_output_errors(config, split).sum(axis=0))


MAX_FIXED_STRINGS = 1024  # fixed_strings_at tries every string up to this many (5-bit's 32)


def tries_every_fixed_string(
  n_pos: int, n_values: int, max_strings: int = MAX_FIXED_STRINGS
) -> bool:
  """Whether ``fixed_strings_at`` tries all n_values^n_pos strings (else the constant ones)."""
  return n_values**n_pos <= max_strings


def fixed_strings_at(
  config: ml_collections.ConfigDict,
  train_error: float,
  test_error: float,
  max_strings: int = MAX_FIXED_STRINGS,
) -> list[tuple[int, ...]]:
  """The fixed output strings whose errors on both evaluation sets equal ``train_error`` and
  ``test_error`` (to half a sequence's share, 1 / (2 num_eval_sequences)): a run that ended
  there most likely predicts without reading its input. Every string is tried where there are
  at most ``max_strings`` (5-bit: 2⁵ = 32); otherwise only the constant ones (20-bit: 5¹⁰
  strings would put one within the tolerance of almost any error near guessing)."""
  train, test = fixed_output_errors(config, "train"), fixed_output_errors(config, "test")
  n_pos, n_values = train.shape
  if tries_every_fixed_string(n_pos, n_values, max_strings):
    strings = list(itertools.product(range(n_values), repeat=n_pos))
  else:
    strings = [(k,) * n_pos for k in range(n_values)]
  tol = 0.5 / config.num_eval_sequences
  at = lambda table, s: float(table[np.arange(n_pos), list(s)].sum())
  return [
    s
    for s in strings
    if abs(at(train, s) - train_error) < tol and abs(at(test, s) - test_error) < tol
  ]


def rnn_engine_task(config: ml_collections.ConfigDict, gradient: str = "through_time") -> Task:
  """An RNN problem for the sweep engine. Config fields: ``problem``, ``length``,
  ``batch_size`` (100), ``hidden_size`` (100), ``num_eval_sequences``, ``eval_batch_size``,
  ``unroll``, ``data_seed``.

  Training minibatches are fresh sequences each update. ``train_error`` is the paper's
  zero-one metric on a fixed set of ``num_eval_sequences`` sequences (the training
  distribution is infinite, so this is its error); ``test_error`` on a second such set.
  ``gradient``: how the recurrence is differentiated (see ``models.TanhRNN``; the benchmark's
  "before" is "autodiff").
  """
  problem = rnn_task(config.problem, config.length)
  model = TanhRNN(
    output_size=problem.output_dim,
    num_outputs=problem.num_outputs,
    hidden_size=config.hidden_size,
    input_scale=INPUT_SCALE[problem.name],
    output_bias=jnp.log(problem.average_target)
    if problem.name in MEMORY
    else problem.average_target,
    unroll=config.unroll,
    gradient=gradient,
  )
  n = config.num_eval_sequences
  data = evaluation_sequences(problem, config)

  def init(key, hparams):
    del hparams
    return model.init(key, jnp.zeros((problem.total_length, 1, problem.input_dim)))["params"]

  def apply(params, x):
    return model.apply({"params": params}, x)

  def sample(data, key, batch_size=None):
    return problem.sample(key, batch_size or config.batch_size)

  def evaluate(params, data):
    def per_case(xy):
      x, y = xy  # batch first
      y = jnp.swapaxes(y, 0, 1) if problem.name in MEMORY else y
      return problem.error(apply(params, jnp.swapaxes(x, 0, 1)), y)

    return {
      "train_error": dataset_mean(per_case, data["train"], config.eval_batch_size),
      "test_error": dataset_mean(per_case, data["test"], config.eval_batch_size),
    }

  def predict(params, x):
    return model.apply({"params": params}, x, return_hidden=True)

  return Task(
    f"{problem.name}_T{problem.length}",
    data,
    init,
    apply,
    problem.loss,
    sample,
    evaluate,
    provenance=f"generated on the fly: {problem.name}, T = {problem.length}, fresh sequences "
    f"every update; errors on {n} fixed sequences (seed {config.data_seed})",
    predict=predict,
    cases_first=False,
  )


# The RNN task's own config fields, checked in one line by the engine before anything compiles.
rnn_engine_task.fields = {
  "problem": "string",
  "length": "positive_int",
  "hidden_size": "positive_int",
  "num_eval_sequences": "positive_int",
  "unroll": "positive_int",
}
rnn_engine_task.how_fields = ("unroll",)  # the scan's unroll: the same numbers, computed faster
