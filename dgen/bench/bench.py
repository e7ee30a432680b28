"""Running a whole grid in a benchmark directory: plan it, hold the directory's lock, run it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dgen.bench.commands import record_command
from dgen.bench.pipelines import pipeline_config_class
from dgen.bench.plan import plan_grid
from dgen.bench.process import bench_lock
from dgen.bench.engines import Engine
from dgen.bench.runner import BenchEvent, CommandBuilder, GridReport, run_grid
from dgen.bench.spec import GridSpec

__all__ = ["run_bench"]


def run_bench(
    spec: GridSpec,
    out: Path,
    *,
    jobs: int = 1,
    command: CommandBuilder | None = None,
    on_event: Callable[[BenchEvent], None] | None = None,
    config_class: type | None = None,
    record: str | None = None,
    engine: Engine | None = None,
) -> GridReport:
    """Run every run of ``spec`` under ``out/runs`` that has not finished; see :func:`run_grid`.

    ``config_class`` checks the options of every run before anything starts (default: the
    registered pipeline's config dataclass). A second ``run_bench`` on the same ``out`` raises
    ``ConfigError`` while this one or any of its runs is still running. ``record``: the command line to
    append to ``out/commands.txt`` once the grid is checked (the report lists it). ``engine`` runs
    the planned runs (default :func:`~dgen.bench.runner.run_grid`, processes on this machine;
    :class:`~dgen.bench.ray_engine.RayEngine` for Ray tasks).
    """
    config_class = config_class or pipeline_config_class(spec.pipeline)
    out = Path(out)
    with bench_lock(out) as lock_fds:
        runs = plan_grid(spec, out, config_class)
        if record is not None:
            record_command(out, record)
        return (engine or run_grid)(runs, jobs=jobs, command=command, on_event=on_event, inherit_fds=lock_fds)
