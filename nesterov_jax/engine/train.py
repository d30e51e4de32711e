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

from nesterov_jax.engine import files, grid, programs, provenance, results
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
      (workdir / "checkpoints").glob("*"))
  if saved.exists() and started:
    previous = files.read_json(saved)
    if previous != resolved:
      changed = sorted(k for k in set(previous) | set(resolved) if previous.get(k) != resolved.get(k))
      raise ConfigError(
          f"workdir {workdir} holds a different run (fields that differ: {', '.join(changed)}); "
          "pass another --workdir or delete that one")
  workdir.mkdir(parents=True, exist_ok=True)
  files.write_text(saved, json.dumps(resolved, indent=2, sort_keys=True) + "\n")


def _write_failure(where: pathlib.Path, error: Exception) -> files.WriteFailed:
  """A checkpoint's failure as one line: orbax and tensorstore raise OSError, ValueError or
  RuntimeError ("RESOURCE_EXHAUSTED: Error writing ... No space left on device")."""
  text = str(error)
  if isinstance(error, OSError):
    return files.write_failed(where, error)
  cause = "No space left on device" if "No space left" in text else (text.strip().splitlines() or [type(error).__name__])[0][:200]
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
  relevant = {k: v for k, v in json.loads(config.to_json_best_effort(sort_keys=True)).items()
              if k not in ("checkpoint_every", "eval_every")}
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
    kept = [m for m in results.load_metrics(path.parent) if resume_step > 0 and m["step"] <= resume_step]
    self.lines = [json.dumps(m) for m in kept]
    if kept:
      self.previous_wall_s = kept[-1]["wall_s"]
      self.previous_case_passes = kept[-1].get("case_passes")
    if writer and path.exists():
      files.write_text(path, "".join(line + "\n" for line in self.lines))

  def append(self, record: dict) -> None:
    self.lines.append(json.dumps(record))
    if self.writer:
      files.write_text(self.path, "".join(line + "\n" for line in self.lines))


def _resume(manager, state, config, slots: tuple[int, ...], num_devices: int,
            workdir: pathlib.Path, writer: bool) -> tuple[int, tuple]:
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
      if tuple(meta.get("slots", ())) != slots:
        raise ConfigError(f"checkpoint at {where} holds {meta.get('slots')} grid slots per optimizer "
                          f"family (its run's device count); this run has {list(slots)} on {num_devices} "
                          "devices: resume on the same number of devices")
      try:
        restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))).state
      except Exception as e:  # noqa: BLE001
        error = e
      else:
        if writer:
          print(f"resuming {workdir} from update {step}", file=sys.stderr)
        return step, tuple(restored)
    reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    if i + 1 == len(steps):
      raise ConfigError(f"no readable checkpoint in {where} (update {step}: {reason}); "
                        f"delete {where} to start the run over")
    if writer:
      print(f"checkpoint at update {step} is unreadable ({reason}); resuming from update {steps[i + 1]}",
            file=sys.stderr)
    manager.delete(step)
  return 0, state


def _host(x) -> np.ndarray:
  return x if isinstance(x, np.ndarray) else _to_host(x)


def _in_grid_order(compiled: programs.Programs, per_group: tuple[dict, ...]) -> dict[str, np.ndarray]:
  """Per-family dicts of [slots] arrays as one dict of [points] arrays in the grid's order
  (a metric one family lacks, e.g. HF's diagnostics, is NaN for the others' points)."""
  keys = list(dict.fromkeys(k for d in per_group for k in d))
  return {k: compiled.gather([d[k] if k in d else np.full(s, np.nan, np.float32)
                              for d, s in zip(per_group, compiled.slots)], _host) for k in keys}


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> list[dict]:
  """Trains the whole grid; returns (and writes to results.json) one record per grid point."""
  points = grid.validate(config)
  wall_start = time.perf_counter()
  task = make_task(config.task)
  grid.check_axes(config, task, points)
  num_points = len(points["mu_max"])
  compiled = programs.build(task, config, points)  # builds; compiles at the first call
  families = [g.family for g in compiled.groups]
  for fam in families:
    fam.check_task(config, task)
  mesh = compiled.by_point.mesh
  data = jax.tree.map(lambda x: programs.to_global(np.asarray(x), compiled.replicated), task.data)

  writer = jax.process_index() == 0
  manager = ocp.CheckpointManager(
      (workdir / "checkpoints").resolve(),
      # Synchronous saves: a failed write then fails in save() itself, in this thread (async
      # writers fail in threads that print a traceback each); a save takes a second or so.
      options=ocp.CheckpointManagerOptions(max_to_keep=2, create=True, enable_async_checkpointing=False))
  with jax.default_matmul_precision(config.precision):
    state = compiled.init(compiled.hps)
    start, state = _resume(manager, state, config, compiled.slots, mesh.size, workdir, writer)
    metrics = _Metrics(workdir / results.METRICS, start, writer)
    wall_start -= metrics.previous_wall_s  # wall times count every session of the run
    case_passes = np.asarray(metrics.previous_case_passes or np.zeros(num_points), np.float64)
    milestones = grid.milestones(config, families)
    eval_steps = {config.num_updates, *milestones.values()}
    progress = tqdm.tqdm(total=config.num_updates, initial=start, unit="upd", disable=not writer,
                         desc=f"{task.name} x{num_points}", file=sys.stderr, dynamic_ncols=True)
    diverged_of = lambda state: compiled.gather([s.diverged for s in state], _host)
    # Every process runs this loop identically: each call below is a collective.
    checkpoints = workdir / "checkpoints"
    try:
      if start == 0:  # the error curves start from the initialization
        errors = compiled.initial_errors(data, _host)
        metrics.append({"step": 0, "wall_s": round(time.perf_counter() - wall_start, 3),
                        "case_passes": case_passes.tolist(), **{k: v.tolist() for k, v in errors.items()}})
      for chunk_start in range(start, config.num_updates, config.chunk_size):
        state, logs = compiled.chunk_at(chunk_start)(state, compiled.hps, data, jnp.int32(chunk_start))
        logs = _in_grid_order(compiled, logs)
        case_passes = case_passes + logs.pop("case_passes")
        step = chunk_start + config.chunk_size
        record = {"step": step, "wall_s": round(time.perf_counter() - wall_start, 3),
                  "case_passes": case_passes.tolist(), **{k: v.tolist() for k, v in logs.items()}}
        if step in eval_steps or (config.eval_every and step % config.eval_every == 0):
          errors = _in_grid_order(compiled, compiled.evaluate(state, data))
          record.update({k: v.tolist() for k, v in errors.items()})
          diverged = diverged_of(state)
          best = np.nanmin(np.where(diverged, np.nan, errors["train_error"]), initial=np.inf)
          progress.set_postfix(best_train_error=f"{best:.4g}", diverged=int(diverged.sum()))
        metrics.append(record)
        if step == config.num_updates or (config.checkpoint_every and step % config.checkpoint_every == 0):
          _save(manager, step, ocp.args.Composite(
              state=ocp.args.StandardSave(state),
              meta=ocp.args.JsonSave({"fingerprint": fingerprint(config), "step": step,
                                      "slots": list(compiled.slots)})), checkpoints)
        progress.update(config.chunk_size)
    finally:  # on any failure too: the bar ends before the error line, and a checkpoint in
      progress.close()  # flight is finished, so the rerun can resume from it
      _finish_saving(manager, checkpoints)
    diverged = diverged_of(state)
    diverged_at = compiled.gather([s.diverged_at for s in state], _host)
  if not writer:
    return []
  prov = provenance.record(time.perf_counter() - wall_start)
  records = _records(config, task, points, results.load_metrics(workdir), diverged, diverged_at, prov, milestones)
  files.write_json(workdir / results.RESULTS, records)
  return records


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
    raise FileNotFoundError(f"the checkpoint in {workdir / 'checkpoints'} was written by an older "
                            "nesterov_jax (one grid layout for all optimizers); rerun to draw from it")
  task = make_task(config.task)
  points = grid.points(config.grid)
  compiled = programs.build(task, config, points, programs.grid_mesh(1), tuple(meta["slots"]), jit=False)
  # On this host's first device, whatever devices the run had.
  here = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=here),
                          jax.eval_shape(compiled.init, compiled.hps))
  state = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))).state
  where = {int(i): (g, j) for g, group in enumerate(compiled.groups) for j, i in enumerate(group.rows)}

  def point(i: int) -> programs.TrainState:
    g, j = where[i]
    return jax.tree.map(lambda x: x[j], programs.TrainState(*state[g]))

  return config, task, points, point


LOSS_WINDOW = 1000  # final_train_loss: the mean training objective over the last this-many updates


def _records(config, task, points, metrics, diverged, diverged_at, prov, milestones) -> list[dict]:
  evals = {r["step"]: r for r in metrics if "train_error" in r}
  final = evals[config.num_updates]
  window = [m["train_loss"] for m in metrics
            if m["step"] > config.num_updates - max(LOSS_WINDOW, config.chunk_size) and "train_loss" in m]
  with warnings.catch_warnings():  # a point that diverged early has no finite loss: NaN
    warnings.simplefilter("ignore", RuntimeWarning)
    final_loss = np.nanmean(np.array(window, np.float64), axis=0) if window else np.full(len(diverged), np.nan)
  records = []
  for i in range(len(diverged)):
    name = str(points["optimizer"][i])
    r = {"task": task.name, "optimizer": name,
         "optimizer_args": family(name).record_args(config, name)}
    # str() of a float32 is its shortest repr: 0.1, not 0.10000000149.
    r.update({k: (int(v[i]) if k == "seed" else float(str(v[i]))) for k, v in points.items() if k != "optimizer"})
    r.update({f"final_{k}": final[k][i] for k in final if k.endswith("_error")})
    r["final_train_loss"] = float(final_loss[i])
    r["selected_by"] = config.get("selection", "final_train_error")
    for milestone, step in milestones.items():  # e.g. train_error_before_finetune
      if step in evals:
        r[f"train_error_{milestone}"] = evals[step]["train_error"][i]
    r.update({"diverged": bool(diverged[i]), "diverged_at": int(diverged_at[i]),
              "case_passes": final["case_passes"][i], "num_train": task.num_train,
              "num_updates": config.num_updates, "precision": config.precision,
              "data": task.provenance, "provenance": prov})
    records.append(r)
  return records
