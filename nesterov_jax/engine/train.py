"""Training a sweep: a whole grid of (optimizer, μ_max, ε, seed, hyperparameters) trained as
one compiled program, chunk by chunk, by the host loop here.

    config → grid.py (points, checks) → task → programs.py (the vmapped, sharded programs)
    → this loop over chunks (progress, metrics.jsonl, orbax checkpoints) → results.json

Every process runs the loop identically (each program call is a collective); process 0
writes the files. A run resumed from a checkpoint computes exactly what an uninterrupted one
does (see programs.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import sys
import tempfile
import time
import types
import warnings

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
import tqdm
from jax.experimental import multihost_utils

from nesterov_jax.engine import files, grid, halving, programs, provenance, results, stopping
from nesterov_jax.engine.config import ConfigError, search_from_run
from nesterov_jax.engine.optimizers import family
from nesterov_jax.engine.tasks import make_task

RUN_CONFIG = "config.json"


def prepare_workdir(workdir: pathlib.Path, config: ml_collections.ConfigDict) -> None:
  """Creates ``workdir`` and records the config; refuses a workdir that holds another run.

  A workdir whose run never trained (a config.json but no metrics, checkpoint or results:
  e.g. its data were missing) is taken over.
  """
  resolved = json.loads(config.to_json_best_effort(sort_keys=True))
  saved = workdir / RUN_CONFIG
  started = any((workdir / name).exists() for name in ("metrics.jsonl", "results.json")) or any(
    (workdir / "checkpoints").glob("*")
  )
  if saved.exists() and started:
    previous = files.read_json(saved)
    if halving.comparable(previous) != halving.comparable(resolved):
      changed = sorted(
        k for k in set(previous) | set(resolved) if previous.get(k) != resolved.get(k)
      )
      raise ConfigError(
        f"workdir {workdir} holds a different run (fields that differ: {', '.join(changed)}); "
        "pass another --workdir or delete that one"
      )
  workdir.mkdir(parents=True, exist_ok=True)
  files.write_text(saved, json.dumps(resolved, indent=2, sort_keys=True) + "\n")


def _write_failure(where: pathlib.Path, error: Exception) -> files.WriteFailed:
  """A checkpoint's failure as one line: orbax and tensorstore raise OSError, ValueError or
  RuntimeError ("RESOURCE_EXHAUSTED: Error writing ... No space left on device")."""
  text = str(error)
  if isinstance(error, OSError):
    return files.write_failed(where, error)
  cause = (
    "No space left on device"
    if "No space left" in text
    else (text.strip().splitlines() or [type(error).__name__])[0][:200]
  )
  return files.write_failed(where, OSError(0, cause))


@contextlib.contextmanager
def _stderr_held():
  """What the process writes to its stderr (fd 2, C++ included) while the block runs, held in
  a file: ``held.text()`` gives it back."""
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile("w+") as held:
    os.dup2(held.fileno(), 2)
    try:
      yield types.SimpleNamespace(text=lambda: (held.flush(), held.seek(0), held.read())[2])
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)


def _save(manager, step: int, args, where: pathlib.Path) -> None:
  """``manager.save``; a write it cannot make is one line (the tracebacks its writers print
  as they fail, and as the writes still in flight end in event loops orbax has closed, are
  held back and dropped)."""
  failure = None
  with _stderr_held() as held:
    try:
      manager.save(step, args=args)
    except Exception as e:  # noqa: BLE001 -- whatever orbax raises for a write it could not make
      failure = _write_failure(where, e)
      with contextlib.suppress(Exception):
        manager.wait_until_finished()
      time.sleep(1.0)  # the writers still in flight settle
    printed = held.text()
  if failure is not None:
    raise failure from None
  sys.stderr.write(printed)  # a save that worked: whatever it printed is shown


def _finish_saving(manager, where: pathlib.Path) -> None:
  try:
    manager.wait_until_finished()
  except Exception as e:  # noqa: BLE001
    raise _write_failure(where, e) from None


def _to_host(x) -> np.ndarray:
  return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def fingerprint(config: ml_collections.ConfigDict) -> str:
  """What a checkpoint must match to be resumed from: everything that changes results."""
  relevant = {
    k: v
    for k, v in halving.comparable(json.loads(config.to_json_best_effort(sort_keys=True))).items()
    if k not in ("checkpoint_every", "eval_every")
  }
  return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


class _Metrics:
  """metrics.jsonl: one line per chunk. Each append rewrites the file atomically (it holds a
  few hundred lines), so a killed run leaves every line whole. A resume from update s keeps
  the lines up to s (the chunk that ended at s wrote its line before its checkpoint), and a
  start from update 0 keeps none, whenever and however the previous run died: no step is
  ever logged twice."""

  def __init__(self, path: pathlib.Path, resume_step: int, writer: bool):
    self.path, self.writer = path, writer
    self.previous_wall_s = 0.0  # time spent by the sessions before a resume
    self.previous_case_passes = None  # and their compute, per grid point
    kept = [
      m for m in results.load_metrics(path.parent) if resume_step > 0 and m["step"] <= resume_step
    ]
    self.lines = [json.dumps(m) for m in kept]
    self.records = kept  # the same, parsed (halving's rung metric reads them)
    if kept:
      self.previous_wall_s = kept[-1]["wall_s"]
      self.previous_case_passes = kept[-1].get("case_passes")
    if writer and path.exists():
      files.write_text(path, "".join(line + "\n" for line in self.lines))

  def append(self, record: dict) -> None:
    self.lines.append(json.dumps(record))
    self.records.append(record)
    if self.writer:
      files.write_text(self.path, "".join(line + "\n" for line in self.lines))


def _resume(manager, layout_for, config, num_devices: int, workdir: pathlib.Path, writer: bool):
  """(update, state, meta) of the newest readable checkpoint, or (0, None, None) when there is
  none; ``layout_for(meta)`` gives the (programs, abstract state) the checkpoint was written
  for (the whole grid, or the points halving had left running).

  A checkpoint that cannot be read (a torn or corrupted write) is reported in one line,
  deleted, and the one before it is used; a run whose every checkpoint is unreadable stops
  with a line that says how to start over. A checkpoint of another config, or of another
  device count, is refused.
  """
  where = workdir / "checkpoints"
  steps = sorted(manager.all_steps(), reverse=True)
  for i, step in enumerate(steps):
    try:
      meta = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
    except Exception as e:  # noqa: BLE001 -- orbax raises many kinds for a damaged file
      meta, error = None, e
    if meta is not None:
      if meta["fingerprint"] != fingerprint(config):
        raise ConfigError(
          f"checkpoint at {where} was written by a different "
          "config; pass another --workdir or delete the checkpoints"
        )
      compiled, abstract = layout_for(meta)
      if tuple(meta.get("slots", ())) != compiled.slots:
        raise ConfigError(
          f"checkpoint at {where} holds {meta.get('slots')} grid slots per optimizer "
          f"family (its run's device count); this run has {list(compiled.slots)} on "
          f"{num_devices} devices: resume on the same number of devices"
        )
      try:
        restored = manager.restore(
          step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))
        ).state
      except Exception as e:  # noqa: BLE001
        error = e
      else:
        if writer:
          print(f"resuming {workdir} from update {step}", file=sys.stderr)
        return step, tuple(restored), meta
    reason = (
      str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    )
    if i + 1 == len(steps):
      raise ConfigError(
        f"no readable checkpoint in {where} (update {step}: {reason}); "
        f"delete {where} to start the run over"
      )
    if writer:
      print(
        f"checkpoint at update {step} is unreadable ({reason}); resuming from update {steps[i + 1]}",
        file=sys.stderr,
      )
    manager.delete(step)
  return 0, None, None


def _board(config, workdir: pathlib.Path, points: dict[str, np.ndarray], kept: list[dict]):
  """``config.tensorboard``'s live summaries (engine/tensorboard.py), holding the lines of
  metrics.jsonl the run keeps; None when off."""
  if not config.get("tensorboard"):
    return None
  from nesterov_jax.engine import tensorboard

  schedules = [
    family(str(o)).schedules(config, float(m))
    for o, m in zip(points["optimizer"], points["mu_max"])
  ]
  board = tensorboard.Board(workdir, points, schedules)
  for record in kept:
    board.write(record)
  return board


def _abstract_state(compiled: programs.Programs):
  """The shapes, dtypes and shardings of ``compiled``'s state, without computing it."""
  return jax.tree.map(
    lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=compiled.by_point),
    jax.eval_shape(compiled.init, compiled.hps),
  )


def _host(x) -> np.ndarray:
  return x if isinstance(x, np.ndarray) else _to_host(x)


def _in_grid_order(
  compiled: programs.Programs, per_group: tuple[dict, ...]
) -> dict[str, np.ndarray]:
  """Per-family dicts of [slots] arrays as one dict of [points] arrays in the grid's order
  (a metric one family lacks, e.g. HF's diagnostics, is NaN for the others' points)."""
  keys = list(dict.fromkeys(k for d in per_group for k in d))
  return {
    k: compiled.gather(
      [
        d[k] if k in d else np.full(s, np.nan, np.float32)
        for d, s in zip(per_group, compiled.slots)
      ],
      _host,
    )
    for k in keys
  }


class _Stops:
  """Successive halving's bookkeeping on the host, per grid point (the whole grid's order):
  where each point stopped and its rung metric there, and, for points gathered out of the
  compiled grid, whether they had diverged; with the layouts the run went through. It goes
  into every checkpoint's metadata, so a resumed run carries on from the same state."""

  def __init__(self, num_points: int, meta: dict | None):
    meta = (meta or {}).get("halving") or {}
    none_nan = lambda v: np.nan if v is None else v
    self.stopped_at = np.array(meta.get("stopped_at", [-1] * num_points), np.int64)
    self.metric = np.array(
      [none_nan(v) for v in meta.get("metric", [None] * num_points)], np.float64
    )
    self.diverged = np.array(meta.get("diverged", [False] * num_points), bool)
    self.diverged_at = np.array(meta.get("diverged_at", [-1] * num_points), np.int64)
    self.layouts = list(meta.get("layouts", []))  # [{"from": update, "points": n, "slots": [...]}]

  def running(self) -> np.ndarray:
    return self.stopped_at < 0

  def meta(self) -> dict:
    nan_none = lambda v: None if not np.isfinite(v) else float(v)
    return {
      "stopped_at": self.stopped_at.tolist(),
      "metric": [nan_none(v) for v in self.metric],
      "diverged": self.diverged.tolist(),
      "diverged_at": self.diverged_at.tolist(),
      "layouts": self.layouts,
    }


def _sub_grid(points: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
  return {k: v[rows] for k, v in points.items()}


def _regather(
  state, old: programs.Programs, old_rows: np.ndarray, new: programs.Programs, new_rows: np.ndarray
):
  """The states of ``new_rows`` (grid indices), held by ``old`` for ``old_rows``, laid out as
  ``new``'s smaller grid (each family's rows padded with copies of its first) on ``new``'s
  devices: every value copied, none recomputed."""
  where = {
    int(old_rows[i]): (g, j) for g, group in enumerate(old.groups) for j, i in enumerate(group.rows)
  }
  on_host = [jax.tree.map(_to_host, s) for s in state]
  out = []
  for group, slots in zip(new.groups, new.slots):
    picks = [where[int(new_rows[i])] for i in group.rows]
    g = picks[0][0]  # one family: one of the old groups
    take = np.array([j for _, j in picks] + [picks[0][1]] * (slots - len(picks)))
    out.append(jax.tree.map(lambda x: programs.to_global(x[take], new.by_point), on_host[g]))
  return tuple(out)


def _full(values: np.ndarray, rows: np.ndarray, running: np.ndarray, fill) -> np.ndarray:
  """A compiled grid's values (in ``rows``' order) as the whole grid's, ``fill`` for every point
  not running."""
  values = np.asarray(values)
  out = np.full((len(running),) + values.shape[1:], fill, values.dtype if fill == 0 else np.float64)
  out[rows] = values
  out[~running] = fill
  return out


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> list[dict]:
  """Trains the whole grid; returns (and writes to results.json) one record per grid point.

  With ``config.halving`` on, the points that lose at a rung (and those that diverge) stop at
  that chunk boundary: their records say where (``stopped_at``), and the survivors' states
  go on in a smaller compiled grid (see engine/halving.py). Python warnings raised on the way
  stay off the terminal: each distinct one goes into the records' provenance, which every
  report's first lines show.
  """
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("default")
    return _run(config, workdir, caught)


def _warning_lines(caught: list) -> list[str]:
  return list(
    dict.fromkeys(
      f"{w.category.__name__}: {' '.join(str(w.message).split())[:300]} "
      f"({pathlib.Path(w.filename).name}:{w.lineno})"
      for w in caught
    )
  )


def _run(config: ml_collections.ConfigDict, workdir: pathlib.Path, caught: list) -> list[dict]:
  points = grid.validate(config)
  plan = halving.plan(config, tuple(points))
  wall_start = time.perf_counter()
  task = make_task(config.task)
  grid.check_axes(config, task, points)
  num_points = len(points["mu_max"])
  everything = np.arange(num_points)
  whole = programs.build(task, config, points)  # builds; compiles at the first call
  families = [g.family for g in whole.groups]
  for fam in families:
    fam.check_task(config, task)
  data = jax.tree.map(lambda x: programs.to_global(np.asarray(x), whole.replicated), task.data)

  def layout_for(meta):
    rows = np.array(meta["rows"]) if meta and "rows" in meta else everything
    compiled = (
      whole if len(rows) == num_points else programs.build(task, config, _sub_grid(points, rows))
    )
    return compiled, _abstract_state(compiled)

  writer = jax.process_index() == 0
  manager = ocp.CheckpointManager(
    (workdir / "checkpoints").resolve(),
    # Synchronous saves: a failed write then fails in save() itself, in this thread (async
    # writers fail in threads that print a traceback each); a save takes a second or so.
    options=ocp.CheckpointManagerOptions(
      max_to_keep=2, create=True, enable_async_checkpointing=False
    ),
  )
  with jax.default_matmul_precision(config.precision):
    start, state, meta = _resume(
      manager, layout_for, config, whole.by_point.mesh.size, workdir, writer
    )
    rows = np.array(meta["rows"]) if meta and "rows" in meta else everything
    compiled = layout_for(meta)[0] if len(rows) < num_points else whole
    if state is None:
      state = compiled.init(compiled.hps)
    stops = _Stops(num_points, meta)
    if plan and not stops.layouts:
      stops.layouts.append({"from": 0, "points": num_points, "slots": list(compiled.slots)})
    metrics = _Metrics(workdir / results.METRICS, start, writer)
    board = _board(config, workdir, points, metrics.records) if writer else None
    wall_start -= metrics.previous_wall_s  # wall times count every session of the run
    case_passes = np.asarray(metrics.previous_case_passes or np.zeros(num_points), np.float64)
    milestones = grid.milestones(config, families)
    eval_steps = {
      config.num_updates,
      *milestones.values(),
      *(plan.rungs if plan and plan.metric == "train_error" else ()),
    }
    progress = tqdm.tqdm(
      total=config.num_updates,
      initial=start,
      unit="upd",
      disable=not writer,
      desc=f"{task.name} x{num_points}",
      file=sys.stderr,
      dynamic_ncols=True,
    )
    diverged_of = lambda state: _full(
      compiled.gather([s.diverged for s in state], _host), rows, np.ones(num_points, bool), False
    ).astype(bool)
    in_grid = lambda per_group, fill: {
      k: _full(v, rows, stops.running(), fill)
      for k, v in _in_grid_order(compiled, per_group).items()
    }
    # Every process runs this loop identically: each call below is a collective.
    checkpoints = workdir / "checkpoints"
    stop = stopping.StopRequests().__enter__()  # SIGTERM, Ctrl-C: stop at the next chunk boundary
    try:
      if start == 0:  # the error curves start from the initialization
        errors = compiled.initial_errors(data, _host)
        metrics.append(
          {
            "step": 0,
            "wall_s": round(time.perf_counter() - wall_start, 3),
            "case_passes": case_passes.tolist(),
            **{k: v.tolist() for k, v in errors.items()},
          }
        )
        board and board.write(metrics.records[-1])
      for chunk_start in range(start, config.num_updates, config.chunk_size):
        state, logs = compiled.chunk_at(chunk_start)(
          state, compiled.hps, data, jnp.int32(chunk_start)
        )
        stopping.wait_for((state, logs))  # in Python, where a Ctrl-C is handled at once
        passes = in_grid([{"case_passes": d["case_passes"]} for d in logs], 0.0)["case_passes"]
        logs = in_grid([{k: v for k, v in d.items() if k != "case_passes"} for d in logs], np.nan)
        case_passes = case_passes + passes
        step = chunk_start + config.chunk_size
        record = {
          "step": step,
          "wall_s": round(time.perf_counter() - wall_start, 3),
          "case_passes": case_passes.tolist(),
          **{k: v.tolist() for k, v in logs.items()},
        }
        errors = None
        if step in eval_steps or (config.eval_every and step % config.eval_every == 0):
          errors = in_grid(compiled.evaluate(state, data), np.nan)
          record.update({k: v.tolist() for k, v in errors.items()})
          diverged = diverged_of(state)
          best = np.nanmin(np.where(diverged, np.nan, errors["train_error"]), initial=np.inf)
          progress.set_postfix(
            best_train_error=f"{best:.4g}",
            diverged=int(diverged.sum()),
            **({"running": int(stops.running().sum())} if plan else {}),
          )
        metrics.append(record)
        board and board.write(record)
        if plan and step < config.num_updates:
          state, compiled, rows = _halve(
            plan,
            step,
            stops,
            state,
            compiled,
            rows,
            diverged_of(state),
            points,
            metrics.records,
            errors,
            task,
            config,
          )
        # A signal on any process: every process saves this update and stops (engine/stopping.py).
        stop_signal = stop.agreed(jax.process_count()) if step < config.num_updates else None
        if (
          step == config.num_updates
          or stop_signal
          or (config.checkpoint_every and step % config.checkpoint_every == 0)
        ):
          _save(
            manager,
            step,
            ocp.args.Composite(
              state=ocp.args.StandardSave(state),
              meta=ocp.args.JsonSave(
                {
                  "fingerprint": fingerprint(config),
                  "step": step,
                  "slots": list(compiled.slots),
                  **({"rows": rows.tolist(), "halving": stops.meta()} if plan else {}),
                }
              ),
            ),
            checkpoints,
          )
        progress.update(config.chunk_size)
        if stop_signal:
          raise stopping.Stopped(step, stop_signal)
    finally:  # on any failure too: the bar ends before the error line, and a checkpoint in
      progress.close()  # flight is finished, so the rerun can resume from it
      stop.__exit__()
      board and board.close()
      _finish_saving(manager, checkpoints)
    diverged = diverged_of(state)
    diverged_at = _full(
      compiled.gather([s.diverged_at for s in state], _host), rows, np.ones(num_points, bool), -1
    ).astype(np.int64)
  if not writer:
    return []
  if plan:  # the points gathered out of the grid keep what they had when they left
    gone = np.setdiff1d(everything, rows)
    diverged[gone], diverged_at[gone] = stops.diverged[gone], stops.diverged_at[gone]
    files.write_json(workdir / HALVING, _halving_summary(plan, stops, config))
  prov = provenance.record(time.perf_counter() - wall_start)
  if caught:
    prov["warnings"] = _warning_lines(caught)
  records = _records(
    config,
    task,
    points,
    results.load_metrics(workdir),
    diverged,
    diverged_at,
    prov,
    milestones,
    stops if plan else None,
  )
  files.write_json(workdir / results.RESULTS, records)
  return records


HALVING = "halving.json"  # in a run directory with halving on: its rungs, layouts and compute


def _halve(
  plan: halving.Plan,
  step: int,
  stops: _Stops,
  state,
  compiled: programs.Programs,
  rows: np.ndarray,
  diverged: np.ndarray,
  points,
  lines: list[dict],
  errors,
  task,
  config,
):
  """At a chunk boundary: the points that diverged stop, and at a rung the losers of every
  group; the survivors go on in a program compiled for their number when it needs fewer
  slots than the one they are in (else the stopped points stay in their slots, frozen and
  unreported). Returns (state, programs, rows)."""
  running = stops.running()
  leaving = running & diverged
  metric = np.full(len(running), np.nan)
  if step in plan.rungs:
    metric = halving.rung_metric(plan, step, lines, errors)
    keep = halving.survivors(points, metric, diverged, running, plan.eta, plan.axes)
    leaving = running & ~keep
  if not leaving.any():
    return state, compiled, rows
  stops.stopped_at[leaving] = step
  stops.metric[leaving] = np.where(diverged[leaving], np.inf, metric[leaving])
  stops.diverged[leaving] = diverged[leaving]
  left_at = _full(
    compiled.gather([s.diverged_at for s in state], _host), rows, np.ones(len(running), bool), -1
  )
  stops.diverged_at[leaving] = left_at[leaving]
  new_rows = np.flatnonzero(stops.running())
  if len(new_rows) == 0:  # nothing left to run: the frozen grid runs out its updates
    return state, compiled, rows
  smaller = programs.build(task, config, _sub_grid(points, new_rows))
  if smaller.slots == compiled.slots and [g.family.key for g in smaller.groups] == [
    g.family.key for g in compiled.groups
  ]:
    return state, compiled, rows
  stops.layouts.append({"from": step, "points": int(len(new_rows)), "slots": list(smaller.slots)})
  return _regather(state, compiled, rows, smaller, new_rows), smaller, new_rows


def _halving_summary(plan: halving.Plan, stops: _Stops, config) -> dict:
  """What halving did: the plan, every layout (from which update, how many points, their
  slots), and the compute: the points' config-updates and the compiled slots' (padding and
  frozen points included), against the whole grid's."""
  n, num = config.num_updates, len(stops.stopped_at)
  run_for = np.where(stops.stopped_at < 0, n, stops.stopped_at)
  ends = [layout["from"] for layout in stops.layouts[1:]] + [n]
  slot_updates = sum(
    sum(layout["slots"]) * (end - layout["from"]) for layout, end in zip(stops.layouts, ends)
  )
  return {
    "rungs": list(plan.rungs),
    "eta": plan.eta,
    "metric": plan.metric,
    "window": plan.window,
    "groups": list(plan.axes or ()),
    "layouts": stops.layouts,
    "config_updates": int(run_for.sum()),
    "slot_updates": int(slot_updates),
    "full_grid_config_updates": int(n * num),
    "full_grid_slot_updates": int(n * sum(stops.layouts[0]["slots"])),
    "finished": int((stops.stopped_at < 0).sum()),
    "points": num,
  }


def load_final_state(workdir: pathlib.Path):
  """The last checkpoint of a run, on this host: (config, task, grid, point), ``point(i)``
  the TrainState of grid point i.

  For reports that draw what the trained networks do; single-process, on any number of
  devices (the run's may have been sharded over others).
  """
  config = ml_collections.ConfigDict(files.read_json(workdir / "config.json"))
  search_from_run(workdir)  # a user's task module, found as the run found it
  manager = ocp.CheckpointManager((workdir / "checkpoints").resolve())
  step = manager.latest_step()
  if step is None:
    raise FileNotFoundError(f"no checkpoint in {workdir / 'checkpoints'}")
  meta = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
  if not isinstance(meta.get("slots"), list):  # before one program per optimizer family
    raise FileNotFoundError(
      f"the checkpoint in {workdir / 'checkpoints'} was written by an older "
      "nesterov_jax (one grid layout for all optimizers); rerun to draw from it"
    )
  task = make_task(config.task)
  points = grid.points(config.grid)
  rows = np.array(meta.get("rows", range(len(points["seed"]))))  # halving: the points still running
  compiled = programs.build(
    task, config, _sub_grid(points, rows), programs.grid_mesh(1), tuple(meta["slots"]), jit=False
  )
  # On this host's first device, whatever devices the run had.
  here = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  abstract = jax.tree.map(
    lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=here),
    jax.eval_shape(compiled.init, compiled.hps),
  )
  state = manager.restore(
    step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))
  ).state
  where = {
    int(rows[i]): (g, j)
    for g, group in enumerate(compiled.groups)
    for j, i in enumerate(group.rows)
  }

  def point(i: int) -> programs.TrainState:
    if i not in where:
      raise FileNotFoundError(
        f"grid point {i} of {workdir} was stopped by successive halving; the last "
        "checkpoint holds only the points that ran to its update"
      )
    g, j = where[i]
    return jax.tree.map(lambda x: x[j], programs.TrainState(*state[g]))

  return config, task, points, point


LOSS_WINDOW = 1000  # final_train_loss: the mean training objective over the last this-many updates


def _records(
  config, task, points, metrics, diverged, diverged_at, prov, milestones, stops=None
) -> list[dict]:
  evals = {r["step"]: r for r in metrics if "train_error" in r}
  final = evals[config.num_updates]
  window = [
    m["train_loss"]
    for m in metrics
    if m["step"] > config.num_updates - max(LOSS_WINDOW, config.chunk_size) and "train_loss" in m
  ]
  with warnings.catch_warnings():  # a point that diverged early has no finite loss: NaN
    warnings.simplefilter("ignore", RuntimeWarning)
    final_loss = (
      np.nanmean(np.array(window, np.float64), axis=0) if window else np.full(len(diverged), np.nan)
    )
  records = []
  for i in range(len(diverged)):
    name = str(points["optimizer"][i])
    r = {
      "task": task.name,
      "optimizer": name,
      "optimizer_args": family(name).record_args(config, name),
    }
    # str() of a float32 is its shortest repr: 0.1, not 0.10000000149.
    r.update(
      {
        k: (int(v[i]) if k == "seed" else float(str(v[i])))
        for k, v in points.items()
        if k != "optimizer"
      }
    )
    r.update({f"final_{k}": final[k][i] for k in final if k.endswith("_error")})
    r["final_train_loss"] = float(final_loss[i])
    r["selected_by"] = config.get("selection", "final_train_error")
    for milestone, step in milestones.items():  # e.g. train_error_before_finetune
      if step in evals:
        r[f"train_error_{milestone}"] = evals[step]["train_error"][i]
    r.update(
      {
        "diverged": bool(diverged[i]),
        "diverged_at": int(diverged_at[i]),
        "case_passes": final["case_passes"][i],
        "num_train": task.num_train,
        "num_updates": config.num_updates,
        "precision": config.precision,
        "data": task.provenance,
        "provenance": prov,
      }
    )
    if (
      stops is not None
    ):  # halving: where the point stopped (num_updates: it finished) and its metric there
      stopped = int(stops.stopped_at[i])
      r["stopped_at"] = config.num_updates if stopped < 0 else stopped
      r["stopped_metric"] = (
        None if stopped < 0 or not np.isfinite(stops.metric[i]) else float(stops.metric[i])
      )
    records.append(r)
  return records
