"""The compiled programs of a sweep: init, train chunk and evaluate, for a whole grid.

Every grid point is isolated: its hyperparameters and its seed are rows of arrays with a
leading grid axis; a point whose loss or gradient stops being finite is frozen at its last
finite state and marked diverged, and nothing else changes. Minibatch t of a point is drawn
from ``fold_in(fold_in(key(seed), 1), t)``, so a run resumed from a checkpoint computes
exactly what an uninterrupted one does.

Points of one optimizer family are vmapped together; the program holds one vmapped branch
per family (a grid of a registered family, Adam and a user's factory is one program of three branches), and
its state is a tuple of the branches' states. All of it is built by :func:`build`, which
``train.run``, ``train.load_final_state`` and the benchmark share.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from nesterov_jax.engine import grid
from nesterov_jax.engine.config import ConfigError
from nesterov_jax.engine.optimizers import Family
from nesterov_jax.engine.tasks import Task


class TrainState(NamedTuple):
  """One grid point's training state (the engine holds it with a leading grid axis)."""

  params: Any
  opt_state: Any
  diverged: chex.Array  # bool: loss or gradient went non-finite; frozen since
  diverged_at: chex.Array  # int32: the update at which it happened, −1 if never


def _task_hparams(task: Task, hp) -> dict:
  return {k: hp[k] for k in task.hparam_axes if k in hp}


def family_programs(task: Task, config, fam: Family, phase, phase_start: int):
  """The vmapped (init, train chunk, evaluate) of one family's points, for one phase."""

  def init_point(hp) -> TrainState:
    params = task.init(jax.random.fold_in(jax.random.key(hp["seed"]), 0), _task_hparams(task, hp))
    opt_state = fam.make(config, hp, phase, phase_start).init(params)
    try:  # the reported point must exist (a look-ahead method last in its chain): say so before training
      fam.evaluation_params(params, opt_state)
    except ValueError as e:
      raise ConfigError(f"optimizer family {fam.key!r}: {e}") from e
    return TrainState(params, opt_state, jnp.array(False), jnp.array(-1, jnp.int32))

  def train_chunk(state: TrainState, hp, data, start) -> tuple[TrainState, dict]:
    opt = fam.make(config, hp, phase, phase_start)
    data_key = jax.random.fold_in(jax.random.key(hp["seed"]), 1)
    state = state._replace(opt_state=fam.begin_chunk(state.opt_state, phase, start, phase_start))

    def step(state: TrainState, t):
      batch = fam.sample(task, data, jax.random.fold_in(data_key, t), phase)
      loss, grads = jax.value_and_grad(task.loss)(state.params, batch)
      updates, opt_state = opt.update(
        grads,
        state.opt_state,
        state.params,
        **fam.update_args(task, state.params, batch, loss, grads),
      )
      params = optax.apply_updates(state.params, updates)
      # Compute in network passes × cases: a gradient is 2 (forward + backward), plus the optimizer's own.
      cost = 2.0 * jax.tree.leaves(batch)[0].shape[0 if task.cases_first else 1] + fam.cost(
        opt_state
      )
      ok = jnp.isfinite(loss) & jnp.isfinite(optax.tree.norm(grads)) & ~state.diverged
      keep = lambda new, old: jnp.where(ok, new, old)
      new = TrainState(
        jax.tree.map(keep, params, state.params),
        jax.tree.map(keep, opt_state, state.opt_state),
        ~ok,
        jnp.where(state.diverged | ok, state.diverged_at, t),
      )
      logs = {
        "train_loss": jnp.where(ok, loss, jnp.nan),
        "case_passes": jnp.where(ok, cost, 0.0),
        **fam.diagnostics(new.opt_state),
      }
      return new, logs

    state, logs = jax.lax.scan(step, state, start + jnp.arange(config.chunk_size))
    summary = {k: jnp.nanmean(v) for k, v in logs.items()}
    summary["case_passes"] = jnp.sum(logs["case_passes"])  # this chunk's compute
    return state, summary

  def evaluate_point(state: TrainState, data):
    return task.evaluate(fam.evaluation_params(state.params, state.opt_state), data)

  return (
    jax.vmap(init_point),
    jax.vmap(train_chunk, in_axes=(0, 0, None, None)),
    jax.vmap(evaluate_point, in_axes=(0, None)),
  )


def make_programs(task: Task, config, families: list[Family], phase_index: int = 0):
  """The grid's (init, train chunk, evaluate) for phase ``phase_index``: each maps a tuple
  of per-family values (hyperparameter dicts, states) to a tuple of results, one branch per
  family, in one program."""
  phase_start, _, phase = grid.phases(config, families)[phase_index]
  branches = [family_programs(task, config, fam, phase, phase_start) for fam in families]

  def init(hps):
    return tuple(b[0](hp) for b, hp in zip(branches, hps))

  def train_chunk(states, hps, data, start):
    out = [b[1](s, hp, data, start) for b, s, hp in zip(branches, states, hps)]
    return tuple(o[0] for o in out), tuple(o[1] for o in out)

  def evaluate(states, data):
    return tuple(b[2](s, data) for b, s in zip(branches, states))

  return init, train_chunk, evaluate


def grid_mesh(num_points: int) -> Mesh:
  """The devices a grid of ``num_points`` (its largest family's) is sharded over, as a
  one-axis mesh ("grid").

  Every device of every process, except that a single process uses no more devices than
  there are points (a padded slot would cost a whole grid point's compute).
  """
  devices = jax.devices()
  if jax.process_count() == 1:
    devices = devices[: max(1, min(len(devices), num_points))]
  return Mesh(np.array(devices), ("grid",))


def to_global(x, sharding) -> jax.Array:
  """A global array from a host array every process holds in full."""
  x = np.asarray(x)
  return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])


def distinct_initializations(
  task: Task, points: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
  """(rows, of): ``rows`` the first point of each distinct initialization (a seed and the
  task's own hyperparameters: points that differ only in optimizer, μ_max or ε start from
  the same parameters), and ``of[i]`` the index in ``rows`` of point i's."""
  axes = [k for k in task.hparam_axes if k in points]
  keys = [
    (int(points["seed"][i]), *(float(points[k][i]) for k in axes))
    for i in range(len(points["seed"]))
  ]
  first: dict[tuple, int] = {}
  for i, key in enumerate(keys):
    first.setdefault(key, i)
  index = {key: j for j, key in enumerate(first)}
  return np.array(list(first.values())), np.array([index[key] for key in keys])


def initial_program(task: Task):
  """The training error of each distinct initialization, vmapped: ``(hps, data) -> {metric:
  [n]}``. Every optimizer starts from the task's initial parameters and measures there (a
  velocity or an average starts at zero or at the parameters), so a point's error at update
  0 is its initialization's, and the grid's step 0 evaluates each initialization once (a
  30-point pilot of one seed evaluates one network instead of 30)."""

  def initial_point(hp, data):
    params = task.init(jax.random.fold_in(jax.random.key(hp["seed"]), 0), _task_hparams(task, hp))
    return task.evaluate(params, data)

  return jax.vmap(initial_point, in_axes=(0, None))


class Programs(NamedTuple):
  """A grid's compiled programs and inputs, sharded over ``mesh``.

  ``init(hps)``, ``evaluate(states, data)`` and, per phase, ``chunks[i] = (first update, end,
  train_chunk(states, hps, data, start))``; ``hps`` the groups' hyperparameter arrays (each
  padded to ``slots[i]`` rows); ``evaluate_initial(initial_hps, data)`` the errors of the
  distinct initializations, ``initial_of`` each point's among them.
  """

  groups: list[grid.Group]
  slots: tuple[int, ...]
  hps: tuple[dict, ...]
  init: Any
  evaluate: Any
  chunks: list[tuple[int, int, Any]]
  by_point: NamedSharding
  replicated: NamedSharding
  evaluate_initial: Any
  initial_hps: dict
  initial_of: np.ndarray

  def initial_errors(self, data, host) -> dict[str, np.ndarray]:
    """Every point's errors at update 0, in the grid's order; ``host`` as in :meth:`gather`."""
    errors = self.evaluate_initial(self.initial_hps, data)
    return {k: np.asarray(host(v))[self.initial_of] for k, v in errors.items()}

  def chunk_at(self, update: int):
    return next(fn for start, end, fn in self.chunks if start <= update < end)

  def gather(self, per_group, host) -> np.ndarray:
    """Per-group values ([slots, ...] each) as one array in the grid's order (padding dropped);
    ``host`` brings a global array to this host."""
    num = sum(len(g.rows) for g in self.groups)
    parts = [np.asarray(host(v))[: len(g.rows)] for g, v in zip(self.groups, per_group)]
    out = np.empty((num,) + parts[0].shape[1:], parts[0].dtype)
    for g, part in zip(self.groups, parts):
      out[g.rows] = part
    return out


def build(
  task: Task,
  config,
  points: dict[str, np.ndarray],
  mesh: Mesh | None = None,
  slots: tuple[int, ...] | None = None,
  jit: bool = True,
) -> Programs:
  """The compiled programs of a grid's ``points`` (``grid.points``) on ``mesh`` (default: the
  devices ``grid_mesh`` picks); ``slots``: each group's padded size (default: the next
  multiple of the mesh size), as a checkpoint recorded it."""
  groups = grid.groups(points)
  families = [g.family for g in groups]
  mesh = mesh or grid_mesh(max(len(g.rows) for g in groups))
  slots = tuple(slots or (-(-len(g.rows) // mesh.size) * mesh.size for g in groups))
  by_point, replicated = NamedSharding(mesh, P("grid")), NamedSharding(mesh, P())
  hps = tuple(
    {k: to_global(v, by_point) for k, v in grid.arrays(points, g, s).items()}
    for g, s in zip(groups, slots)
  )
  init, _, evaluate = make_programs(task, config, families)
  chunks = [
    (start, end, make_programs(task, config, families, i)[1])
    for i, (start, end, _) in enumerate(grid.phases(config, families))
  ]
  rows, initial_of = distinct_initializations(task, points)
  padded = np.concatenate([rows, np.repeat(rows[:1], -len(rows) % mesh.size)])
  initial_hps = {
    k: to_global(points[k][padded], by_point) for k in ("seed", *task.hparam_axes) if k in points
  }
  evaluate_initial = initial_program(task)
  if jit:
    init = jax.jit(init, out_shardings=by_point)
    evaluate = jax.jit(evaluate, out_shardings=by_point)
    evaluate_initial = jax.jit(evaluate_initial, out_shardings=by_point)
    chunks = [
      (start, end, jax.jit(fn, donate_argnums=0, out_shardings=(by_point, by_point)))
      for start, end, fn in chunks
    ]
  return Programs(
    groups,
    slots,
    hps,
    init,
    evaluate,
    chunks,
    by_point,
    replicated,
    evaluate_initial,
    initial_hps,
    initial_of,
  )
