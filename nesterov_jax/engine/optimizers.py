"""The optimizers a grid may name, each reached through one interface: :class:`Family`.

``config.grid.optimizers`` (and ``grid.points``) accept

- a registered family's name: the ``nesterov_jax.optimizers`` entry points of installed
  packages (this package's are listed in its pyproject.toml), or one passed to :func:`register`;
- any optax alias by name (``adam``, ``adamw``, ``rmsprop``, ``sgd``, ``lion``, ...; optax's
  contributed ones as ``contrib.NAME``): ε is its ``learning_rate``; where it has a
  ``momentum`` argument the grid's μ_max is it; a grid axis named like another of its
  arguments (``b1``) sweeps that argument;
- ``"MODULE:FUNCTION"``, a user's factory ``(hparams, **fixed) -> GradientTransformation``,
  ``hparams`` mapping ``learning_rate``, ``mu_max`` and every other grid axis to the point's
  traced scalars. It runs once per μ_max unless it sets ``FUNCTION.uses_momentum = False``.

Fixed, non-swept arguments come from ``config.optimizer_args.NAME`` (e.g.
``optimizer_args.adam.b2 = 0.95``); every record names its optimizer and these arguments.
Every hyperparameter reaches the optimizer as a traced array, so a grid of any values, and
any mix of families, is one compiled program: points of one family (one ``key``) are vmapped
together, and each family is one branch of the program.

A family is a NamedTuple of functions, as a task is (:class:`~nesterov_jax.engine.tasks.Task`)
and as an optax ``GradientTransformation`` is: one style for everything the engine is given,
each field a pure function with a default that suits plain first-order methods, so a new
family states only what differs (several phases, extra ``update`` arguments, its own reported
point, its own words in reports).
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from nesterov_jax.engine.config import ConfigError, grid_axes, load_object
from nesterov_jax.momentum import evaluation_params

Phase = Any  # a family's description of one phase (None for single-phase families)
ENTRY_POINTS = "nesterov_jax.optimizers"  # group: name = "module:builder", builder(name) -> Family


def _nothing(*args) -> None:
  return None


def _one_phase(config) -> list[tuple[int, int, Phase]]:
  return [(0, config.num_updates, None)]


def _task_sample(task, data, key, phase):
  return task.sample(data, key)


def _no_args(*args) -> dict:
  return {}


def _zero_cost(opt_state):
  return jnp.float32(0.0)


def _plain_label(name: str, mu: float, mu_name: str) -> str:
  return name + (f", μ {mu:g}" if mu else "")


class Family(NamedTuple):
  """One kind of optimizer in the engine.

  Attributes:
    key: points whose families share a key are vmapped together (two optimizer names may
      share one family, told apart inside it by ``arrays``).
    make: ``(config, hp, phase, phase_start) -> GradientTransformationExtraArgs``, ``hp``
      the point's traced hyperparameters.
    uses_momentum: whether the grid's μ_max is an argument (else one run per ε, μ_max 0).
    validate: ``(config) -> None``: one-line ConfigErrors for this family's config, before
      anything compiles.
    check_task: ``(config, task) -> None``: one-line ConfigErrors for a task it cannot train.
    phases: ``(config) -> [(first update, end, phase)]``, stretches with their own program.
    arrays: ``(names) -> {name: [points] array}``, per-point arrays from optimizer names.
    sample: ``(task, data, key, phase) -> batch``.
    update_args: ``(task, params, batch, loss, grads) -> dict``: ``update``'s extra arguments.
    begin_chunk: ``(opt_state, phase, start, phase_start) -> opt_state``.
    cost: ``(opt_state) -> scalar``: network passes × cases the last update spent beyond
      the gradient's.
    diagnostics: ``(opt_state) -> {name: scalar}``, logged per chunk.
    record_args: ``(config, name) -> dict``: the fixed arguments a record names.
    takes_axis: ``(axis) -> bool``: whether a grid axis is one of its arguments.
    evaluation_params: ``(params, opt_state) -> params``: the point whose errors are
      reported (a look-ahead method's iterate, a schedule-free method's average). At the
      initialization it must be the initial parameters (the engine evaluates each distinct
      initialization once at update 0).
    kind: ``(name, mu) -> str``: the algorithm a point runs, in words: points of one
      family and kind at the same μ_max are run once (two names that coincide at μ 0).
    label: ``(name, mu, mu_name) -> str``: a setting in a report.
    mu_name: ``(config) -> str``: what the grid's μ_max is to this family ("μ_max" unless
      it says otherwise).
    line_style: ``(name) -> str``: its lines in plots.
    reaches: ``(config, mu_max) -> update | None``: the first update at which its schedule
      gives μ = μ_max, marked on the error curves (None: nothing to mark).
    milestones: ``(config) -> {name: update}``: updates where every point's errors are
      also measured and recorded as ``train_error_{name}`` (the start of a schedule's phase).
    note: a sentence for summary.md about what the grid's axes mean to it ("" for none).
    schedules: ``(config, mu_max) -> {name: step -> value}``: the hyperparameters that change
      over a run (CM's and NAG's μ), for live summaries.
  """

  key: str
  make: Callable
  uses_momentum: bool = True
  validate: Callable = _nothing
  check_task: Callable = _nothing
  phases: Callable = _one_phase
  arrays: Callable = _no_args
  sample: Callable = _task_sample
  update_args: Callable = _no_args
  begin_chunk: Callable = lambda opt_state, phase, start, phase_start: opt_state
  cost: Callable = _zero_cost
  diagnostics: Callable = _no_args
  record_args: Callable = _no_args
  takes_axis: Callable = lambda axis: False
  evaluation_params: Callable = evaluation_params
  kind: Callable = lambda name, mu: name
  label: Callable = _plain_label
  mu_name: Callable = lambda config: "μ_max"
  line_style: Callable = lambda name: "-."
  reaches: Callable = lambda config, mu_max: None
  milestones: Callable = _no_args
  note: str = ""
  schedules: Callable = lambda config, mu_max: {}


# ------------------------------------------------------------ optax aliases and factories


def fixed_args(config, name: str) -> dict:
  """``config.optimizer_args.NAME`` as a dict (empty when not set)."""
  args = config.get("optimizer_args") or {}
  fixed = args.get(name) or {}
  return dict(fixed.to_dict() if hasattr(fixed, "to_dict") else fixed)


def _line_search_args(task, params, batch, loss, grads) -> dict:
  """The extra arguments optax's own line searches read (value, grad, value_fn)."""
  return {"value": loss, "grad": grads, "value_fn": functools.partial(_batch_loss, task, batch)}


def _batch_loss(task, batch, params):
  return task.loss(params, batch)


def optax_alias(name: str) -> Callable | None:
  """optax's optimizer ``name`` (``contrib.NAME`` for a contributed one), or None."""
  module = optax
  if name.startswith("contrib."):
    module, name = optax.contrib, name.removeprefix("contrib.")
  fn = getattr(module, name, None)
  if not callable(fn) or not getattr(fn, "__module__", "").startswith(
    ("optax._src.alias", "optax.contrib")
  ):
    return None
  try:
    params = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return None
  return fn if "learning_rate" in params else None


def _schedule_free_aware(params, opt_state):
  """optax's schedule-free methods are evaluated at their averaged iterate (optax's own
  ``schedule_free_eval_params``), everything else as :func:`nesterov_jax.evaluation_params`
  (which finds a look-ahead state anywhere in a chain)."""
  is_sf = lambda x: isinstance(x, optax.contrib.ScheduleFreeState)
  found = [s for s in jax.tree.leaves(opt_state, is_leaf=is_sf) if is_sf(s)]
  if found:
    return optax.contrib.schedule_free_eval_params(found[0], params)
  return evaluation_params(params, opt_state)


def optax_family(name: str) -> Family:
  fn = optax_alias(name)
  parameters = inspect.signature(fn).parameters
  uses_momentum = "momentum" in parameters

  def validate(config):
    fixed = fixed_args(config, name)
    unknown = [k for k in fixed if k not in parameters]
    if unknown:
      raise ConfigError(
        f"config field optimizer_args.{name}.{unknown[0]}: optax.{name} has no "
        f"argument {unknown[0]!r} (it has: {', '.join(parameters)})"
      )
    swept = [k for k in fixed if k in ("learning_rate", "momentum") or k in grid_axes(config.grid)]
    if swept:
      raise ConfigError(
        f"config field optimizer_args.{name}.{swept[0]}: that argument is swept by "
        "the grid; set it there"
      )

  def make(config, hp, phase, phase_start):
    kwargs = fixed_args(config, name)
    kwargs["learning_rate"] = hp["learning_rate"]
    if uses_momentum:
      kwargs["momentum"] = hp["mu_max"]
    kwargs.update(
      {k: hp[k] for k in hp if k in parameters and k not in ("learning_rate", "momentum")}
    )
    return optax.with_extra_args_support(fn(**kwargs))

  def record_args(config, _):
    """Every argument with a plain default, as it was set (the swept ones are the grid's)."""
    out = {
      k: p.default
      for k, p in parameters.items()
      if k not in ("learning_rate", "momentum")
      and k not in grid_axes(config.grid)
      and isinstance(p.default, (bool, int, float, str, type(None)))
    }
    out.update(fixed_args(config, name))
    return out

  return Family(
    key=name,
    make=make,
    uses_momentum=uses_momentum,
    validate=validate,
    update_args=_line_search_args,
    record_args=record_args,
    takes_axis=lambda axis: axis in parameters,
    evaluation_params=_schedule_free_aware,
  )


def factory_family(name: str) -> Family:
  fn = load_object("grid.optimizers", name)

  def make(config, hp, phase, phase_start):
    opt = fn({k: v for k, v in hp.items() if k != "seed"}, **fixed_args(config, name))
    if not isinstance(opt, optax.GradientTransformation):
      raise ConfigError(
        f"optimizer {name}: returned {type(opt).__name__}, not an optax.GradientTransformation"
      )
    return optax.with_extra_args_support(opt)

  return Family(
    key=name,
    make=make,
    uses_momentum=bool(getattr(fn, "uses_momentum", True)),
    update_args=_line_search_args,
    record_args=lambda config, _: fixed_args(config, name),
    takes_axis=lambda axis: True,  # its hparams hold every axis
    evaluation_params=_schedule_free_aware,
  )


# ------------------------------------------------------------------------------ lookup


_REGISTERED: dict[str, Callable[[str], Family]] = {}


def register(name: str, builder: Callable[[str], Family]) -> None:
  """Makes ``name`` an optimizer a grid may name: ``builder(name)`` gives its family."""
  _REGISTERED[name] = builder


@functools.lru_cache(maxsize=None)
def _entry_points() -> dict[str, Any]:
  return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINTS)}


@functools.lru_cache(maxsize=None)
def _family(name: str) -> Family:
  if name in _REGISTERED:
    return _REGISTERED[name](name)
  if name in _entry_points():
    return _entry_points()[name].load()(name)
  if optax_alias(name) is not None:
    return optax_family(name)
  known = sorted({*_REGISTERED, *_entry_points()})
  raise ConfigError(
    f"unknown optimizer {name!r}: one of {', '.join(known)}, an optax alias (adam, "
    "rmsprop, sgd, ...; contrib.NAME), or MODULE:FUNCTION for your own factory"
  )


def family(name: str) -> Family:
  """The family of optimizer ``name``; one-line ConfigError for an unknown one."""
  if not isinstance(name, str):
    raise ConfigError(f"config field grid.optimizers: {name!r} is not an optimizer name")
  if ":" in name:  # a user's module may change between runs in one process
    return factory_family(name)
  return _family(name)


def label(name: str, mu: float, mu_name: str = "μ_max") -> str:
  """A setting in words, as its family says it."""
  return family(name).label(name, mu, mu_name)
