"""Loading experiment configs: ``path/to/config.py[:preset]`` plus ``--config.FIELD=VALUE`` overrides.

A config file defines ``get_config(preset)`` returning an ``ml_collections.ConfigDict``
(big_vision's convention). Every problem with a spec or an override becomes a
:class:`ConfigError` whose message is one line a user can act on.
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib
from collections.abc import Sequence

import ml_collections


class ConfigError(ValueError):
  """A config file, preset or override that cannot be used; the message says why."""


def _load_module(path: pathlib.Path):
  spec = importlib.util.spec_from_file_location(f"_nesterov_jax_config_{path.stem}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def load_config(spec: str, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
  """``spec`` is ``file.py`` or ``file.py:preset``; overrides are ``FIELD=VALUE`` strings.

  Nested fields use dots (``optimizer.learning_rate=0.1``). Values are Python literals
  (``0.1``, ``(0.9, 0.99)``, ``'nag'``) or, for string fields, bare words. The returned
  config is locked: a typo in a field name raises instead of adding a field.
  """
  path_str, _, preset = spec.partition(":")
  path = pathlib.Path(path_str)
  if not path.is_file():
    raise ConfigError(f"config file not found: {path}")
  module = _load_module(path)
  if not hasattr(module, "get_config"):
    raise ConfigError(f"{path} defines no get_config(preset) function")
  try:
    config = module.get_config(preset) if preset else module.get_config()
  except (KeyError, ValueError) as e:
    raise ConfigError(f"{path}: preset {preset!r} not available ({e})") from e
  config.lock()
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
    if name not in node:
      where = ".".join(parents[:i]) or "the config"
      raise ConfigError(f"unknown config field {field!r}: {where} has no field {name!r}")
    if i < len(parents):
      node = node[name]
  try:
    value = ast.literal_eval(raw)
  except (ValueError, SyntaxError):
    value = raw  # a bare word: a string field's value
  current = node[leaf]
  if isinstance(current, (list, tuple)) and not isinstance(value, (list, tuple)):
    value = (value,)
  if isinstance(current, tuple) and isinstance(value, list):
    value = tuple(value)
  try:
    node[leaf] = value
  except TypeError as e:
    raise ConfigError(f"config field {field!r}: cannot set {raw!r} ({e})") from e
