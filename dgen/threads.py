"""How many CPU threads a run uses, and sharing the cores between runs started by hand.

torch's default is one intra-op thread per core. Two such runs on one machine each start that many
threads, and each of their parallel regions then waits for threads the other has descheduled; on a
2-core machine two default GenSeg runs each ran ~30x slower than one alone. So:

* ``dgen run --threads N`` uses exactly N threads (intra-op and inter-op pools, set before any work);
  ``dgen bench`` gives each run its share, ``cores // jobs`` (local) or the CPUs its Ray task requested.
* Without ``--threads`` a run takes its **fair share**: it registers itself in a per-user runtime
  folder (``$XDG_RUNTIME_DIR/dgen/runs``, else ``<tmp>/dgen-<uid>/runs``; one small file per run,
  removed at exit, a dead run's file ignored), and sizes its intra-op pool to the cores left by the
  runs with a fixed ``--threads``, divided among the runs without one. It re-checks between
  iterations (at most every few seconds), so when a second run starts both shrink, and when it ends
  the other grows back. ``OMP_NUM_THREADS`` (when set) caps the share.

The cores are those this process may run on (``os.sched_getaffinity``), so a run restricted with
``taskset`` or a container's cpuset shares only those.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dgen.errors import ConfigError

__all__ = [
    "THREADS_ENV_CAP", "RunEntry", "available_cores", "runtime_dir", "set_threads", "fair_share", "share_of", "env_cap", "ThreadShare",
    "check_threads",
]

#: an environment variable that caps the default share when set.
THREADS_ENV_CAP = "OMP_NUM_THREADS"
_RECHECK_SECONDS = 2.0


def available_cores() -> int:
    """The number of cores this process may run on (its affinity mask; ``os.cpu_count()`` where there is none)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def check_threads(threads: int | None) -> int | None:
    """``threads`` if it is None or a whole number >= 1, else ``ConfigError`` with the fix."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"threads={threads!r} is invalid; give a whole number >= 1, e.g. --threads 2 "
                          f"(this process may use {available_cores()} cores).")
    return threads


def share_of(cores: int, jobs: int) -> int:
    """The threads of each of ``jobs`` runs at a time on ``cores`` cores: ``max(1, cores // jobs)``."""
    return max(1, cores // max(1, jobs))


def runtime_dir() -> Path:
    """The per-user folder where runs register themselves (created on first use, mode 0700)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    root = Path(base) / "dgen" if base else Path(tempfile.gettempdir()) / f"dgen-{os.getuid() if hasattr(os, 'getuid') else 0}"
    path = root / "runs"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def set_threads(threads: int) -> None:
    """Set torch's intra-op pool to ``threads``, and its inter-op pool too while that is still possible
    (torch allows it once, before any inter-op work)."""
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # already set, or inter-op work already ran in this process: intra-op is what matters
        pass


@dataclass(frozen=True)
class RunEntry:
    pid: int
    fixed: int | None  # threads given with --threads, or None (takes a share)
    cores: frozenset[int]


def fair_share(cores: frozenset[int], peers: Iterable[RunEntry], cap: int | None = None) -> int:
    """The threads of a run without ``--threads`` on ``cores``, beside ``peers`` (itself included).

    The cores the peers with a fixed count take (only those sharing our cores count) are removed; the
    rest is divided among the peers without one. At least 1; at most ``cap`` when given.
    """
    sharing = [p for p in peers if p.cores & cores]
    taken = sum(p.fixed for p in sharing if p.fixed is not None)
    flexible = max(1, sum(p.fixed is None for p in sharing))
    share = max(1, (len(cores) - taken) // flexible)
    return min(share, cap) if cap else share


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's (cannot happen in a per-user folder, but harmless)
        return True
    return True


def env_cap() -> int | None:
    """The thread count ``OMP_NUM_THREADS`` gives, or None when it is unset or not a whole number >= 1."""
    value = os.environ.get(THREADS_ENV_CAP, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


class ThreadShare:
    """This run's entry in the runtime folder and its thread count.

    ``threads`` None: a fair share (:func:`fair_share`), re-checked by :meth:`refresh`; else exactly
    ``threads``. Use as a context manager: on enter it registers and sets torch's pools, on exit it
    unregisters and restores the intra-op pool it found.
    """

    def __init__(self, threads: int | None = None, *, folder: Path | None = None, pid: int | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.fixed = check_threads(threads)
        self.folder = folder
        self.pid = os.getpid() if pid is None else pid
        self.cores = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset(
            range(available_cores()))
        self._monotonic = monotonic
        self._checked = -float("inf")
        self.threads = 0
        self._before = 0

    @property
    def _file(self) -> Path:
        assert self.folder is not None
        return self.folder / f"{self.pid}.json"

    def __enter__(self) -> ThreadShare:
        try:
            self.folder = self.folder or runtime_dir()
            self._file.write_text(json.dumps({"pid": self.pid, "threads": self.fixed, "cores": sorted(self.cores)}))
        except OSError:  # no writable runtime folder: share nothing, still use the right count
            self.folder = None
        import torch

        self._before = torch.get_num_threads()
        self.threads = self.fixed or self.compute()
        set_threads(self.threads)
        self._checked = self._monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        """Unregister, and give the process its former intra-op pool back (for callers that go on)."""
        if self.folder is not None:
            self._file.unlink(missing_ok=True)
        import torch

        torch.set_num_threads(self._before)

    def peers(self) -> list[RunEntry]:
        """The live registered runs (this one included); files of dead runs are removed."""
        if self.folder is None:
            return [RunEntry(self.pid, self.fixed, self.cores)]
        found = []
        for path in self.folder.glob("*.json"):
            try:
                entry = json.loads(path.read_text())
                peer = RunEntry(int(entry["pid"]), entry.get("threads"), frozenset(entry.get("cores", ())))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # being written, or not ours
            if peer.pid == self.pid or _alive(peer.pid):
                found.append(peer)
            else:
                path.unlink(missing_ok=True)
        if not any(p.pid == self.pid for p in found):
            found.append(RunEntry(self.pid, self.fixed, self.cores))
        return found

    def compute(self) -> int:
        """The threads this run should use now."""
        return self.fixed or fair_share(self.cores, self.peers(), env_cap())

    def refresh(self) -> int:
        """Between iterations: re-size the intra-op pool when the share changed (checked every few seconds)."""
        if self.fixed is None and self._monotonic() - self._checked >= _RECHECK_SECONDS:
            self._checked = self._monotonic()
            share = self.compute()
            if share != self.threads:
                import torch

                torch.set_num_threads(share)
                self.threads = share
        return self.threads
