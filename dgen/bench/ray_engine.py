"""The ``ray`` engine: each run of a grid is a Ray task that runs its ``dgen run`` process on a node of the cluster.

The task asks Ray for the run's CPUs (``num_cpus``, which ``dgen run --threads`` also gets) and, for
``--device cuda`` (or ``auto`` on a cluster with GPUs), one GPU (:mod:`dgen.bench.resources`); Ray places it
on a node with those free. The run directory must be on
storage every node sees (NFS, a cluster file system, a bind-mounted bucket) at the same path: the task
writes ``bench.log``, ``config.json``, checkpoints, ``progress.json`` and ``metrics.json`` there, and
the driver reads them. So the semantics are those of the local engine: a finished run (``metrics.json``)
is skipped, an unfinished one resumed with ``--resume``, a failed one reported with its last error
line while the grid goes on; Ctrl-C cancels the tasks in flight (their processes get SIGTERM, and the
a pipeline that checkpoints on SIGTERM saves one), and a rerun resumes them.

Ray is an optional dependency: ``pip install 'dgen[ray]'``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dgen.errors import ConfigError

from dgen.bench.plan import PlannedRun
from dgen.bench.resources import TaskResources, task_resources
from dgen.bench.runner import (
    BenchEvent, CommandBuilder, DgenRunCommand, GridReport, RunOutcome, check_jobs, run_outcome, skip_finished,
    start_run,
)

__all__ = ["RayEngine", "import_ray", "execute_run"]


def import_ray() -> Any:
    """The ``ray`` module, or ``ConfigError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray, which is not installed; pip install 'dgen[ray]' "
                          "(or use --engine local).") from None
    return ray


def execute_run(run: PlannedRun, argv: Sequence[str]) -> RunOutcome:
    """Run ``argv`` for ``run`` and wait for it (the body of a Ray task; also callable directly)."""
    started = time.monotonic()
    try:
        process = start_run(run, argv)
    except OSError as exc:
        return RunOutcome(run, "failed", error=f"cannot start {argv[0]}: {exc}")
    try:
        code = process.wait()
    finally:  # the task was cancelled: stop the run as the local engine does (it checkpoints on SIGTERM)
        if process.poll() is None:
            process.terminate()
            process.wait()
    return run_outcome(run, code, time.monotonic() - started)


@dataclass(frozen=True)
class RayEngine:
    """Runs planned runs as Ray tasks (see the module docstring); the call signature of the local engine.

    Attributes:
        address: the Ray cluster to join (``ray://host:10001``, ``host:6379`` or ``auto``); None starts
            a local instance, or uses the one this process already joined (``ray.init`` before).
        cpus: CPUs each task requests (the run's threads).
        device: the runs' ``--device``; with ``gpus_per_run``, the GPUs each task requests
            (:func:`~dgen.bench.resources.task_resources`: ``cuda`` always, ``auto`` when the cluster has GPUs).
        gpus_per_run: GPUs a task on CUDA requests (a fraction in (0, 1] packs several runs on a GPU).
        poll_seconds: how long each wait for a finished task lasts.
    """

    address: str | None = None
    cpus: float = 1.0
    device: str = "auto"
    gpus_per_run: float = 1.0
    poll_seconds: float = 0.5

    def __call__(
        self, runs: Sequence[PlannedRun], *, jobs: int = 1, command: CommandBuilder | None = None,
        on_event: Callable[[BenchEvent], None] | None = None, inherit_fds: Sequence[int] = (),
    ) -> GridReport:
        """Run ``runs``, at most ``jobs`` tasks in flight (Ray queues them until a node has their resources).
        ``inherit_fds`` is ignored: the benchmark directory's lock stays with this process."""
        check_jobs(jobs)
        ray = import_ray()
        emit = on_event or (lambda event: None)
        outcomes: dict[int, RunOutcome] = {}
        pending = skip_finished(runs, outcomes, emit)
        if not pending:  # nothing to run: no cluster needed
            return GridReport(tuple(outcomes[i] for i in sorted(outcomes)))
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            resources = task_resources(self.device, self.cpus, ray.cluster_resources().get("GPU", 0.0),
                                       gpus_per_run=self.gpus_per_run)
            self._run(ray, resources, len(runs), pending, outcomes, jobs, command or DgenRunCommand(), emit)
        finally:
            if started_here:
                ray.shutdown()
        return GridReport(tuple(outcomes[i] for i in sorted(outcomes)))

    def _run(self, ray: Any, resources: TaskResources, total: int, pending: list[tuple[int, PlannedRun]],
             outcomes: dict[int, RunOutcome], jobs: int, build: CommandBuilder, emit: Callable[[BenchEvent], None]) -> None:
        """Submit ``pending`` (at most ``jobs`` in flight) and record each outcome as its task ends."""
        task = ray.remote(execute_run).options(num_cpus=resources.num_cpus, num_gpus=resources.num_gpus, max_retries=0)
        in_flight: dict[Any, tuple[int, PlannedRun]] = {}
        try:
            while pending or in_flight:
                while pending and len(in_flight) < jobs:
                    index, run = pending.pop()
                    argv = build(run)
                    in_flight[task.remote(run, argv)] = (index, run)
                    emit(BenchEvent("start", run, index, total, command=tuple(argv)))
                done, _ = ray.wait(list(in_flight), num_returns=1, timeout=self.poll_seconds)
                for ref in done:
                    index, run = in_flight.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except Exception as exc:  # the task itself died (node lost, worker killed): this run fails
                        outcome = RunOutcome(run, "failed", error=f"the Ray task failed: {type(exc).__name__}: "
                                                                  f"{' '.join(str(exc).split())[:300]}")
                    outcomes[index] = outcome
                    emit(BenchEvent("done" if outcome.status == "finished" else "fail", run, index, total,
                                    outcome=outcome))
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)
