"""The paper's optimizers on the sweep engine: CM and NAG under its momentum schedules, and
Hessian-free optimization in phases. Registered as the engine's ``nesterov_jax.optimizers``
entry points ``cm``, ``nag`` and ``hf`` (pyproject.toml).

CM and NAG (:func:`nesterov_jax.momentum_method`) share one family, so one vmapped program
holds both through a traced NAG flag; μ[t] follows ``config.schedule``:

- ``kind = "eq5"``: Eq. 5, min(1 − 1/(2(⌊t/period⌋ + 1)), μ_max), with the last
  ``finetune_steps`` updates at ``finetune_momentum`` (Section 3; Table 2);
- ``kind = "rnn"``: ``warmup_momentum`` for ``warmup_steps`` updates, then μ0 (Section 4);
- ``kind = "constant"``: μ_max throughout.

HF (:func:`nesterov_jax.hessian_free`) runs in the phases of ``config.hf`` (see
``protocols.hf_phase`` and ``configs/hf_curves.py``); the grid's μ_max is its CG decay ζ.
"""

from __future__ import annotations

import math

import ml_collections
import numpy as np

from nesterov_jax import hf as hessian_free_lib
from nesterov_jax.engine.config import ConfigError, check_number, check_string
from nesterov_jax.engine.optimizers import Family
from nesterov_jax.momentum import momentum_method
from nesterov_jax.schedules import momentum_schedule, rnn_momentum_schedule

SCHEDULES = ("eq5", "rnn", "constant")
NAMES = {"cm": "CM", "nag": "NAG"}
PAPER_MOMENTUM = ("cm", "nag")
PAPER_OPTIMIZERS = (
  *PAPER_MOMENTUM,
  "hf",
)  # the methods the paper ran; any other is "not in the paper"


def is_sgd(summary: dict) -> bool:
  """The paper's SGD: CM or NAG at μ_max 0."""
  return summary["optimizer"] in PAPER_MOMENTUM and summary["mu_max"] == 0


def schedule_config() -> ml_collections.ConfigDict:
  """``config.schedule``, every field at the paper's value (Eq. 5 for the autoencoders)."""
  schedule = ml_collections.ConfigDict()
  schedule.kind = "eq5"  # eq5 | rnn (warmup_momentum for warmup_steps, then μ0) | constant
  schedule.period = 250.0  # Eq. 5: updates per step of the schedule (the paper's 250)
  schedule.finetune_steps = 1000  # Eq. 5: the last this-many updates at finetune_momentum (0: none)
  schedule.finetune_momentum = 0.9
  schedule.warmup_steps = 1000  # Section 4: updates at warmup_momentum before μ0
  schedule.warmup_momentum = 0.9
  return schedule


def momentum_of(config, mu_max):
  """μ[t] for CM and NAG under ``config.schedule``."""
  s = config.schedule
  if s.kind == "eq5":
    total = config.num_updates if s.finetune_steps > 0 else None
    return momentum_schedule(
      mu_max,
      total_steps=total,
      period=s.period,
      finetune_steps=s.finetune_steps,
      finetune_momentum=s.finetune_momentum,
    )
  if s.kind == "rnn":
    return rnn_momentum_schedule(
      mu_max, warmup_steps=s.warmup_steps, warmup_momentum=s.warmup_momentum
    )
  return mu_max


def finetune_start(config) -> int | None:
  """The first update of Eq. 5's low-momentum tail, when the run has one."""
  s = config.schedule
  if s.kind == "eq5" and s.finetune_steps > 0 and config.num_updates > s.finetune_steps:
    return config.num_updates - s.finetune_steps
  return None


def mu_reached_at(config, mu_max: float) -> int | None:
  """The first update at which Eq. 5 gives μ = ``mu_max`` (0.99 at 12,250, 0.995 at 24,750,
  0.999 at 124,750 with the paper's period of 250), or None when the schedule is not Eq. 5
  or ``mu_max`` is 0."""
  s = config.get("schedule")
  if s is None or s.kind != "eq5" or mu_max <= 0:
    return None
  # μ[t] = 1 − 1/(2(⌊t/period⌋ + 1)) ≥ μ_max  ⇔  ⌊t/period⌋ + 1 ≥ 1/(2(1 − μ_max)).
  steps = math.ceil(1.0 / (2.0 * (1.0 - mu_max)) - 1e-6)
  return int(math.ceil((steps - 1) * s.period))


def _validate_schedule(config) -> None:
  if "schedule" not in config:
    raise ConfigError(
      "optimizers cm and nag need a config.schedule section "
      "(nesterov_jax.paper.sweep_config has one)"
    )
  check_string("schedule.kind", config.schedule.kind, SCHEDULES)
  for field, value in config.schedule.items():
    if field.endswith("_steps") or field == "period":
      check_number(f"schedule.{field}", value, integer=True, low=1 if field == "period" else 0)
    elif field.endswith("_momentum"):
      check_number(f"schedule.{field}", value, low=0.0, high=1.0, high_open=True)
  start = finetune_start(config)
  if start is not None and start % config.chunk_size:
    raise ConfigError(
      f"the finetuning tail starts at update {start}, which must be a multiple of "
      f"chunk_size ({config.chunk_size})"
    )


def _momentum_label(name: str, mu: float, mu_name: str) -> str:
  if mu == 0:  # CM and NAG at μ 0 are plain SGD; on Section 4's schedule they still warm up
    return "μ0 = 0" if mu_name == "μ0" else "SGD"
  return f"{NAMES[name]}, {mu_name} {mu:g}"


def momentum_family(name: str) -> Family:
  """CM and NAG (one family: ``key`` "momentum")."""
  del name

  def make(config, hp, phase, phase_start):
    import optax

    return optax.with_extra_args_support(
      momentum_method(hp["learning_rate"], momentum_of(config, hp["mu_max"]), hp["nesterov"])
    )

  return Family(
    key="momentum",
    make=make,
    validate=_validate_schedule,
    arrays=lambda names: {"nesterov": np.array([n == "nag" for n in names], np.float32)},
    kind=lambda name, mu: "SGD" if mu == 0 else NAMES[name],
    label=_momentum_label,
    mu_name=lambda config: "μ0" if config.schedule.kind == "rnn" else "μ_max",
    line_style=lambda name: "-" if name == "nag" else "--",
    reaches=mu_reached_at,
    milestones=lambda config: (
      {"before_finetune": finetune_start(config)} if finetune_start(config) is not None else {}
    ),
    schedules=lambda config, mu_max: {"momentum": momentum_of(config, mu_max)},
  )


# ------------------------------------------------------------------------- Hessian-free


PHASE_FIELDS = (
  "num_updates",
  "batch_size",
  "curvature_batch_size",
  "max_cg_iterations",
  "decay",
  "learning_rate",
  "learning_rate_halving",
  "weight_cost",
  "damping",
  "preconditioner",
  "backtracking",
  "line_search",
)


def _validate_hf(config) -> None:
  if tuple(config.grid.optimizers) != ("hf",):
    raise ConfigError(
      "a grid with 'hf' holds no other optimizer (HF compiles its own program "
      "per phase); run the others in a second config"
    )
  if config.grid.get("points"):
    raise ConfigError("an HF run names hf in grid.optimizers (with its phases), not in grid.points")
  if "hf" not in config:
    raise ConfigError("optimizer 'hf' needs a config.hf section (see configs/hf_curves.py)")
  if config.get("schedule") and config.schedule.kind != "constant":
    raise ConfigError(
      "for 'hf' set schedule.kind = 'constant': its decay and ε are set per phase in config.hf"
    )
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
      raise ConfigError(
        f"hf phase {i}: num_updates ({phase['num_updates']}) must be a positive "
        f"multiple of chunk_size ({chunk})"
      )
    if phase["batch_size"] and phase["curvature_batch_size"] > phase["batch_size"]:
      raise ConfigError(
        f"hf phase {i}: need batch_size ≥ 0 (0 = the whole training set) and "
        "1 ≤ curvature_batch_size ≤ batch_size"
      )
  total = sum(p["num_updates"] for p in phase_list)
  if total != config.num_updates:
    raise ConfigError(
      f"the hf phases add up to {total} updates; num_updates is {config.num_updates}"
    )


def _check_hf_task(config, task) -> None:
  if not task.cases_first:
    raise ConfigError(
      f"'hf' needs a task whose batches hold cases on axis 0; {task.name!r} does not"
    )
  if any(p["batch_size"] == 0 for p in config.hf.phases) and task.train_set is None:
    raise ConfigError(
      f"an hf phase with batch_size 0 (whole training set) needs a task with a fixed "
      f"training set; {task.name!r} has none"
    )


def _hf_phases(config):
  out, start = [], 0
  for phase in config.hf.phases:
    out.append((start, start + phase["num_updates"], phase))
    start += phase["num_updates"]
  return out


def _make_hf(config, hp, phase, phase_start):
  """ε and ζ are the point's unless the phase sets them; ε may decay as ε·h/(h + t − t_start)
  (§5's "ε = 500/(t − 4000)" is ε = 0.5, h = 1000 from t = 5000)."""
  lr = hp["learning_rate"] if phase["learning_rate"] is None else phase["learning_rate"]
  h = phase["learning_rate_halving"]
  learning_rate = (lambda count: lr * h / (h + count - phase_start)) if h else lr
  return hessian_free_lib.hessian_free(
    learning_rate,
    hp["mu_max"] if phase["decay"] is None else phase["decay"],
    initial_damping=config.hf.initial_damping,
    weight_cost=phase["weight_cost"],
    max_cg_iterations=phase["max_cg_iterations"],
    curvature_batch_size=phase["curvature_batch_size"],
    preconditioner=phase["preconditioner"],
    backtracking=phase["backtracking"],
    line_search=phase["line_search"],
    cg_tolerance=config.hf.cg_tolerance,
  )


def _hf_sample(task, data, key, phase):
  if phase["batch_size"]:
    return task.sample(data, key, phase["batch_size"])
  # The whole training set in its fixed order: HF takes its curvature from fixed chunks of
  # it in turn, as Martens' code does.
  return task.train_set(data)


def _hf_update_args(task, params, batch, loss, grads):
  return {
    "batch": batch,
    "apply_fn": task.apply,
    "output_loss_fn": task.output_loss,
    "squared_gradients_fn": task.squared_gradients,
  }


def _hf_begin_chunk(opt_state, phase, start, phase_start):
  if phase["damping"] is None:
    return opt_state
  return hessian_free_lib.restart_damping(
    opt_state, phase["damping"], start == phase_start
  )  # λ restarts


def hessian_free_family(name: str) -> Family:
  """HF in phases (``config.hf.phases``): each fixes what changes the compiled program (batch
  sizes, the CG cap, which of Martens' line search, backtracking and preconditioner it uses)
  and its ζ, ε, L2 and damping restart; the state carries across phases. The grid's μ_max is
  the CG decay ζ, which plays μ (Sutskever et al. §5), and its ε multiplies the step."""
  del name
  return Family(
    key="hf",
    make=_make_hf,
    validate=_validate_hf,
    check_task=_check_hf_task,
    phases=_hf_phases,
    sample=_hf_sample,
    update_args=_hf_update_args,
    begin_chunk=_hf_begin_chunk,
    cost=hessian_free_lib.extra_cost,
    diagnostics=hessian_free_lib.diagnostics,
    kind=lambda name, mu: "HF",
    label=lambda name, mu, mu_name: f"HF, ζ {mu:g}",
    mu_name=lambda config: "ζ",
    line_style=lambda name: "-",
    note="For HF, μ_max is the CG decay ζ and ε multiplies its step; `case_passes` in "
    "results.json counts its compute.",
  )
