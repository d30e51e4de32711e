"""Hessian-free in the sweep engine: an HF run is a sequence of phases (config.hf.phases).

Each phase fixes what changes the compiled program (batch sizes, the CG cap, which of
Martens' line search, backtracking and preconditioner it uses) and its ζ, ε, L2 and
damping restart; the engine compiles one train chunk per phase and carries the HF state
across. For HF the grid's μ_max is the CG decay ζ, which plays μ (Sutskever et al. §5), and
its learning rate ε multiplies the step. See protocols.hf_phase and configs/hf_curves.py.
"""

from __future__ import annotations

from typing import Any

import optax

from nesterov_jax import hf as hf_lib
from nesterov_jax.engine.config import ConfigError, check_number
from nesterov_jax.engine.tasks import Task

HF = "hf"
PHASE_FIELDS = ("num_updates", "batch_size", "curvature_batch_size", "max_cg_iterations", "decay",
                "learning_rate", "learning_rate_halving", "weight_cost", "damping", "preconditioner",
                "backtracking", "line_search")


def validate(config) -> None:
  """An HF sweep config's checks, each failing with one line (called by sweep.validate)."""
  if tuple(config.grid.optimizers) != (HF,):
    raise ConfigError("a grid with 'hf' holds no other optimizer (HF compiles its own program); "
                      "run momentum in a second config")
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
    if phase["num_updates"] <= 0 or phase["num_updates"] % chunk:
      raise ConfigError(f"hf phase {i}: num_updates ({phase['num_updates']}) must be a positive "
                        f"multiple of chunk_size ({chunk})")
    if phase["batch_size"] < 0 or phase["curvature_batch_size"] < 1 or (
        phase["batch_size"] and phase["curvature_batch_size"] > phase["batch_size"]):
      raise ConfigError(f"hf phase {i}: need batch_size ≥ 0 (0 = the whole training set) and "
                        "1 ≤ curvature_batch_size ≤ batch_size")
    if phase["max_cg_iterations"] < 1:
      raise ConfigError(f"hf phase {i}: max_cg_iterations must be ≥ 1")
  total = sum(p["num_updates"] for p in phase_list)
  if total != config.num_updates:
    raise ConfigError(f"the hf phases add up to {total} updates; num_updates is {config.num_updates}")


def phases(config) -> list[tuple[int, int, Any]]:
  """(first update, end, phase config) of each phase: HF's config.hf.phases, else one phase."""
  if HF not in config.grid.optimizers:
    return [(0, config.num_updates, None)]
  out, start = [], 0
  for phase in config.hf.phases:
    out.append((start, start + phase["num_updates"], phase))
    start += phase["num_updates"]
  return out


def optimizer(config, hp, phase, phase_start: int) -> optax.GradientTransformationExtraArgs:
  """The HF of one phase for grid point ``hp``: ε and ζ are the point's unless the phase
  sets them; ε may decay as ε·h/(h + t − t_start) (§5's "ε = 500/(t − 4000)" is ε = 0.5,
  h = 1000 from t = 5000)."""
  lr = hp["learning_rate"] if phase["learning_rate"] is None else phase["learning_rate"]
  h = phase["learning_rate_halving"]
  learning_rate = (lambda count: lr * h / (h + count - phase_start)) if h else lr
  return hf_lib.hessian_free(
      learning_rate, hp["mu_max"] if phase["decay"] is None else phase["decay"],
      initial_damping=config.hf.initial_damping, weight_cost=phase["weight_cost"],
      max_cg_iterations=phase["max_cg_iterations"], curvature_batch_size=phase["curvature_batch_size"],
      preconditioner=phase["preconditioner"], backtracking=phase["backtracking"],
      line_search=phase["line_search"], cg_tolerance=config.hf.cg_tolerance)


def check_task(config, task: Task) -> None:
  if HF not in config.grid.optimizers:
    return
  if not task.cases_first:
    raise ConfigError(f"'hf' needs a task whose batches hold cases on axis 0; {task.name!r} does not")
  if any(p["batch_size"] == 0 for p in config.hf.phases) and task.train_set is None:
    raise ConfigError(f"an hf phase with batch_size 0 (whole training set) needs a task with a fixed "
                      f"training set; {task.name!r} has none")
