"""Stopping a run cleanly on SIGTERM or Ctrl-C, and ending it soon when a host is lost.

Cloud schedulers and Slurm preempt a job with SIGTERM and kill it some seconds later. A run
that gets SIGTERM or SIGINT (Ctrl-C) finishes the chunk in flight, saves a checkpoint at
that update, and raises :class:`Stopped`; the command exits with :data:`STOPPED_STATUS`,
and rerunning it resumes from that update, bitwise as if it had never stopped (on CPUs). A
second Ctrl-C ends the run at once (:data:`INTERRUPTED_STATUS`), even mid-chunk; the last
checkpoint stays usable.

On several processes every one must stop at the same update: each program call is a
collective. At each chunk boundary the processes share whether any of them got a signal
(one small all-gather), so all stop at the first boundary after the first signal. This is
what JAX's preemption sync point does for SIGTERM (``multihost_utils.
reached_preemption_sync_point``); ours covers Ctrl-C as well and needs no coordination
service on a single process.
"""

from __future__ import annotations

import signal
import threading
import time

import jax
import numpy as np

STOPPED_STATUS = 75  # EX_TEMPFAIL: stopped cleanly, try again (rerun resumes)
INTERRUPTED_STATUS = 130  # 128 + SIGINT: a second Ctrl-C ended the run at once
_SIGNALS = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}


class Stopped(Exception):
  """A run that stopped on a signal, after saving a checkpoint at ``step``."""

  def __init__(self, step: int, signal_name: str):
    super().__init__(
      f"stopped by {signal_name} at update {step:,}, its checkpoint saved; "
      "rerun the same command to resume from there"
    )
    self.step, self.signal_name = step, signal_name


class StopRequests:
  """While active (a context manager), SIGTERM and SIGINT set a flag instead of ending the
  process; a second SIGINT raises KeyboardInterrupt at once. Outside the main thread (where
  Python cannot take signals) it does nothing."""

  def __init__(self):
    self.received: int | None = None
    self._previous: dict[int, object] = {}

  def _handle(self, signum, frame):
    if self.received is not None and signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.received = self.received or signum

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for signum in _SIGNALS:
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    return False

  def agreed(self, process_count: int = 1) -> str | None:
    """The signal any process got (its name), or None: the same answer on every process."""
    local = np.int32(self.received or 0)
    if process_count > 1:
      from jax.experimental import multihost_utils

      local = np.max(multihost_utils.process_allgather(local))
    return _SIGNALS.get(int(local)) if local else None


def wait_for(tree, poll_s: float = 0.02) -> None:
  """Waits until every array of ``tree`` is computed, in Python. Python runs a signal's handler
  only between its own instructions, so a run blocked inside XLA for a whole chunk would take
  a Ctrl-C only when the chunk ends; polling here takes it within ``poll_s``."""
  pending = [x for x in jax.tree.leaves(tree) if hasattr(x, "is_ready")]
  while not all(x.is_ready() for x in pending):
    time.sleep(poll_s)
