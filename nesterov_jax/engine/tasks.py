"""The task interface of the sweep engine, and the registry of tasks.

A task is pure functions plus its data. The engine never looks inside: it initializes
with ``init``, trains on minibatches from ``sample`` with the loss
``output_loss(apply(params, inputs), targets)`` and measures with ``evaluate``. The output
function and its matching loss stay separate because Gauss-Newton curvature (Hessian-free)
needs both.

Every function is written for one grid point; the engine vmaps them over the grid.

Tasks are found by name: those :func:`register` adds (``teacher_mlp``, below), the
``nesterov_jax.tasks`` entry points of installed packages (this package's are listed in its
pyproject.toml), or a user's ``"MODULE:FUNCTION"``. A task's report hook,
``(workdir, records, config) -> [file names]``, which ``nesterov-jax report`` calls after its
own tables and plots (a task's own tables go there), is a ``nesterov_jax.reports`` entry point
of the task's name, or a ``report`` attribute on a user's builder.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import ml_collections

from nesterov_jax.engine.config import ConfigError, check_number, check_string, load_object

Params = Any
Batch = tuple[chex.Array, chex.Array]
ENTRY_POINTS = "nesterov_jax.tasks"  # group: name = "module:builder", builder(task_config) -> Task
REPORT_ENTRY_POINTS = (
  "nesterov_jax.reports"  # group: task name = "module:function", its report hook
)


class DataError(ValueError):
  """A data file that is missing or malformed; the message names the file and what is wrong."""


class Task(NamedTuple):
  """One training problem.

  Attributes:
    name: the task's name, recorded with every result.
    data: a pytree of arrays, passed to the compiled program as an argument (never
      baked in as a constant).
    init: ``(key, hparams) -> params``; ``hparams`` maps the task's own grid axes (see
      ``hparam_axes``) to this point's scalar values.
    apply: ``(params, inputs) -> outputs``, the network's output function.
    output_loss: ``(outputs, targets) -> scalar``, the training objective's matching loss.
    sample: ``(data, key, batch_size=None) -> (inputs, targets)``, one minibatch (of the
      task's configured size when ``batch_size`` is None).
    evaluate: ``(params, data) -> {metric: scalar}``; must include ``train_error``,
      the number the paper reports.
    hparam_axes: names of task hyperparameters that the grid may sweep (e.g. init scale).
    provenance: where the data came from (embedded, generated, original file), in words.
    predict: optional ``(params, inputs) -> outputs`` in the data's units (e.g. logistic
      outputs after the sigmoid), for reports that draw what the network produces.
    train_set: optional ``data -> (inputs, targets)``, the whole fixed training set (for
      full-batch methods; None where data are generated on the fly).
    num_train: the training set's size (None when generated on the fly), to express
      compute in passes through it.
    cases_first: whether batches hold cases on axis 0 (RNN batches are time-major).
    squared_gradients: optional ``(params, inputs, targets) -> pytree``, the mean over
      cases of each case's squared loss gradient (Martens' HF preconditioner), computed
      faster than per-case gradients can be; None: HF computes them with ``vmap``.
  """

  name: str
  data: Any
  init: Callable[[chex.PRNGKey, Mapping[str, chex.Array]], Params]
  apply: Callable[[Params, chex.Array], chex.Array]
  output_loss: Callable[[chex.Array, chex.Array], chex.Array]
  sample: Callable[..., Batch]
  evaluate: Callable[[Params, Any], dict[str, chex.Array]]
  hparam_axes: tuple[str, ...] = ()
  provenance: str = ""
  predict: Callable[[Params, chex.Array], chex.Array] | None = None
  train_set: Callable[[Any], Batch] | None = None
  num_train: int | None = None
  cases_first: bool = True
  squared_gradients: Callable[[Params, chex.Array, chex.Array], Params] | None = None

  def loss(self, params: Params, batch: Batch) -> chex.Array:
    inputs, targets = batch
    return self.output_loss(self.apply(params, inputs), targets)


TASKS: dict[str, Callable[[ml_collections.ConfigDict], Task]] = {}


def register(name: str):
  """A decorator that makes its builder ``(task_config) -> Task`` the task ``name``."""

  def decorator(builder):
    TASKS[name] = builder
    return builder

  return decorator


@functools.lru_cache(maxsize=None)
def _entry_points(group: str = ENTRY_POINTS) -> dict[str, Any]:
  return {ep.name: ep for ep in importlib.metadata.entry_points(group=group)}


def task_builder(name: str) -> Callable[[ml_collections.ConfigDict], Task]:
  """The builder of task ``name``: a registered task, an installed package's entry point, or
  ``"MODULE:FUNCTION"``, a user's function ``(task_config) -> Task`` in a module found on
  ``sys.path`` (the CLI adds the config file's folder); one-line ConfigError otherwise."""
  if ":" in name:
    return load_object("task.name", name)
  if name not in TASKS and name in _entry_points():
    TASKS[name] = _entry_points()[name].load()
  if name not in TASKS:
    known = sorted({*TASKS, *_entry_points()})
    raise ConfigError(
      f"unknown task {name!r}; known tasks: {', '.join(known)}, or MODULE:FUNCTION for your own"
    )
  return TASKS[name]


def task_report(name: str) -> Callable | None:
  """The report hook of task ``name`` (see the module's docstring), or None."""
  if name in _entry_points(REPORT_ENTRY_POINTS):
    return _entry_points(REPORT_ENTRY_POINTS)[name].load()
  return getattr(task_builder(name), "report", None)


def check_task_name(name: str) -> None:
  """Raises a one-line ConfigError for a task that is neither registered nor importable."""
  task_builder(name)


# A task field's kind, and the one-line check that reads it.
FIELD_CHECKS = {
  "positive_int": lambda field, value: check_number(field, value, integer=True, low=1),
  "seed": lambda field, value: check_number(field, value, integer=True, low=0, high=2**32 - 1),
  "string": check_string,
}
# The fields every task may have. A task declares its own with a ``fields`` attribute on its
# builder, {field: kind}, and the fields that change how a run computes but not its results
# (merged runs may differ in them) with a ``how_fields`` attribute, a tuple of names.
COMMON_FIELDS = {
  "name": "string",
  "data_dir": "string",
  "data_seed": "seed",
  "num_train": "positive_int",
  "num_test": "positive_int",
  "batch_size": "positive_int",
  "eval_batch_size": "positive_int",
}
COMMON_HOW_FIELDS = ("eval_batch_size",)  # the cases per evaluation batch: summation order only


def task_fields(name: str) -> dict[str, str]:
  """The kinds of task ``name``'s config fields: the common ones and its builder's ``fields``."""
  declared = dict(getattr(task_builder(name), "fields", {}))
  unknown = {f: k for f, k in declared.items() if k not in FIELD_CHECKS}
  if unknown:
    raise ConfigError(
      f"task {name} declares fields of unknown kinds {unknown}; kinds: {', '.join(FIELD_CHECKS)}"
    )
  return {**COMMON_FIELDS, **declared}


def how_fields(name: str) -> tuple[str, ...]:
  """Task ``name``'s fields that change how a run computes, not what it computes."""
  return COMMON_HOW_FIELDS + tuple(getattr(task_builder(name), "how_fields", ()))


def check_task_fields(config: ml_collections.ConfigDict) -> None:
  """One-line ConfigErrors for task fields of the wrong type or range, as the task declares
  them (fields it does not declare are its builder's to check)."""
  kinds = task_fields(config.name)
  for field, value in config.items():
    if field in kinds:
      FIELD_CHECKS[kinds[field]](f"task.{field}", value)


def make_task(config: ml_collections.ConfigDict) -> Task:
  """Builds the task ``config.name`` from its config section; a field its builder rejects
  becomes a one-line ConfigError (data problems stay DataErrors, which name the file)."""
  builder = task_builder(config.name)
  check_task_fields(config)
  try:
    task = builder(config)
  except DataError:
    raise
  except ValueError as e:
    raise ConfigError(f"task {config.name}: {e}") from e
  except (AttributeError, KeyError) as e:  # a field of another task's config section
    field = str(e).strip("'\"")
    if not isinstance(config, ml_collections.ConfigDict) or hasattr(config, field):
      raise
    raise ConfigError(
      f"task {config.name} needs config field task.{field}, "
      "which this config lacks (is task.name right?)"
    ) from e
  if not isinstance(task, Task):
    raise ConfigError(
      f"task {config.name}: its builder returned {type(task).__name__}, not a "
      "nesterov_jax.engine.Task"
    )
  return task


def minibatch(inputs: chex.Array, targets: chex.Array, key: chex.PRNGKey, batch_size: int) -> Batch:
  """``batch_size`` training cases drawn uniformly with replacement.

  The paper does not say how its minibatches were drawn; i.i.d. draws cost one small
  gather per update on any device, where a per-epoch shuffle would sort the whole set.
  """
  idx = jax.random.randint(key, (batch_size,), 0, inputs.shape[0])
  return inputs[idx], targets[idx]


def dataset_mean(per_case, cases, batch_size: int) -> chex.Array:
  """Mean of ``per_case(batch) -> [batch]`` over a whole data set, in batches.

  ``cases`` is an array or a pytree of arrays with a leading case axis. Batching bounds
  memory when a vmapped grid evaluates on the full training set (the paper's reported
  error): [grid, batch, width] activations instead of [grid, N, width].
  """
  n = jax.tree.leaves(cases)[0].shape[0]
  batch_size = min(batch_size, n)
  num_batches = -(-n // batch_size)
  pad = num_batches * batch_size - n

  def batched(x):
    x = jnp.concatenate([x, jnp.zeros((pad,) + x.shape[1:], x.dtype)])
    return x.reshape((num_batches, batch_size) + x.shape[1:])

  mask = (
    (jnp.arange(num_batches * batch_size) < n).astype(jnp.float32).reshape(num_batches, batch_size)
  )
  sums = jax.lax.map(lambda b: jnp.sum(per_case(b[0]) * b[1]), (jax.tree.map(batched, cases), mask))
  return jnp.sum(sums) / n


@register("teacher_mlp")
def teacher_mlp(config: ml_collections.ConfigDict) -> Task:
  """Regression onto a random tanh teacher network: a small task for tests and demos.

  Config fields: ``num_train``, ``num_test``, ``input_dim``, ``hidden``, ``batch_size``,
  ``data_seed``. The data are generated from ``data_seed``; the student has the
  teacher's shape, tanh hidden units and a linear output, trained on squared error.
  The grid may sweep ``init_scale``, a multiplier on the student's initial weights.
  """
  key_x, key_teacher = jax.random.split(jax.random.key(config.data_seed))
  num = config.num_train + config.num_test
  x = jax.random.normal(key_x, (num, config.input_dim))

  def init(key, hparams):
    k1, k2 = jax.random.split(key)
    scale = hparams.get("init_scale", 1.0)
    return {
      "w1": scale
      * jax.random.normal(k1, (config.input_dim, config.hidden))
      / jnp.sqrt(config.input_dim),
      "b1": jnp.zeros(config.hidden),
      "w2": scale * jax.random.normal(k2, (config.hidden, 1)) / jnp.sqrt(config.hidden),
      "b2": jnp.zeros(1),
    }

  def apply(params, inputs):
    return jnp.tanh(inputs @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]

  def output_loss(outputs, targets):
    return 0.5 * jnp.mean(jnp.sum((outputs - targets) ** 2, axis=-1))

  teacher = init(key_teacher, {"init_scale": 2.0})
  y = apply(teacher, x)
  data = {
    "x_train": x[: config.num_train],
    "y_train": y[: config.num_train],
    "x_test": x[config.num_train :],
    "y_test": y[config.num_train :],
  }

  def sample(data, key, batch_size=None):
    return minibatch(data["x_train"], data["y_train"], key, batch_size or config.batch_size)

  def evaluate(params, data):
    sq = lambda x, y: jnp.mean(jnp.sum((apply(params, x) - y) ** 2, axis=-1))
    return {
      "train_error": sq(data["x_train"], data["y_train"]),
      "test_error": sq(data["x_test"], data["y_test"]),
    }

  return Task(
    "teacher_mlp",
    data,
    init,
    apply,
    output_loss,
    sample,
    evaluate,
    hparam_axes=("init_scale",),
    provenance=f"generated: random tanh teacher, seed {config.data_seed}",
    train_set=lambda data: (data["x_train"], data["y_train"]),
    num_train=config.num_train,
  )


teacher_mlp.fields = {"input_dim": "positive_int", "hidden": "positive_int"}
