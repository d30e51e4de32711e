"""A config field's checks, each failing with one line that names the field and says what it
must be. The lowest module of the engine's config: :mod:`nesterov_jax.engine.config` (which
re-exports these) and :mod:`nesterov_jax.engine.halving` build on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


class ConfigError(ValueError):
  """A config file, preset or override that cannot be used; the message says why."""


def _is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_number(
  field: str,
  value,
  *,
  integer: bool = False,
  low: float | None = None,
  high: float | None = None,
  low_open: bool = False,
  high_open: bool = False,
) -> None:
  """Raises a one-line :class:`ConfigError` naming ``field`` unless ``value`` is a finite
  number (an integer with ``integer``) in the range [``low``, ``high``] (ends open as asked)."""
  ok = _is_number(value) and math.isfinite(value) and (not integer or float(value).is_integer())
  ok = ok and (low is None or (value > low if low_open else value >= low))
  ok = ok and (high is None or (value < high if high_open else value <= high))
  if not ok:
    kind = "an integer" if integer else "a finite number"
    bounds = []
    show = lambda b: f"{int(b):,}" if integer else f"{b:g}"
    if low is not None:
      bounds.append(f"{'>' if low_open else '≥'} {show(low)}")
    if high is not None:
      bounds.append(f"{'<' if high_open else '≤'} {show(high)}")
    raise ConfigError(
      f"config field {field} = {value!r}: must be {kind}"
      + (f" {' and '.join(bounds)}" if bounds else "")
    )


def check_numbers(field: str, values, **bounds) -> None:
  """:func:`check_number` for each element of a tuple field (which must be a tuple or list)."""
  if not isinstance(values, (tuple, list)):
    raise ConfigError(f"config field {field} = {values!r}: must be a tuple of values")
  for v in values:
    check_number(field, v, **bounds)


def check_string(field: str, value, choices: Sequence[str] | None = None) -> None:
  if not isinstance(value, str) or (choices is not None and value not in choices):
    allowed = f"one of {', '.join(map(repr, choices))}" if choices is not None else "a string"
    raise ConfigError(f"config field {field} = {value!r}: must be {allowed}")
