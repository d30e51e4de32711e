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


@contextlib.contextmanager
def _replacing(path: pathlib.Path, mode: str):
  """An open temporary file next to ``path`` that becomes ``path`` when the block ends."""
  path = pathlib.Path(path)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
  try:
    with os.fdopen(fd, mode) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    raise


def write_text(path: pathlib.Path, text: str) -> None:
  with _replacing(path, "w") as f:
    f.write(text)


def write_json(path: pathlib.Path, value: Any, indent: int | None = 1) -> None:
  write_text(path, json.dumps(value, indent=indent) + "\n")


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
    raise WorkdirInUse(f"workdir {workdir} is in use by {holder}; wait for it to finish or pass another --workdir") from None
  handle.seek(0)
  handle.truncate()
  handle.write(f"process {os.getpid()}\n")
  handle.flush()
  return handle
