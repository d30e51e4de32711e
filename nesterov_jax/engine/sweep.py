"""The sweep engine: a whole grid of (optimizer, μ_max, ε, seed, task hparams) in one program.

    config → grid → task → one vmapped train chunk (lax.scan) sharded over every device
    → host loop over chunks (progress, metrics.jsonl, orbax checkpoints) → results.json

Every grid point is isolated: its hyperparameters and its seed are rows of arrays with a
leading grid axis; a point whose loss or gradient stops being finite is frozen at its last
finite state and marked diverged, and nothing else changes. Minibatch t of a point is drawn
from ``fold_in(key(seed), t)``, so a run resumed from a checkpoint computes exactly what an
uninterrupted one does.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import pathlib
import sys
import time
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import orbax.checkpoint as ocp
import tqdm
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from nesterov_jax import hf as hf_lib
from nesterov_jax.engine import files, hf_phases, provenance, results
from nesterov_jax.engine.config import ConfigError, check_number, check_numbers, check_string, search_from_run
from nesterov_jax.momentum import evaluation_params, momentum_method
from nesterov_jax.schedules import momentum_schedule, rnn_momentum_schedule
from nesterov_jax.engine.tasks import Task, check_task_fields, check_task_name, make_task

OPTIMIZERS = {"cm": 0.0, "nag": 1.0, "hf": 0.0}  # name → the traced NAG flag
HF = hf_phases.HF
CORE_AXES = ("optimizer", "mu_max", "learning_rate", "seed")
PRECISIONS = ("default", "high", "highest")
SCHEDULES = ("eq5", "rnn", "constant")
# How the report picks each setting's ε: the paper's final training error, or (for a pilot
# too short for the error to move) the training objective over the last 1000 updates.
SELECTIONS = ("final_train_error", "final_train_loss")


class TrainState(NamedTuple):
  """One grid point's training state (the engine holds it with a leading grid axis)."""

  params: Any
  opt_state: Any
  diverged: chex.Array     # bool: loss or gradient went non-finite; frozen since
  diverged_at: chex.Array  # int32: the update at which it happened, −1 if never


# ----------------------------------------------------------------------------- the grid


GRID_FIELDS = ("optimizers", "mu_max", "learning_rates", "seeds", "points")


def _settings(grid: ml_collections.ConfigDict) -> list[tuple[str, float, float]]:
  """The grid's (optimizer, μ_max, ε) triples: ``grid.points`` when given, else the product
  of its optimizers, μ_max and learning rates, with μ_max = 0 (plain SGD, where CM and NAG
  coincide) kept once, under the first optimizer listed (the paper's "SGD" / "0" column)."""
  if grid.get("points"):
    return [tuple(p) for p in grid.points]
  return [(opt, mu, lr) for opt, mu, lr in itertools.product(grid.optimizers, grid.mu_max, grid.learning_rates)
          if mu != 0.0 or opt == grid.optimizers[0]]


def build_grid(grid: ml_collections.ConfigDict) -> dict[str, np.ndarray]:
  """The grid's points, one row each: its (optimizer, μ_max, ε) settings (see ``_settings``)
  × seeds × any task hyperparameter axes (the grid's other fields).

  ``grid.points``, a tuple of (optimizer, μ_max, ε) triples, replaces the product of
  ``optimizers × mu_max × learning_rates`` where each setting runs at its own ε (e.g. the
  ε a pilot chose for it).
  """
  hparam_axes = sorted(k for k in grid.keys() if k not in GRID_FIELDS)
  rows = [(opt, mu, lr, seed, *hp) for (opt, mu, lr), seed, *hp in itertools.product(
      _settings(grid), grid.seeds, *(grid[k] for k in hparam_axes))]
  columns = list(zip(*rows)) if rows else [()] * (4 + len(hparam_axes))
  out = {"optimizer": np.array(columns[0], dtype=str),
         "mu_max": np.array(columns[1], np.float32),
         "learning_rate": np.array(columns[2], np.float32),
         "seed": np.array(columns[3], np.int32)}
  out.update({k: np.array(c, np.float32) for k, c in zip(hparam_axes, columns[4:])})
  return out


def validate(config: ml_collections.ConfigDict) -> None:
  """Every check that can fail on a config, with one clear line, before anything compiles."""
  g = config.grid
  check_string("task.name", config.task.name)
  check_task_name(config.task.name)
  check_task_fields(config.task)
  for field in ("optimizers", "mu_max", "learning_rates", "seeds"):
    if not isinstance(g[field], (tuple, list)):
      raise ConfigError(f"config field grid.{field} = {g[field]!r}: must be a tuple of values")
  for o in g.optimizers:
    check_string("grid.optimizers", o, tuple(OPTIMIZERS))
  check_numbers("grid.mu_max", g.mu_max, low=0.0, high=1.0, high_open=True)
  check_numbers("grid.learning_rates", g.learning_rates, low=0.0, low_open=True)
  check_numbers("grid.seeds", g.seeds, integer=True, low=0, high=2**31 - 1)
  for axis in sorted(k for k in g.keys() if k not in GRID_FIELDS):
    check_numbers(f"grid.{axis}", g[axis])
  bad_points = [p for p in g.get("points") or () if not (
      isinstance(p, (tuple, list)) and len(p) == 3 and isinstance(p[0], str)
      and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p[1:]))]
  if bad_points:
    raise ConfigError(f"grid.points holds (optimizer, mu_max, learning_rate) triples; got {bad_points[0]!r}")
  for opt, mu, lr in g.get("points") or ():
    check_string("grid.points (optimizer)", opt, tuple(OPTIMIZERS))
    check_number("grid.points (mu_max)", mu, low=0.0, high=1.0, high_open=True)
    check_number("grid.points (learning_rate)", lr, low=0.0, low_open=True)
  settings = _settings(g)
  if len(build_grid(g)["mu_max"]) == 0:
    raise ConfigError("the grid is empty: every axis needs at least one value")
  for field in ("num_updates", "chunk_size"):
    check_number(field, config[field], integer=True, low=1)
  for field in ("eval_every", "checkpoint_every"):
    check_number(field, config[field], integer=True, low=0)
  check_string("schedule.kind", config.schedule.kind, SCHEDULES)
  for field, value in config.schedule.items():
    if field.endswith("_steps") or field == "period":
      check_number(f"schedule.{field}", value, integer=True, low=1 if field == "period" else 0)
    elif field.endswith("_momentum"):
      check_number(f"schedule.{field}", value, low=0.0, high=1.0, high_open=True)
  check_string("selection", config.get("selection", "final_train_error"), SELECTIONS)
  check_string("precision", config.precision, PRECISIONS)
  n, chunk = config.num_updates, config.chunk_size
  if n <= 0 or chunk <= 0 or n % chunk:
    raise ConfigError(f"num_updates ({n}) must be a positive multiple of chunk_size ({chunk})")
  for field in ("eval_every", "checkpoint_every"):
    if config[field] < 0 or config[field] % chunk:
      raise ConfigError(f"{field} ({config[field]}) must be a multiple of chunk_size ({chunk})")
  if HF in [s[0] for s in settings] and g.get("points"):
    raise ConfigError("an HF run names hf in grid.optimizers (with its phases), not in grid.points")
  if HF in g.optimizers:
    hf_phases.validate(config)
  if _finetune_start(config) is not None and _finetune_start(config) % chunk:
    raise ConfigError(f"the finetuning tail starts at update {_finetune_start(config)}, "
                      f"which must be a multiple of chunk_size ({chunk})")


def _finetune_start(config) -> int | None:
  s = config.schedule
  if s.kind == "eq5" and s.finetune_steps > 0 and config.num_updates > s.finetune_steps:
    return config.num_updates - s.finetune_steps
  return None


def _momentum(config, mu_max):
  s = config.schedule
  if s.kind == "eq5":
    total = config.num_updates if s.finetune_steps > 0 else None
    return momentum_schedule(mu_max, total_steps=total, period=s.period,
                             finetune_steps=s.finetune_steps, finetune_momentum=s.finetune_momentum)
  if s.kind == "rnn":
    return rnn_momentum_schedule(mu_max, warmup_steps=s.warmup_steps, warmup_momentum=s.warmup_momentum)
  return mu_max


# ---------------------------------------------------------------- the compiled programs


def _optimizer(config, hp, phase=None, phase_start=0) -> optax.GradientTransformationExtraArgs:
  if phase is None:
    return optax.with_extra_args_support(
        momentum_method(hp["learning_rate"], _momentum(config, hp["mu_max"]), hp["nesterov"]))
  return hf_phases.optimizer(config, hp, phase, phase_start)


def _task_hparams(task: Task, hp) -> dict:
  return {k: hp[k] for k in task.hparam_axes if k in hp}


def make_programs(task: Task, config: ml_collections.ConfigDict, phase_index: int = 0):
  """The three vmapped functions the host loop calls: init, train chunk (for the updates of
  phase ``phase_index``; one phase unless HF), evaluate."""
  phase_start, _, phase = hf_phases.phases(config)[phase_index]

  def init_point(hp) -> TrainState:
    params = task.init(jax.random.fold_in(jax.random.key(hp["seed"]), 0), _task_hparams(task, hp))
    opt_state = _optimizer(config, hp, phase, phase_start).init(params)
    return TrainState(params, opt_state, jnp.array(False), jnp.array(-1, jnp.int32))

  def sample(data, key):
    if phase is None:
      return task.sample(data, key)
    if phase["batch_size"]:
      return task.sample(data, key, phase["batch_size"])
    # The whole training set in its fixed order: HF takes its curvature from fixed chunks of
    # it in turn, as Martens' code does.
    return task.train_set(data)

  def train_chunk(state: TrainState, hp, data, start) -> tuple[TrainState, dict]:
    opt = _optimizer(config, hp, phase, phase_start)
    data_key = jax.random.fold_in(jax.random.key(hp["seed"]), 1)
    if phase is not None and phase["damping"] is not None:  # this phase restarts λ
      state = state._replace(opt_state=hf_lib.restart_damping(state.opt_state, phase["damping"],
                                                              start == phase_start))

    def step(state: TrainState, t):
      batch = sample(data, jax.random.fold_in(data_key, t))
      loss, grads = jax.value_and_grad(task.loss)(state.params, batch)
      updates, opt_state = opt.update(grads, state.opt_state, state.params, batch=batch,
                                      apply_fn=task.apply, output_loss_fn=task.output_loss,
                                      squared_gradients_fn=task.squared_gradients)
      params = optax.apply_updates(state.params, updates)
      # Compute in network passes × cases: a gradient is 2 (forward + backward); HF adds its own.
      cost = 2.0 * jax.tree.leaves(batch)[0].shape[0 if task.cases_first else 1] + hf_lib.extra_cost(opt_state)
      ok = jnp.isfinite(loss) & jnp.isfinite(optax.tree.norm(grads)) & ~state.diverged
      keep = lambda new, old: jnp.where(ok, new, old)
      new = TrainState(jax.tree.map(keep, params, state.params),
                       jax.tree.map(keep, opt_state, state.opt_state),
                       ~ok,
                       jnp.where(state.diverged | ok, state.diverged_at, t))
      logs = {"train_loss": jnp.where(ok, loss, jnp.nan), "case_passes": jnp.where(ok, cost, 0.0),
              **hf_lib.diagnostics(new.opt_state)}
      return new, logs

    state, logs = jax.lax.scan(step, state, start + jnp.arange(config.chunk_size))
    summary = {k: jnp.nanmean(v) for k, v in logs.items()}
    summary["case_passes"] = jnp.sum(logs["case_passes"])  # this chunk's compute
    return state, summary

  def evaluate_point(state: TrainState, data):
    return task.evaluate(evaluation_params(state.params, state.opt_state), data)

  return (jax.vmap(init_point),
          jax.vmap(train_chunk, in_axes=(0, 0, None, None)),
          jax.vmap(evaluate_point, in_axes=(0, None)))


# ------------------------------------------------------------------------- the host loop


def grid_mesh(num_points: int) -> Mesh:
  """The devices a grid of ``num_points`` is sharded over, as a one-axis mesh ("grid").

  Every device of every process, except that a single process uses no more devices than
  there are points (a padded slot would cost a whole grid point's compute).
  """
  devices = jax.devices()
  if jax.process_count() == 1:
    devices = devices[:max(1, min(len(devices), num_points))]
  return Mesh(np.array(devices), ("grid",))


def grid_arrays(grid: dict[str, np.ndarray], slots: int) -> dict[str, np.ndarray]:
  """The grid as the compiled program's hyperparameter arrays, padded to ``slots`` rows
  with copies of the first point (padding never reaches a result); the optimizer's name
  becomes the traced NAG flag ``nesterov``."""
  arrays = {k: v for k, v in grid.items() if k != "optimizer"}
  arrays["nesterov"] = np.array([OPTIMIZERS[o] for o in grid["optimizer"]], np.float32)
  return {k: np.concatenate([v, np.repeat(v[:1], slots - len(v), axis=0)]) for k, v in arrays.items()}


def _to_global(x: np.ndarray, sharding) -> jax.Array:
  """A global array from a host array every process holds in full."""
  x = np.asarray(x)
  return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])


def _to_host(x) -> np.ndarray:
  return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def fingerprint(config: ml_collections.ConfigDict) -> str:
  """What a checkpoint must match to be resumed from: everything that changes results."""
  relevant = {k: v for k, v in json.loads(config.to_json_best_effort(sort_keys=True)).items()
              if k not in ("checkpoint_every", "eval_every")}
  return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


class _Metrics:
  """metrics.jsonl: one line per chunk. Each append rewrites the file atomically (it holds a
  few hundred lines), so a killed run leaves every line whole; a resume first drops the
  lines past the checkpoint it resumes from."""

  def __init__(self, path: pathlib.Path, resume_step: int, writer: bool):
    self.path, self.writer = path, writer
    self.previous_wall_s = 0.0  # time spent by the sessions before a resume
    self.previous_case_passes = None  # and their compute, per grid point
    self.lines = [line for line in results.metric_lines(path.parent) if json.loads(line)["step"] <= resume_step]
    if self.lines:
      self.previous_wall_s = json.loads(self.lines[-1])["wall_s"]
      self.previous_case_passes = json.loads(self.lines[-1]).get("case_passes")
    if writer and path.exists():
      files.write_text(path, "".join(line + "\n" for line in self.lines))

  def append(self, record: dict) -> None:
    self.lines.append(json.dumps(record))
    if self.writer:
      files.write_text(self.path, "".join(line + "\n" for line in self.lines))


def _resume(manager, state: TrainState, config, padded: int, num_devices: int,
            workdir: pathlib.Path, writer: bool) -> tuple[int, TrainState]:
  """(update, state) of the newest readable checkpoint, or (0, ``state``) when there is none.

  A checkpoint that cannot be read (a torn or corrupted write) is reported in one line,
  deleted, and the one before it is used; a run whose every checkpoint is unreadable stops
  with a line that says how to start over. A checkpoint of another config, or of another
  device count, is refused.
  """
  where = workdir / "checkpoints"
  steps = sorted(manager.all_steps(), reverse=True)
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
  for i, step in enumerate(steps):
    try:
      meta = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
    except Exception as e:  # noqa: BLE001 -- orbax raises many kinds for a damaged file
      meta, error = None, e
    if meta is not None:
      if meta["fingerprint"] != fingerprint(config):
        raise ConfigError(f"checkpoint at {where} was written by a different "
                          "config; pass another --workdir or delete the checkpoints")
      if meta.get("slots", padded) != padded:
        raise ConfigError(f"checkpoint at {where} holds {meta['slots']} grid slots "
                          f"(its run's device count); this run has {padded} on {num_devices} devices: "
                          "resume on the same number of devices")
      try:
        restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))).state
      except Exception as e:  # noqa: BLE001
        error = e
      else:
        if writer:
          print(f"resuming {workdir} from update {step}", file=sys.stderr)
        return step, restored
    reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    if i + 1 == len(steps):
      raise ConfigError(f"no readable checkpoint in {where} (update {step}: {reason}); "
                        f"delete {where} to start the run over")
    if writer:
      print(f"checkpoint at update {step} is unreadable ({reason}); resuming from update {steps[i + 1]}",
            file=sys.stderr)
    manager.delete(step)
  return 0, state


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> list[dict]:
  """Trains the whole grid; returns (and writes to results.json) one record per grid point."""
  validate(config)
  wall_start = time.perf_counter()
  task = make_task(config.task)
  grid = build_grid(config.grid)
  unknown = [k for k in grid if k not in CORE_AXES and k not in task.hparam_axes]
  if unknown:
    raise ConfigError(f"grid axis {unknown[0]!r} is not a hyperparameter of task {task.name!r} "
                      f"(it has: {', '.join(task.hparam_axes) or 'none'})")
  num_points = len(grid["mu_max"])
  mesh = grid_mesh(num_points)
  padded = -(-num_points // mesh.size) * mesh.size
  by_point, replicated = NamedSharding(mesh, P("grid")), NamedSharding(mesh, P())
  hp = {k: _to_global(v, by_point) for k, v in grid_arrays(grid, padded).items()}
  data = jax.tree.map(lambda x: _to_global(np.asarray(x), replicated), task.data)

  hf_phases.check_task(config, task)
  init_fn, _, eval_fn = make_programs(task, config)
  init_fn = jax.jit(init_fn, out_shardings=by_point)
  eval_fn = jax.jit(eval_fn, out_shardings=by_point)
  phase_of = [(start, end, jax.jit(make_programs(task, config, i)[1], donate_argnums=0,
                                   out_shardings=(by_point, by_point)))
              for i, (start, end, _) in enumerate(hf_phases.phases(config))]

  writer = jax.process_index() == 0
  manager = ocp.CheckpointManager(
      (workdir / "checkpoints").resolve(),
      options=ocp.CheckpointManagerOptions(max_to_keep=2, create=True))
  with jax.default_matmul_precision(config.precision):
    state = init_fn(hp)
    start, state = _resume(manager, state, config, padded, mesh.size, workdir, writer)
    metrics = _Metrics(workdir / results.METRICS, start, writer)
    wall_start -= metrics.previous_wall_s  # wall times count every session of the run
    case_passes = np.asarray(metrics.previous_case_passes or np.zeros(num_points), np.float64)
    eval_steps = {config.num_updates} | ({_finetune_start(config)} - {None})
    progress = tqdm.tqdm(total=config.num_updates, initial=start, unit="upd", disable=not writer,
                         desc=f"{task.name} x{num_points}", file=sys.stderr, dynamic_ncols=True)
    # Every process runs this loop identically: each call below is a collective.
    try:
      if start == 0:  # the error curves start from the initialization
        errors = {k: _to_host(v)[:num_points].tolist() for k, v in eval_fn(state, data).items()}
        metrics.append({"step": 0, "wall_s": round(time.perf_counter() - wall_start, 3),
                        "case_passes": case_passes.tolist(), **errors})
      for chunk_start in range(start, config.num_updates, config.chunk_size):
        chunk_fn = next(fn for start, end, fn in phase_of if start <= chunk_start < end)
        state, logs = chunk_fn(state, hp, data, jnp.int32(chunk_start))
        logs = {k: _to_host(v)[:num_points] for k, v in logs.items()}
        case_passes = case_passes + logs.pop("case_passes")
        step = chunk_start + config.chunk_size
        record = {"step": step, "wall_s": round(time.perf_counter() - wall_start, 3),
                  "case_passes": case_passes.tolist(), **{k: v.tolist() for k, v in logs.items()}}
        if step in eval_steps or (config.eval_every and step % config.eval_every == 0):
          errors = {k: _to_host(v)[:num_points] for k, v in eval_fn(state, data).items()}
          record.update({k: v.tolist() for k, v in errors.items()})
          diverged = _to_host(state.diverged)[:num_points]
          best = np.nanmin(np.where(diverged, np.nan, errors["train_error"]), initial=np.inf)
          progress.set_postfix(best_train_error=f"{best:.4g}", diverged=int(diverged.sum()))
        metrics.append(record)
        if step == config.num_updates or (config.checkpoint_every and step % config.checkpoint_every == 0):
          manager.save(step, args=ocp.args.Composite(
              state=ocp.args.StandardSave(state),
              meta=ocp.args.JsonSave({"fingerprint": fingerprint(config), "step": step, "slots": padded})))
        progress.update(config.chunk_size)
    finally:  # on any failure too: the bar ends before the error line, and a checkpoint in
      progress.close()  # flight is finished, so the rerun can resume from it
      manager.wait_until_finished()
    diverged = _to_host(state.diverged)[:num_points]
    diverged_at = _to_host(state.diverged_at)[:num_points]
  if not writer:
    return []
  prov = provenance.record(time.perf_counter() - wall_start)
  records = _records(config, task, grid, results.load_metrics(workdir), diverged, diverged_at, prov)
  files.write_json(workdir / results.RESULTS, records)
  return records


def load_final_state(workdir: pathlib.Path):
  """The last checkpoint of a run, on this host: (config, task, grid, state[points]).

  For reports that draw what the trained networks do; single-process, unsharded.
  """
  config = ml_collections.ConfigDict(json.loads((workdir / "config.json").read_text()))
  search_from_run(workdir)  # a user's task module, found as the run found it
  manager = ocp.CheckpointManager((workdir / "checkpoints").resolve())
  step = manager.latest_step()
  if step is None:
    raise FileNotFoundError(f"no checkpoint in {workdir / 'checkpoints'}")
  meta = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
  task = make_task(config.task)
  grid = build_grid(config.grid)
  num_points = len(grid["mu_max"])
  hp = {k: jnp.asarray(v) for k, v in grid_arrays(grid, meta.get("slots", num_points)).items()}
  init_fn = make_programs(task, config)[0]
  abstract = jax.eval_shape(init_fn, hp)
  state = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))).state
  return config, task, grid, jax.tree.map(lambda x: x[:num_points], state)


LOSS_WINDOW = 1000  # final_train_loss: the mean training objective over the last this-many updates


def _records(config, task, grid, metrics, diverged, diverged_at, prov) -> list[dict]:
  evals = {r["step"]: r for r in metrics if "train_error" in r}
  final = evals[config.num_updates]
  before = evals.get(_finetune_start(config))
  window = [m["train_loss"] for m in metrics
            if m["step"] > config.num_updates - max(LOSS_WINDOW, config.chunk_size) and "train_loss" in m]
  final_loss = np.nanmean(np.array(window, np.float64), axis=0) if window else np.full(len(diverged), np.nan)
  records = []
  for i in range(len(diverged)):
    r = {"task": task.name, "optimizer": str(grid["optimizer"][i])}
    # str() of a float32 is its shortest repr: 0.1, not 0.10000000149.
    r.update({k: (int(v[i]) if k == "seed" else float(str(v[i]))) for k, v in grid.items() if k != "optimizer"})
    r.update({f"final_{k}": final[k][i] for k in final if k.endswith("_error")})
    r["final_train_loss"] = float(final_loss[i])
    r["selected_by"] = config.get("selection", "final_train_error")
    if before is not None:
      r["train_error_before_finetune"] = before["train_error"][i]
    r.update({"diverged": bool(diverged[i]), "diverged_at": int(diverged_at[i]),
              "case_passes": final["case_passes"][i], "num_train": task.num_train,
              "num_updates": config.num_updates, "precision": config.precision,
              "data": task.provenance, "provenance": prov})
    records.append(r)
  return records
