"""Every docstring example in the package runs, and says what it prints."""

import doctest
import importlib
import pkgutil

import nesterov_jax

MODULES = sorted(
  m.name
  for m in pkgutil.walk_packages(nesterov_jax.__path__, "nesterov_jax.")
  if m.name != "nesterov_jax.__main__"
)


def test_every_docstring_example_runs_and_prints_what_it_says():
  attempted, failed = 0, []
  for name in MODULES:
    result = doctest.testmod(
      importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    attempted += result.attempted
    if result.failed:
      failed.append(name)
  assert not failed, f"doctest failures in {failed} (run python -m doctest on them)"
  assert attempted >= 5  # the examples exist: a suite that finds none is not a check
