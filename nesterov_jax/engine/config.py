"""Loading experiment configs: ``path/to/config.py[:preset]`` plus ``--config.FIELD=VALUE`` overrides.

A config file defines ``get_config(preset)`` returning an ``ml_collections.ConfigDict``
(big_vision's convention). Every problem with a spec or an override becomes a
:class:`ConfigError` whose message is one line a user can act on.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import pathlib
import sys
import traceback
from collections.abc import Sequence

import ml_collections

from nesterov_jax.engine import files, halving, search

# The one-line errors and field checks live in engine/checks.py (halving, below this module,
# uses them too); they are re-exported here, where every other module imports them from.
from nesterov_jax.engine.checks import ConfigError, check_number, check_numbers, check_string  # noqa: F401


def _load_module(path: pathlib.Path):
  spec = importlib.util.spec_from_file_location(f"_nesterov_jax_config_{path.stem}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _where(path: pathlib.Path, e: Exception) -> str:
  """``file:line: Error: message`` for an exception raised by a config file's code."""
  line = getattr(e, "lineno", None) if isinstance(e, SyntaxError) else None
  if line is None:
    frames = [
      f
      for f in traceback.extract_tb(e.__traceback__)
      if pathlib.Path(f.filename).resolve() == path.resolve()
    ]
    line = frames[-1].lineno if frames else None
  message = e.msg if isinstance(e, SyntaxError) else str(e)
  return f"{path}{f':{line}' if line else ''}: {type(e).__name__}: {message}"


def load_config(spec: str, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
  """``spec`` is ``file.py`` or ``file.py:preset``; overrides are ``FIELD=VALUE`` strings.

  Nested fields use dots (``optimizer.learning_rate=0.1``). Values are Python literals
  (``0.1``, ``(0.9, 0.99)``, ``'adam'``) or, for string fields, bare words. The returned
  config is locked: a typo in a field name raises instead of adding a field.
  """
  path_str, _, preset = spec.partition(":")
  path = pathlib.Path(path_str)
  if not path.is_file():
    raise ConfigError(f"config file not found: {path}")
  try:
    module = _load_module(path)
  except Exception as e:  # noqa: BLE001 -- a config file is user code: any error is theirs
    raise ConfigError(_where(path, e)) from e
  if not hasattr(module, "get_config"):
    raise ConfigError(f"{path} defines no get_config(preset) function")
  try:
    config = module.get_config(preset) if preset else module.get_config()
  except ConfigError:
    raise
  except (KeyError, ValueError) as e:
    raise ConfigError(f"{path}: preset {preset!r} not available ({e})") from e
  except Exception as e:  # noqa: BLE001
    raise ConfigError(_where(path, e)) from e
  search_next_to(path.parent)
  config.lock()
  if isinstance(config.get("optimizer_args"), ml_collections.ConfigDict):
    config.optimizer_args.unlock()  # optimizer name → its fixed arguments: free-form
  for override in overrides:
    _apply_override(config, override)
  return config


def _apply_override(config: ml_collections.ConfigDict, override: str) -> None:
  field, sep, raw = override.partition("=")
  if not sep:
    raise ConfigError(f"override {override!r} is not of the form FIELD=VALUE")
  *parents, leaf = field.split(".")
  node = config
  for i, name in enumerate(parents + [leaf]):
    if name not in node and not node.is_locked and i < len(parents):  # a free-form section
      node[name] = ml_collections.ConfigDict()  # (optimizer_args)
    if name not in node and (node.is_locked or i < len(parents)):
      where = ".".join(parents[:i]) or "the config"
      raise ConfigError(f"unknown config field {field!r}: {where} has no field {name!r}")
    if i < len(parents):
      node = node[name]
  try:
    value = ast.literal_eval(raw)
  except (ValueError, SyntaxError):
    value = raw  # a bare word: a string field's value
  current = node.get(leaf)
  if isinstance(current, (list, tuple)) and not isinstance(value, (list, tuple)):
    value = (value,)
  if isinstance(current, tuple) and isinstance(value, list):
    value = tuple(value)
  try:
    node[leaf] = value
  except TypeError as e:
    raise ConfigError(f"config field {field!r}: cannot set {raw!r} ({e})") from e


# The grid's own fields; any other field of config.grid is an axis of the task's
# hyperparameters (an init scale) or of an optimizer's arguments (Adam's b1).
GRID_FIELDS = ("optimizers", "mu_max", "learning_rates", "seeds", "points", "search")


def grid_axes(grid: ml_collections.ConfigDict) -> list[str]:
  """The grid's axes beyond the core ones: task hyperparameters and swept optimizer arguments."""
  return sorted(k for k in grid.keys() if k not in GRID_FIELDS)


def sweep_config(
  task: str,
  num_updates: int,
  *,
  chunk_size: int | None = None,
  eval_every: int = 0,
  checkpoint_every: int = 0,
) -> ml_collections.ConfigDict:
  """The schema of a sweep config, every field at its default, for ``task``.

  ``task``: a registered task or ``"MODULE:FUNCTION"``; its own fields go under
  ``config.task``. ``chunk_size`` defaults to the largest of 1000, 500, 100, 50, 10, 1 that
  divides ``num_updates``, ``eval_every`` and ``checkpoint_every``. Optimizer families add
  their own sections (a momentum schedule, phases), starting from this one.
  """
  config = ml_collections.ConfigDict()
  config.experiment = "sweep"  # the program that runs it: experiments/sweep.py
  config.num_updates = num_updates
  # Updates per compiled lax.scan call; the host logs, evaluates and checkpoints between chunks.
  config.chunk_size = chunk_size or next(
    c
    for c in (1000, 500, 100, 50, 10, 1)
    if not (num_updates % c or eval_every % c or checkpoint_every % c)
  )
  config.eval_every = (
    eval_every  # errors every this many updates (0: at the end only), a multiple of chunk_size
  )
  config.checkpoint_every = (
    checkpoint_every  # orbax checkpoint every this many updates (0: at the end only)
  )
  config.precision = "highest"  # matmul precision: default | high | highest (full fp32)
  # Live TensorBoard summaries in WORKDIR/tensorboard, one run per point, with the HParams
  # dashboard's data (needs the [tensorboard] extra): see engine/tensorboard.py.
  config.tensorboard = False
  # How each setting's ε is chosen: the lowest final_train_error, or final_train_loss (the
  # training objective over the last 1000 updates, for pilots too short to move the error).
  config.selection = "final_train_error"
  config.task = ml_collections.ConfigDict()
  config.task.name = task
  config.grid = ml_collections.ConfigDict()
  # The grid is the product optimizers × mu_max × learning_rates × seeds × any other axis.
  # Optimizers: a registered family (see engine/optimizers.py), an optax alias by name ("adam",
  # "contrib.schedule_free_sgd", ...: ε is its learning rate, μ_max its momentum argument if
  # it has one, else it runs once per ε at μ_max 0), or "MODULE:FUNCTION", your factory
  # (hparams) -> optax.GradientTransformation.
  config.grid.optimizers = ("sgd",)
  config.grid.mu_max = (0.0,)
  config.grid.learning_rates = (0.01,)
  config.grid.seeds = (0,)
  # (optimizer, μ_max, ε) triples that replace optimizers × mu_max × learning_rates, so each
  # setting runs at its own ε (seeds and the other axes still multiply); () = the product.
  config.grid.points = ()
  # Fixed (not swept) arguments per optimizer, recorded with every result, e.g.
  # optimizer_args.adam = dict(b2=0.999); --config.optimizer_args.adam.b2=0.99 works too.
  config.optimizer_args = ml_collections.ConfigDict()
  # Quasi-random search, off: (μ_max, ε) drawn from ranges instead of mu_max × learning_rates
  # (each pair with every optimizer and seed): see engine/search.py.
  search.add_section(config)
  halving.add_section(config)  # successive halving, off: see engine/halving.py
  return config


SOURCE = "source.json"  # in a run directory: the config file that made the run, and its folder


_CONFIG_FOLDERS: list[str] = []  # the folders of the configs loaded, the latest first


def search_next_to(config_folder: pathlib.Path) -> None:
  """Lets ``MODULE:FUNCTION`` fields (a user's task or optimizer) name modules that sit next
  to the config file: they are looked for there first (the latest config's folder before
  earlier ones'), then on ``sys.path``, to whose end the folder is added (so the user's
  modules can import each other; it never shadows an installed package)."""
  folder = str(pathlib.Path(config_folder).resolve())
  if folder in _CONFIG_FOLDERS:
    _CONFIG_FOLDERS.remove(folder)
  _CONFIG_FOLDERS.insert(0, folder)
  if folder not in sys.path:
    sys.path.append(folder)


def _import_user_module(name: str):
  """Module ``name``: ``NAME.py`` next to the latest config that has one, else from sys.path."""
  if "." not in name:
    for folder in _CONFIG_FOLDERS:
      path = pathlib.Path(folder) / f"{name}.py"
      if path.is_file():
        loaded = sys.modules.get(name)
        if (
          loaded is not None
          and pathlib.Path(getattr(loaded, "__file__", "") or "").resolve() == path.resolve()
        ):
          return loaded
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
  return importlib.import_module(name)


def write_source(workdir: pathlib.Path, spec: str) -> None:
  """Records in ``workdir`` the config file a run came from, so that a later ``report`` finds
  the user modules next to it as the run did (see :func:`search_from_run`)."""
  folder = pathlib.Path(spec.partition(":")[0]).resolve().parent
  files.write_json(
    pathlib.Path(workdir) / SOURCE,
    {
      "config": spec,
      "folder": str(folder),
      # the same folder seen from the run directory: still right when both move together (a
      # run committed beside its config and cloned elsewhere)
      "folder_from_run": os.path.relpath(folder, pathlib.Path(workdir).resolve()),
    },
  )


def search_from_run(workdir: pathlib.Path) -> None:
  """:func:`search_next_to` for the config file that made the run in ``workdir``: its folder
  as seen from the run directory when that exists, else as it was when the run was made."""
  source = pathlib.Path(workdir) / SOURCE
  if source.exists():
    recorded = json.loads(source.read_text())
    relative = pathlib.Path(workdir) / recorded.get("folder_from_run", recorded["folder"])
    search_next_to(relative if relative.is_dir() else recorded["folder"])


def load_object(field: str, spec: str):
  """The object ``FUNCTION`` of ``"MODULE:FUNCTION"`` (a dotted module on ``sys.path``), for
  config fields that name user code; one-line ConfigError naming ``field`` when it is not there."""
  module_name, _, attribute = spec.partition(":")
  if not module_name or not attribute:
    raise ConfigError(f"config field {field} = {spec!r}: MODULE:FUNCTION needs both parts")
  try:
    module = _import_user_module(module_name)
  except ModuleNotFoundError as e:
    if e.name and module_name.startswith(e.name):
      raise ConfigError(
        f"config field {field} = {spec!r}: no module {module_name!r} next to the "
        "config file or on sys.path"
      ) from e
    raise
  try:
    target = module
    for name in attribute.split("."):
      target = getattr(target, name)
  except AttributeError as e:
    raise ConfigError(
      f"config field {field} = {spec!r}: module {module_name!r} "
      f"({getattr(module, '__file__', '?')}) has no {attribute!r}"
    ) from e
  if not callable(target):
    raise ConfigError(f"config field {field} = {spec!r}: {attribute!r} is not callable")
  return target
