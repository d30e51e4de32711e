"""The ``nesterov-jax`` command: ``nesterov-jax run CONFIG.py[:preset] [--workdir DIR] [--config.FIELD=VALUE ...]``.

A config names its experiment (``config.experiment``); the experiment program lives in
the repository's ``experiments/`` folder (installed as ``nesterov_jax.experiments``) and
exposes ``run(config, workdir)``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pathlib
import sys

import ml_collections

from nesterov_jax.config import ConfigError, load_config

RUN_CONFIG = "config.json"


def default_workdir(spec: str) -> pathlib.Path:
  path, _, preset = spec.partition(":")
  return pathlib.Path("runs") / (pathlib.Path(path).stem + (f"_{preset}" if preset else ""))


def prepare_workdir(workdir: pathlib.Path, config: ml_collections.ConfigDict) -> None:
  """Creates ``workdir`` and records the config; refuses a workdir that holds another run."""
  resolved = json.loads(config.to_json_best_effort(sort_keys=True))
  saved = workdir / RUN_CONFIG
  if saved.exists():
    previous = json.loads(saved.read_text())
    if previous != resolved:
      changed = sorted(k for k in set(previous) | set(resolved) if previous.get(k) != resolved.get(k))
      raise ConfigError(
          f"workdir {workdir} holds a different run (fields that differ: {', '.join(changed)}); "
          "pass another --workdir or delete that one")
  workdir.mkdir(parents=True, exist_ok=True)
  saved.write_text(json.dumps(resolved, indent=2, sort_keys=True) + "\n")


def _experiment(config: ml_collections.ConfigDict):
  name = config.get("experiment")
  try:
    return importlib.import_module(f"nesterov_jax.experiments.{name}")
  except ModuleNotFoundError as e:
    raise ConfigError(f"unknown experiment {name!r} (no experiments/{name}.py)") from e


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="nesterov-jax", description=__doc__.splitlines()[0])
  commands = parser.add_subparsers(dest="command", required=True)
  run = commands.add_parser("run", help="run an experiment from a config file")
  run.add_argument("config", help="CONFIG.py or CONFIG.py:preset")
  run.add_argument("--workdir", type=pathlib.Path, help="run directory (default runs/<config>_<preset>)")
  args, extra = parser.parse_known_args(argv)

  overrides = []
  for arg in extra:
    if not arg.startswith("--config."):
      parser.error(f"unrecognized argument {arg!r} (overrides look like --config.FIELD=VALUE)")
    overrides.append(arg.removeprefix("--config."))
  try:
    config = load_config(args.config, overrides)
    experiment = _experiment(config)
    if hasattr(experiment, "validate"):
      experiment.validate(config)
    workdir = args.workdir or default_workdir(args.config)
    prepare_workdir(workdir, config)
  except ConfigError as e:
    print(f"nesterov-jax: error: {e}", file=sys.stderr)
    return 2
  experiment.run(config, workdir)
  return 0
