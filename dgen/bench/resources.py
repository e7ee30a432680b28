"""What each run's Ray task requests: CPUs (the run's threads) and GPUs (from ``--device``), a pure function.

CPUs: ``--threads`` when given, else the cores the driver may use (its affinity mask) // ``--jobs``, at
most ``OMP_NUM_THREADS`` when that is set, at least 1 (:func:`dgen.bench.engines.run_share`); the run gets
the same number as its ``dgen run --threads``. GPUs: ``--device cpu`` none; ``--device cuda`` one (or
``gpus_per_run``, a fraction to pack several runs on a GPU); ``--device auto`` one when the cluster has
GPUs, else none — a task that requests no GPU sees none (Ray hides them), so ``auto`` would otherwise
train on the CPU on a GPU node. No Ray here: the engine passes the cluster's GPU count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dgen.errors import ConfigError

__all__ = ["TaskResources", "task_resources"]


@dataclass(frozen=True)
class TaskResources:
    """``num_cpus`` and ``num_gpus`` of one run's Ray task (``ray.remote(...).options(**asdict(r))``)."""

    num_cpus: float
    num_gpus: float


def _check_gpus_per_run(gpus: float) -> None:
    if isinstance(gpus, bool) or not isinstance(gpus, (int, float)) or not math.isfinite(gpus) or gpus <= 0 or (
        gpus > 1 and gpus != int(gpus)
    ):
        raise ConfigError(f"gpus_per_run={gpus!r} is not a GPU request Ray takes; give a fraction in (0, 1] "
                          "(e.g. 0.5: two runs share a GPU) or a whole number, e.g. 1.")


def task_resources(device: str, cpus: float, cluster_gpus: float, *, gpus_per_run: float = 1.0) -> TaskResources:
    """The resources of one run's task.

    Args:
        device: the runs' ``--device``: ``auto``, ``cpu``, ``cuda`` or ``cuda:0``.
        cpus: the run's threads (see the module docstring).
        cluster_gpus: ``ray.cluster_resources().get("GPU", 0)``.
        gpus_per_run: the GPUs a run on CUDA requests (a fraction in (0, 1] or a whole number).

    Raises:
        ConfigError: ``cuda`` on a cluster without GPUs (its tasks would wait forever), ``cuda:N`` with
            N > 0 (a task sees only the GPUs Ray gives it, numbered from 0), or an impossible request.
    """
    _check_gpus_per_run(gpus_per_run)
    if device == "cpu":
        return TaskResources(cpus, 0.0)
    if device == "auto":
        return TaskResources(cpus, float(gpus_per_run) if cluster_gpus > 0 else 0.0)
    if device == "cuda" or device == "cuda:0":
        if cluster_gpus <= 0:
            raise ConfigError(f"--device {device} asks a GPU for every run, but the Ray cluster has none, so its "
                              "tasks would wait forever; use --device auto or cpu, or add GPU nodes to the cluster.")
        return TaskResources(cpus, float(gpus_per_run))
    if device.startswith("cuda:"):
        raise ConfigError(f"--device {device}: a Ray task sees only the GPU Ray gives it, as cuda:0; use --device cuda.")
    raise ConfigError(f"--device {device!r} is not a device of dgen run; use auto, cpu or cuda.")
