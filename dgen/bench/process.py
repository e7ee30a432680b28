"""Operating-system details of running a grid: child processes that die with ``dgen bench``, and
one ``dgen bench`` at a time per benchmark directory.

On Linux each run asks the kernel to send it SIGTERM when ``dgen bench`` dies, however it dies
(even SIGKILL), so a killed grid leaves no orphan run that a rerun would duplicate. On other
systems Ctrl-C still stops the runs (they share the terminal's process group); a hard kill of
``dgen bench`` alone leaves its current runs going until they finish.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dgen.errors import ConfigError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent benches are not detected
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "child_preexec", "bench_lock"]

#: the lock file ``dgen bench`` holds in its benchmark directory while it runs a grid.
LOCK_FILE = ".bench.lock"
_PR_SET_PDEATHSIG = 1


def child_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` that ties the child's life to this process (Linux),
    or None where the system has no such mechanism."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: nothing is loaded in the child
    parent = os.getpid()

    def tie_to_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return tie_to_parent


@contextmanager
def bench_lock(out: Path) -> Iterator[tuple[int, ...]]:
    """Hold ``out/.bench.lock`` for the duration; yields the file descriptors each run should inherit.

    The runs inherit the locked descriptor, so the lock lasts until ``dgen bench`` *and* every run
    it started have exited: a rerun is refused (``ConfigError``) while a run of a killed bench is
    still saving its checkpoint, and never works in a directory beside it.
    """
    out.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield ()
        return
    path = out / LOCK_FILE
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise ConfigError(
                f"{out} is in use by another dgen bench (pid {holder}) or by a run it started that is still "
                f"stopping; wait for them to exit, then rerun."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield (handle.fileno(),)  # released when the last process holding the descriptor exits
