"""Files a run writes, written atomically, and the lock that keeps one process per workdir.

Every file goes to a temporary name in its own folder, is flushed to disk, and is renamed
over the old one (``os.replace``, atomic on POSIX): a process killed at any moment leaves
either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pathlib
import tempfile
from typing import Any

LOCK_FILE = ".lock"


class WriteFailed(OSError):
  """A file the run could not write (a full disk, a read-only folder); the message names it."""


def write_failed(path, error: OSError) -> WriteFailed:
  cause = error.strerror or str(error) or type(error).__name__
  return WriteFailed(
    f"could not write {path}: {cause}; the files written before it are whole "
    "(free the space or fix the folder, then rerun the same command)"
  )


@contextlib.contextmanager
def _replacing(path: pathlib.Path, mode: str):
  """An open temporary file next to ``path`` that becomes ``path`` when the block ends."""
  path = pathlib.Path(path)
  try:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
  except OSError as e:
    raise write_failed(path, e) from None
  try:
    with os.fdopen(fd, mode) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException as e:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    if isinstance(e, OSError) and not isinstance(e, WriteFailed):
      raise write_failed(path, e) from None
    raise


def write_text(path: pathlib.Path, text: str) -> None:
  with _replacing(path, "w") as f:
    f.write(text)


def write_json(path: pathlib.Path, value: Any, indent: int | None = 1) -> None:
  write_text(path, json.dumps(value, indent=indent) + "\n")


class CorruptFile(ValueError):
  """A run's file that cannot be parsed; the message names it and where it breaks."""


def read_json(path: pathlib.Path) -> Any:
  """The JSON value in ``path``; a :class:`CorruptFile` naming the file when it does not parse."""
  path = pathlib.Path(path)
  try:
    return json.loads(path.read_text())
  except json.JSONDecodeError as e:
    raise CorruptFile(
      f"{path} is not valid JSON ({e.msg}: line {e.lineno}, column {e.colno}): "
      "a torn or edited file; restore it or rerun"
    ) from None


def read_json_lines(path: pathlib.Path) -> list[Any]:
  """One JSON value per non-empty line of ``path``; a :class:`CorruptFile` naming the file and
  the line when one does not parse."""
  out = []
  for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), start=1):
    if not line.strip():
      continue
    try:
      out.append(json.loads(line))
    except json.JSONDecodeError as e:
      raise CorruptFile(
        f"{path}, line {number}, is not valid JSON ({e.msg}): a torn or edited "
        "file; restore it or rerun"
      ) from None
  return out


def save_figure(fig, path: pathlib.Path, **kwargs) -> None:
  """``fig.savefig`` to ``path``, atomically (the format comes from the suffix)."""
  kwargs.setdefault("format", pathlib.Path(path).suffix.lstrip(".") or "png")
  with _replacing(path, "wb") as f:
    fig.savefig(f, **kwargs)


class WorkdirInUse(RuntimeError):
  """Another live process holds the workdir's lock."""


def lock_workdir(workdir: pathlib.Path):
  """Takes ``workdir``'s lock for the life of this process (or until the returned file is
  closed); raises :class:`WorkdirInUse` if another process holds it.

  An ``flock`` on ``workdir/.lock``: the kernel releases it when its holder exits, however
  it exits, so a killed run never leaves a stuck lock behind.
  """
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  handle = open(workdir / LOCK_FILE, "a+")
  try:
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    handle.seek(0)
    holder = handle.read().strip() or "another process"
    handle.close()
    raise WorkdirInUse(
      f"workdir {workdir} is in use by {holder}; wait for it to finish or pass another --workdir"
    ) from None
  handle.seek(0)
  handle.truncate()
  handle.write(f"process {os.getpid()}\n")
  handle.flush()
  return handle
