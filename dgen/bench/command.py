"""``dgen bench`` on the command line: parse the options, run the grid on an engine, show it, aggregate."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from dgen.config import parse_assignments
from dgen.errors import ConfigError

from dgen.bench.aggregate import AggregateOptions, aggregate, runs_records
from dgen.bench.commands import command_line
from dgen.bench.compare import compare_options
from dgen.bench.bench import run_bench
from dgen.bench.engines import make_engine, run_share
from dgen.bench.live import grid_view
from dgen.bench.runner import DgenRunCommand, describe_report
from dgen.bench.spec import grid_spec, read_grid_file

__all__ = ["add_bench_command", "axis_args"]


def axis_args(grid: Path | None, args: list[str]) -> tuple[Path | None, dict[str, list[str]]]:
    """The grid file and the extra ``--name value`` / ``--name=value`` arguments as grid axes (repeatable;
    dashes -> underscores). The command line parser takes the first unknown option for the grid file
    when the file is not given first: it is put back, and a lone argument among the axes is the file."""
    if grid is not None and str(grid).startswith("--"):
        args, grid = [str(grid), *args], None
    axes: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        token = args[i]
        name, sep, value = token[2:].partition("=")
        if not token.startswith("--") and grid is None:
            grid, i = Path(token), i + 1
            continue
        if not token.startswith("--") or not name:
            raise ConfigError(f"unexpected argument {token!r}; give grid axes as --name value (e.g. --solver darts), "
                              f"fixed options as --set name=value.")
        if not sep:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise ConfigError(f"grid axis {token} has no value; write e.g. {token} VALUE (repeat it for several).")
            value, i = args[i + 1], i + 1
        axes.setdefault(name.replace("-", "_"), []).append(value)
        i += 1
    return grid, axes


def _bench_argv(grid: Path | None, pipeline: str | None, axes: dict[str, list[Any]], assignments: list[str] | None,
                out: Path, options: dict[str, Any]) -> list[str]:
    """The arguments of a ``dgen bench`` command that runs this grid again (for ``OUT/commands.txt``)."""
    argv = ["bench", *([str(grid)] if grid else []), *(["--pipeline", pipeline] if pipeline else [])]
    for axis, values in axes.items():
        argv += [part for value in values for part in (f"--{axis.replace('_', '-')}", str(value))]
    argv += [part for assignment in assignments or [] for part in ("--set", assignment)]
    argv += ["--out", str(out)]
    for name, (value, default) in options.items():
        argv += [f"--{name}", str(value)] if value != default else []
    return argv


def add_bench_command(app: typer.Typer, guarded: Callable[[], AbstractContextManager[None]], console: Console) -> None:
    """Add ``dgen bench`` to ``app``; ``guarded`` turns a ``DgenError`` into one red line."""

    @app.command("bench", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def bench_command(
        ctx: typer.Context,
        grid: Annotated[Optional[Path], typer.Argument(help="JSON/TOML grid file (see docs/bench.md).")] = None,
        out: Annotated[Optional[Path], typer.Option(help="Benchmark directory: OUT/runs/<run>, OUT/results.md ...")] = None,
        pipeline: Annotated[Optional[str], typer.Option(help="Pipeline of every run (replaces the file's).")] = None,
        seed: Annotated[Optional[list[int]], typer.Option(help="Seed axis (repeatable).")] = None,
        assignments: Annotated[
            Optional[list[str]], typer.Option("--set", help="Fixed option key=value of every run (repeatable).")
        ] = None,
        label: Annotated[Optional[str], typer.Option(
            help="Label of every run (their names get -LABEL, compared as VALUE@LABEL); see docs/bench.md.")
        ] = None,
        jobs: Annotated[int, typer.Option(help="Runs at a time (ray: at most this many in flight).")] = 1,
        threads: Annotated[
            Optional[int], typer.Option(help="CPU threads of each run (default: the cores of this process // jobs).")
        ] = None,
        engine: Annotated[str, typer.Option(help="local (processes on this machine) or ray (tasks on a Ray cluster).")] = "local",
        address: Annotated[
            Optional[str], typer.Option(help="Ray cluster address (default: a new local Ray instance); --engine ray.")
        ] = None,
        device: Annotated[str, typer.Option(help="auto, cpu or cuda, for every run.")] = "auto",
        aggregate_only: Annotated[
            bool, typer.Option("--aggregate-only", help="Only aggregate the runs already in --out.")
        ] = False,
        metric: Annotated[Optional[str], typer.Option(help="Metric plotted and counted in wins (default: the pipeline's headline).")] = None,
        baseline: Annotated[Optional[str], typer.Option(help="Value every other is compared with (default: the pipeline's).")] = None,
        candidate: Annotated[
            Optional[list[str]], typer.Option(help="Candidates of the pipeline's best-of reference (repeatable).")
        ] = None,
        resamples: Annotated[int, typer.Option(help="Bootstrap resamples of each interval.")] = 10_000,
        report: Annotated[
            Optional[Path], typer.Option(help="Also write the report here (e.g. docs/results.md), figures beside it.")
        ] = None,
    ) -> None:
        """Run a grid of `dgen run` experiments, each in its own run directory (as processes here or as Ray
        tasks); then write results.csv, results.md and plots from every finished run. Axes of the pipeline are
        given as options: --solver unroll --solver darts."""
        with guarded():
            if out is None:
                raise ConfigError("dgen bench needs --out DIR, the benchmark directory; e.g. --out bench/toy.")
            grid, extra = axis_args(grid, list(ctx.args))
            axes: dict[str, list[Any]] = dict(extra)
            if seed:
                axes["seed"] = list(seed)
            outcome = None
            if aggregate_only:
                if grid or pipeline or axes or assignments or label:
                    raise ConfigError(
                        "--aggregate-only reads the runs already in --out; drop the grid file and grid options."
                    )
            else:
                spec = grid_spec(read_grid_file(grid) if grid else None, pipeline=pipeline, axes=axes,
                                 extras=parse_assignments(assignments or []), label=label)
                share = run_share(threads, jobs)
                runner = make_engine(engine, address=address, threads=share, device=device)
                argv = _bench_argv(grid, pipeline, axes, assignments, out, {
                    "label": (label, None), "jobs": (jobs, 1), "threads": (threads, None), "engine": (engine, "local"),
                    "address": (address, None), "device": (device, "auto")})
                with grid_view(console) as view:
                    outcome = run_bench(spec, out, jobs=jobs, command=DgenRunCommand(device=device, threads=share),
                                        record=command_line(argv, os.environ), on_event=view.update, engine=runner)
                console.print(describe_report(outcome), markup=False, soft_wrap=True)
            records = runs_records(out)
            compare = compare_options(records, baseline=baseline, candidates=candidate, resamples=resamples)
            result = aggregate(out, AggregateOptions(metric=metric, compare=compare, report=report, records=records))
            written = f"{result.markdown}" + (f" (and {report})" if report is not None else "")
            console.print(f"results: {written}, {result.csv} and {len(result.plots)} plots", soft_wrap=True)
            if outcome is not None and not outcome.ok:
                raise typer.Exit(1)
