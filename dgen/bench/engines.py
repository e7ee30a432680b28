"""The engines that run a planned grid: ``local`` (processes on this machine) and ``ray`` (Ray tasks).

Both have the same semantics (finished runs skipped, unfinished ones resumed, a failed run reported
while the grid goes on, the same :class:`~dgen.bench.runner.BenchEvent` stream) and the same call
signature, :data:`Engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from dgen.errors import ConfigError, UnknownNameError
from dgen.threads import available_cores, check_threads, env_cap, share_of

from dgen.bench.plan import PlannedRun
from dgen.bench.runner import BenchEvent, CommandBuilder, GridReport, run_grid

__all__ = ["Engine", "ENGINES", "make_engine", "run_share"]

ENGINES = ("local", "ray")


class Engine(Protocol):
    """Runs planned runs at most ``jobs`` at a time and reports each through ``on_event``."""

    def __call__(
        self, runs: Sequence[PlannedRun], *, jobs: int = 1, command: CommandBuilder | None = None,
        on_event: Callable[[BenchEvent], None] | None = None, inherit_fds: Sequence[int] = (),
    ) -> GridReport: ...


def run_share(threads: int | None, jobs: int) -> int:
    """The CPU threads of each run: ``threads`` when given, else the cores of this process // ``jobs``
    (at most ``OMP_NUM_THREADS`` when that is set)."""
    share = share_of(available_cores(), jobs)
    return check_threads(threads) or min(share, env_cap() or share)


def make_engine(name: str, *, address: str | None = None, threads: int = 1, device: str = "auto") -> Engine:
    """The engine ``name`` (``local`` or ``ray``); a Ray task asks for ``threads`` CPUs and, with ``device``
    ``cuda`` (or ``auto`` on a cluster with GPUs), a GPU (:mod:`dgen.bench.resources`), on the cluster at
    ``address`` (None: a new local Ray instance)."""
    if name == "local":
        if address is not None:
            raise ConfigError(f"--address {address} is the address of a Ray cluster; add --engine ray, or drop it.")
        return run_grid
    if name == "ray":
        from dgen.bench.ray_engine import RayEngine

        return RayEngine(address=address, cpus=threads, device=device)
    raise UnknownNameError("engine", name, ENGINES)
