"""The whole tree is formatted and linted as pyproject.toml's [tool.ruff] says.

Catches: a file left unformatted, an unused or undefined name, an import that is not at the
top of its file. The settings (two-space indents, 100 columns) are pyproject.toml's.
"""

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def _ruff(*args):
  exe = shutil.which("ruff")
  command = [exe] if exe else [sys.executable, "-m", "ruff"]
  return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize(
  "args", [("format", "--check", "."), ("check", ".")], ids=["format", "lint"]
)
def test_ruff_passes_over_the_whole_tree(args):
  r = _ruff(*args)
  assert r.returncode == 0, r.stdout + r.stderr
