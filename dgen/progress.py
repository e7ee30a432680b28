"""``progress.json``: how far a run is, rewritten by the run as it goes, read by ``dgen bench``'s live view.

Both engines show it: a run writes it into its run directory wherever it runs (a local process or
a Ray task on another node, the run directory being on storage every node sees). It holds the
iterations done and the total, when this process started and at which iteration (so that a
resumed run's rate counts only its own iterations), when it was last written, the host, the pid
and the run's thread count. No torch here: the live view and the tests' fake runs import it.

It is written like every file of a run (:func:`dgen.atomic.atomic_write_text`): a kill leaves at most a
``.progress.json.XXXXXXXX.tmp``, removed when the run is resumed; :func:`remove_stale_progress` also removes
the ``.progress.json.<pid>.tmp`` that earlier versions left behind when killed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dgen.atomic import atomic_write_text
from dgen.rundir import PROGRESS_FILE

if TYPE_CHECKING:
    from dgen.threads import ThreadShare

__all__ = ["Progress", "write_progress", "read_progress", "remove_stale_progress", "Heartbeat"]

_PID_TEMPORARY = re.compile(rf"^\.{re.escape(PROGRESS_FILE)}\.(\d+)\.tmp$")  # earlier versions' temporary


@dataclass(frozen=True)
class Progress:
    """A run's progress: ``iteration`` of ``total`` done; this process began at ``start_iteration`` at
    time ``started`` (seconds since the epoch) and wrote this at ``updated``."""

    iteration: int
    total: int
    started: float
    start_iteration: int
    updated: float
    host: str = ""
    pid: int = 0
    threads: int | None = None

    def seconds_per_iteration(self) -> float | None:
        """The mean seconds per iteration of this process so far (None before its first iteration)."""
        done = self.iteration - self.start_iteration
        return (self.updated - self.started) / done if done > 0 else None

    def eta_seconds(self) -> float | None:
        """Seconds left at the current rate (None before the first iteration)."""
        rate = self.seconds_per_iteration()
        return None if rate is None else rate * max(0, self.total - self.iteration)


def write_progress(run_dir: Path, progress: Progress) -> None:
    """Write ``run_dir/progress.json`` atomically (a reader never sees half a file; no temporary is left)."""
    atomic_write_text(Path(run_dir) / PROGRESS_FILE, json.dumps(asdict(progress)))


def read_progress(run_dir: Path) -> Progress | None:
    """The progress of ``run_dir``, or None when it has none (or it cannot be read)."""
    try:
        data = json.loads((Path(run_dir) / PROGRESS_FILE).read_text())
        return Progress(**data)
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_progress(run_dir: Path) -> list[Path]:
    """Remove the ``.progress.json.<pid>.tmp`` of processes no longer alive from ``run_dir`` (earlier versions
    of dgen wrote ``progress.json`` through such a file, which a kill -9 left behind); return those removed."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    stale = [p for p in run_dir.iterdir() if (found := _PID_TEMPORARY.match(p.name)) and not _alive(int(found[1]))]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


class Heartbeat:
    """Called by a pipeline after each iteration as ``heartbeat(done, total)``: lets the run's thread share
    re-size its pool (:meth:`dgen.threads.ThreadShare.refresh`) and writes ``progress.json`` (at most
    every ``every`` seconds, and at the last iteration). The rate counts from the first call."""

    def __init__(self, run_dir: Path, *, share: ThreadShare | None = None, every: float = 1.0) -> None:
        self.run_dir, self.share, self.every = Path(run_dir), share, every
        self._started: tuple[float, int] | None = None
        self._written = -float("inf")

    def __call__(self, done: int, total: int) -> None:
        threads = self.share.refresh() if self.share is not None else None
        now = time.time()
        if self._started is None:
            self._started = (now, done)
        if now - self._written >= self.every or done >= total:
            self._written = now
            started, start_iteration = self._started
            write_progress(self.run_dir, Progress(done, total, started, start_iteration, now, socket.gethostname(),
                                                  os.getpid(), threads))
