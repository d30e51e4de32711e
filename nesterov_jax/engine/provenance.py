"""How a results file was made: command, commit, device, software versions, wall time.

Every table, plot set and results.json this project writes carries this record (house
rule: a result that cannot say how it was made is a defect).
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import platform
import shlex
import subprocess
import sys

import jax

_REPO = (
  pathlib.Path(__file__).resolve().parents[2]
)  # the repository (this file: nesterov_jax/engine/)


def _git(*args: str) -> str | None:
  try:
    out = subprocess.run(
      ["git", "-C", str(_REPO), *args], capture_output=True, text=True, timeout=10, check=True
    )
  except (OSError, subprocess.SubprocessError):
    return None
  return out.stdout.strip()


# What decides a result: a change here (not in results/ or the docs) makes a commit "+dirty".
_CODE = ("nesterov_jax", "experiments", "configs", "pyproject.toml")


def git_commit() -> str:
  """The commit of the code that ran, with ``+dirty`` when tracked code had changes."""
  commit = _git("rev-parse", "HEAD")
  if commit is None:
    return "unknown (not a git checkout)"
  return commit + (
    "+dirty" if _git("status", "--porcelain", "--untracked-files=no", "--", *_CODE) else ""
  )


# The code a run executes is what this process loaded, so its commit is read once, when the
# process starts (a run that ends after later commits still names the commit it ran).
_COMMIT_AT_START = git_commit()


def _cpu_model() -> str:
  try:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith("model name"):
        return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def device_description() -> str:
  devices = jax.devices()
  kind = devices[0].device_kind
  if devices[0].platform == "cpu":
    kind = f"CPU ({_cpu_model()}, {os.cpu_count()} cores)"
  hosts = f", {jax.process_count()} processes" if jax.process_count() > 1 else ""
  return f"{len(devices)} x {kind}{hosts}"


COMMAND_ENV = (
  "NESTEROV_JAX_COMMAND"  # the command a user typed, for a process started on its behalf
)


def _command_line() -> str:
  if os.environ.get(COMMAND_ENV):
    return os.environ[COMMAND_ENV]
  program = pathlib.Path(sys.argv[0]).name
  if program == "__main__.py":
    program = "python -m nesterov_jax"
  return " ".join([program, *(shlex.quote(a) for a in sys.argv[1:])])


def record(wall_time_s: float, command: str | None = None) -> dict:
  """The provenance record of a run that took ``wall_time_s`` seconds."""
  import optax

  try:
    import flax

    flax_version = flax.__version__
  except ImportError:  # flax is only the paper's models' dependency
    flax_version = None
  return {
    "command": command or _command_line(),
    "commit": _COMMIT_AT_START,
    "device": device_description(),
    "wall_time_s": round(wall_time_s, 2),
    "finished_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "versions": {
      "python": platform.python_version(),
      "jax": jax.__version__,
      "optax": optax.__version__,
      "flax": flax_version,
    },
  }


def markdown(prov: dict, written_from_run: bool = False) -> str:
  """The record as the lines that head every markdown results file.

  ``written_from_run``: the file is a report drawn from a finished run's records, so it
  also names the commit that wrote the report (it may be newer than the run's).
  """
  text = (
    f"Made by `{prov['command']}` at commit `{prov['commit']}` on {prov['device']}, "
    f"{prov['wall_time_s']:.1f} s wall time, {prov['finished_utc']} "
    f"(jax {prov['versions']['jax']}, optax {prov['versions']['optax']})."
  )
  if written_from_run:
    text += f" Report written from that run's records at commit `{git_commit()}`."
  if prov.get("warnings"):
    text += f" Warnings during the run: {'; '.join(prov['warnings'])}."
  return text + "\n"


def records_markdown(records: list[dict]) -> str:
  """The provenance lines of a report drawn from ``records``: one run's line, or, for records
  merged from several runs (``nesterov-jax merge``), each run's."""
  runs = list(
    {json.dumps(r["provenance"], sort_keys=True): r["provenance"] for r in records}.values()
  )
  if len(runs) == 1:
    return markdown(runs[0], written_from_run=True)
  lines = [
    f"Merged from {len(runs)} runs of one protocol (`nesterov-jax merge`); report written at "
    f"commit `{git_commit()}`:",
    "",
  ]
  lines += [f"- {markdown(prov).strip()}" for prov in runs]
  return "\n".join(lines) + "\n"
