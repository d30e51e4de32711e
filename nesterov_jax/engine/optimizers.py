"""The optimizers a grid may name, each reached through one interface: :class:`Family`.

``config.grid.optimizers`` (and ``grid.points``) accept

- ``cm`` and ``nag``, the paper's methods (:func:`nesterov_jax.momentum_method`) under the
  config's momentum schedule (``schedule``: Eq. 5, Section 4's warm-up, or constant μ_max);
- ``hf``, Hessian-free (:func:`nesterov_jax.hessian_free`) in the phases of ``config.hf``;
- any optax alias by name (``adam``, ``adamw``, ``rmsprop``, ``sgd``, ``lion``, ...; optax's
  contributed ones as ``contrib.NAME``): ε is its ``learning_rate``; where it has a
  ``momentum`` argument the grid's μ_max is it (constant: the paper's schedules are for CM and
  NAG); a grid axis named like another of its arguments (``b1``) sweeps that argument;
- ``"MODULE:FUNCTION"``, a user's factory ``(hparams, **fixed) -> GradientTransformation``,
  ``hparams`` mapping ``learning_rate``, ``mu_max`` and every other grid axis to the point's
  traced scalars. It runs once per μ_max unless it sets ``FUNCTION.uses_momentum = False``.

Fixed, non-swept arguments come from ``config.optimizer_args.NAME`` (e.g.
``optimizer_args.adam.b2 = 0.95``); every record names its optimizer and these arguments.
Every hyperparameter reaches the optimizer as a traced array, so a grid of any values, and
any mix of families, is one compiled program: points of one family are vmapped together
(CM and NAG share one, through a traced NAG flag), and each family is one branch of the
program.

A family whose run has several phases with different compiled programs (HF) or extra
arguments to ``update`` says so through the interface, so the engine's train step is the
same for all of them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import chex
import jax.numpy as jnp
import optax

from nesterov_jax import hf as hf_lib
from nesterov_jax.engine.config import ConfigError, check_number, load_object
from nesterov_jax.engine.tasks import Task
from nesterov_jax.momentum import momentum_method
from nesterov_jax.schedules import momentum_schedule, rnn_momentum_schedule

PAPER = ("cm", "nag")
HF = "hf"
Phase = Any  # a family's description of one phase (None for single-phase families)


class Family:
  """One kind of optimizer in the engine. Subclasses override what differs from plain
  first-order methods: one phase, the task's own minibatches, no extra arguments."""

  key: str             # points with the same key are vmapped together
  uses_momentum: bool  # whether the grid's μ_max is an argument (else one run per ε)

  def validate(self, config) -> None:
    """One-line ConfigErrors for this family's config, before anything compiles."""

  def check_task(self, config, task: Task) -> None:
    """One-line ConfigErrors for a task this family cannot train."""

  def phases(self, config) -> list[tuple[int, int, Phase]]:
    """(first update, end, phase) of each stretch of the run with its own program."""
    return [(0, config.num_updates, None)]

  def arrays(self, names) -> dict[str, Any]:
    """Extra per-point hyperparameter arrays, from the points' optimizer names."""
    return {}

  def make(self, config, hp: Mapping[str, chex.Array], phase: Phase, phase_start: int
           ) -> optax.GradientTransformationExtraArgs:
    raise NotImplementedError

  def sample(self, task: Task, data, key, phase: Phase):
    return task.sample(data, key)

  def update_args(self, task: Task, params, batch, loss, grads) -> dict:
    """Keyword arguments of ``update`` beyond (grads, state, params)."""
    return {}

  def begin_chunk(self, opt_state, phase: Phase, start, phase_start: int):
    return opt_state

  def cost(self, opt_state) -> chex.Array:
    """Network passes × cases the last update spent beyond the gradient's."""
    return jnp.float32(0.0)

  def diagnostics(self, opt_state) -> dict[str, chex.Array]:
    return {}

  def record_args(self, config, name: str) -> dict:
    """The fixed arguments a record names (``optimizer_args``)."""
    return {}

  def takes_axis(self, axis: str) -> bool:
    """Whether a grid axis of this name is one of this optimizer's arguments."""
    return False


# ---------------------------------------------------------------- the paper's CM and NAG


def momentum_of(config, mu_max):
  """μ[t] for CM and NAG under ``config.schedule``."""
  s = config.schedule
  if s.kind == "eq5":
    total = config.num_updates if s.finetune_steps > 0 else None
    return momentum_schedule(mu_max, total_steps=total, period=s.period,
                             finetune_steps=s.finetune_steps, finetune_momentum=s.finetune_momentum)
  if s.kind == "rnn":
    return rnn_momentum_schedule(mu_max, warmup_steps=s.warmup_steps, warmup_momentum=s.warmup_momentum)
  return mu_max


class Momentum(Family):
  key, uses_momentum = "momentum", True

  def arrays(self, names):
    import numpy as np

    return {"nesterov": np.array([n == "nag" for n in names], np.float32)}

  def make(self, config, hp, phase, phase_start):
    return optax.with_extra_args_support(
        momentum_method(hp["learning_rate"], momentum_of(config, hp["mu_max"]), hp["nesterov"]))


# ------------------------------------------------------------------------- Hessian-free


PHASE_FIELDS = ("num_updates", "batch_size", "curvature_batch_size", "max_cg_iterations", "decay",
                "learning_rate", "learning_rate_halving", "weight_cost", "damping", "preconditioner",
                "backtracking", "line_search")


class HessianFree(Family):
  """HF in phases (``config.hf.phases``): each fixes what changes the compiled program (batch
  sizes, the CG cap, which of Martens' line search, backtracking and preconditioner it uses)
  and its ζ, ε, L2 and damping restart; the state carries across phases. The grid's μ_max is
  the CG decay ζ, which plays μ (Sutskever et al. §5), and its ε multiplies the step. See
  ``protocols.hf_phase`` and ``configs/hf_curves.py``."""

  key, uses_momentum = HF, True

  def validate(self, config) -> None:
    if tuple(config.grid.optimizers) != (HF,):
      raise ConfigError("a grid with 'hf' holds no other optimizer (HF compiles its own program "
                        "per phase); run the others in a second config")
    if config.grid.get("points"):
      raise ConfigError("an HF run names hf in grid.optimizers (with its phases), not in grid.points")
    if "hf" not in config:
      raise ConfigError("optimizer 'hf' needs a config.hf section (see configs/hf_curves.py)")
    if config.schedule.kind != "constant":
      raise ConfigError("for 'hf' set schedule.kind = 'constant': its decay and ε are set per phase in config.hf")
    check_number("hf.initial_damping", config.hf.initial_damping, low=0.0, low_open=True)
    check_number("hf.cg_tolerance", config.hf.cg_tolerance, low=0.0, low_open=True)
    phase_list, chunk = config.hf.phases, config.chunk_size
    if not phase_list:
      raise ConfigError("config.hf.phases is empty")
    for i, phase in enumerate(phase_list):
      missing = [f for f in PHASE_FIELDS if f not in phase]
      if missing:
        raise ConfigError(f"hf phase {i} lacks {', '.join(missing)}")
      field = lambda name: f"hf.phases[{i}].{name}"
      for name in ("num_updates", "max_cg_iterations", "curvature_batch_size"):
        check_number(field(name), phase[name], integer=True, low=1)
      for name in ("batch_size", "learning_rate_halving"):
        check_number(field(name), phase[name], integer=True, low=0)
      check_number(field("weight_cost"), phase["weight_cost"], low=0.0)
      if phase["decay"] is not None:  # None: the grid's μ_max axis sets it
        check_number(field("decay"), phase["decay"], low=0.0, high=1.0, high_open=True)
      for name in ("learning_rate", "damping"):  # learning_rate None: the grid's ε
        if phase[name] is not None:
          check_number(field(name), phase[name], low=0.0, low_open=True)
      for name in ("preconditioner", "backtracking", "line_search"):
        if not isinstance(phase[name], bool):
          raise ConfigError(f"config field {field(name)} = {phase[name]!r}: must be True or False")
      if phase["num_updates"] % chunk:
        raise ConfigError(f"hf phase {i}: num_updates ({phase['num_updates']}) must be a positive "
                          f"multiple of chunk_size ({chunk})")
      if phase["batch_size"] and phase["curvature_batch_size"] > phase["batch_size"]:
        raise ConfigError(f"hf phase {i}: need batch_size ≥ 0 (0 = the whole training set) and "
                          "1 ≤ curvature_batch_size ≤ batch_size")
    total = sum(p["num_updates"] for p in phase_list)
    if total != config.num_updates:
      raise ConfigError(f"the hf phases add up to {total} updates; num_updates is {config.num_updates}")

  def check_task(self, config, task):
    if not task.cases_first:
      raise ConfigError(f"'hf' needs a task whose batches hold cases on axis 0; {task.name!r} does not")
    if any(p["batch_size"] == 0 for p in config.hf.phases) and task.train_set is None:
      raise ConfigError(f"an hf phase with batch_size 0 (whole training set) needs a task with a fixed "
                        f"training set; {task.name!r} has none")

  def phases(self, config):
    out, start = [], 0
    for phase in config.hf.phases:
      out.append((start, start + phase["num_updates"], phase))
      start += phase["num_updates"]
    return out

  def make(self, config, hp, phase, phase_start):
    """ε and ζ are the point's unless the phase sets them; ε may decay as ε·h/(h + t − t_start)
    (§5's "ε = 500/(t − 4000)" is ε = 0.5, h = 1000 from t = 5000)."""
    lr = hp["learning_rate"] if phase["learning_rate"] is None else phase["learning_rate"]
    h = phase["learning_rate_halving"]
    learning_rate = (lambda count: lr * h / (h + count - phase_start)) if h else lr
    return hf_lib.hessian_free(
        learning_rate, hp["mu_max"] if phase["decay"] is None else phase["decay"],
        initial_damping=config.hf.initial_damping, weight_cost=phase["weight_cost"],
        max_cg_iterations=phase["max_cg_iterations"], curvature_batch_size=phase["curvature_batch_size"],
        preconditioner=phase["preconditioner"], backtracking=phase["backtracking"],
        line_search=phase["line_search"], cg_tolerance=config.hf.cg_tolerance)

  def sample(self, task, data, key, phase):
    if phase["batch_size"]:
      return task.sample(data, key, phase["batch_size"])
    # The whole training set in its fixed order: HF takes its curvature from fixed chunks of
    # it in turn, as Martens' code does.
    return task.train_set(data)

  def update_args(self, task, params, batch, loss, grads):
    return {"batch": batch, "apply_fn": task.apply, "output_loss_fn": task.output_loss,
            "squared_gradients_fn": task.squared_gradients}

  def begin_chunk(self, opt_state, phase, start, phase_start):
    if phase["damping"] is None:
      return opt_state
    return hf_lib.restart_damping(opt_state, phase["damping"], start == phase_start)  # λ restarts

  def cost(self, opt_state):
    return hf_lib.extra_cost(opt_state)

  def diagnostics(self, opt_state):
    return hf_lib.diagnostics(opt_state)


# ------------------------------------------------------------ optax aliases and factories


class _Swept(Family):
  """Optimizers built from traced hyperparameters and fixed arguments, stepped with the
  extra arguments optax's own line searches read (value, grad, value_fn)."""

  def __init__(self, name: str):
    self.key = self.name = name

  def fixed(self, config) -> dict:
    args = config.get("optimizer_args") or {}
    fixed = args.get(self.name) or {}
    return dict(fixed.to_dict() if hasattr(fixed, "to_dict") else fixed)

  def update_args(self, task, params, batch, loss, grads):
    return {"value": loss, "grad": grads, "value_fn": functools.partial(_batch_loss, task, batch)}

  def record_args(self, config, name):
    return self.fixed(config)


def _batch_loss(task: Task, batch, params):
  return task.loss(params, batch)


def optax_alias(name: str) -> Callable | None:
  """optax's optimizer ``name`` (``contrib.NAME`` for a contributed one), or None."""
  module = optax
  if name.startswith("contrib."):
    module, name = optax.contrib, name.removeprefix("contrib.")
  fn = getattr(module, name, None)
  if not callable(fn) or not getattr(fn, "__module__", "").startswith(("optax._src.alias", "optax.contrib")):
    return None
  try:
    params = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return None
  return fn if "learning_rate" in params else None


class OptaxAlias(_Swept):
  def __init__(self, name: str):
    super().__init__(name)
    self.fn = optax_alias(name)
    self.parameters = inspect.signature(self.fn).parameters
    self.uses_momentum = "momentum" in self.parameters

  def validate(self, config):
    fixed = self.fixed(config)
    unknown = [k for k in fixed if k not in self.parameters]
    if unknown:
      raise ConfigError(f"config field optimizer_args.{self.name}.{unknown[0]}: optax.{self.name} has no "
                        f"argument {unknown[0]!r} (it has: {', '.join(self.parameters)})")
    swept = [k for k in fixed if k in ("learning_rate", "momentum") or k in swept_axes(config)]
    if swept:
      raise ConfigError(f"config field optimizer_args.{self.name}.{swept[0]}: that argument is swept by "
                        "the grid; set it there")

  def takes_axis(self, axis):
    return axis in self.parameters

  def make(self, config, hp, phase, phase_start):
    kwargs = self.fixed(config)
    kwargs["learning_rate"] = hp["learning_rate"]
    if self.uses_momentum:
      kwargs["momentum"] = hp["mu_max"]
    kwargs.update({k: hp[k] for k in hp if k in self.parameters and k not in ("learning_rate", "momentum")})
    return optax.with_extra_args_support(self.fn(**kwargs))

  def record_args(self, config, name):
    """Every argument with a plain default, as it was set (the swept ones are the grid's)."""
    out = {k: p.default for k, p in self.parameters.items()
           if k not in ("learning_rate", "momentum") and k not in swept_axes(config)
           and isinstance(p.default, (bool, int, float, str, type(None)))}
    out.update(self.fixed(config))
    return out


class Factory(_Swept):
  def __init__(self, name: str):
    super().__init__(name)
    self.fn = load_object("grid.optimizers", name)
    self.uses_momentum = bool(getattr(self.fn, "uses_momentum", True))

  def takes_axis(self, axis):
    return True  # its hparams hold every axis

  def make(self, config, hp, phase, phase_start):
    hparams = {k: v for k, v in hp.items() if k not in ("seed",)}
    opt = self.fn(hparams, **self.fixed(config))
    if not isinstance(opt, optax.GradientTransformation):
      raise ConfigError(f"optimizer {self.name}: returned {type(opt).__name__}, not an "
                        "optax.GradientTransformation")
    return optax.with_extra_args_support(opt)


# ------------------------------------------------------------------------------ lookup


def swept_axes(config) -> list[str]:
  from nesterov_jax.engine.grid import GRID_FIELDS

  return sorted(k for k in config.grid.keys() if k not in GRID_FIELDS)


@functools.lru_cache(maxsize=None)
def _family(name: str) -> Family:
  if name in PAPER:
    return Momentum()
  if name == HF:
    return HessianFree()
  if ":" in name:
    return Factory(name)
  if optax_alias(name) is not None:
    return OptaxAlias(name)
  raise ConfigError(f"unknown optimizer {name!r}: the paper's cm, nag or hf, an optax alias "
                    "(adam, rmsprop, sgd, ...; contrib.NAME), or MODULE:FUNCTION for your own factory")


def family(name: str) -> Family:
  """The family of optimizer ``name``; one-line ConfigError for an unknown one."""
  if not isinstance(name, str):
    raise ConfigError(f"config field grid.optimizers: {name!r} is not an optimizer name")
  if ":" in name:  # a user's module may change between runs in one process
    return Factory(name)
  return _family(name)

