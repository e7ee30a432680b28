"""Aggregating a benchmark directory: ``results.csv``, ``results.md`` and ``plots/*.png``.

Reads every finished run under ``OUT/runs`` (whatever grid produced it), so it can run on its own
(``dgen bench --out OUT --aggregate-only``) and always reflects what is on disk. ``OUT/notes.md``, if
present, is written by hand and placed after the report's header, so that regenerating keeps it. With a ``report``
path the markdown is also written there (e.g. ``docs/results.md``), its figures copied into the folder
of the same name beside it (``docs/results/``) so that the page can be published with the code.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dgen.errors import ConfigError, DataError, UnknownNameError
from dgen.records import Records

from dgen.bench.collect import TEST_SIZE_KEY, Collected, collect_runs, runs_pipelines, write_csv
from dgen.bench.commands import read_commands
from dgen.bench.compare import CompareOptions, Comparison, best_choices, compare_methods, compare_options
from dgen.bench.pipelines import pipeline_records
from dgen.bench.plan import RUNS_DIR
from dgen.bench.plots import bar_plots, curve_plots
from dgen.bench.table import render_markdown
from dgen.bench.valcurves import setting_curves, val_curve_plots

__all__ = ["RESULTS_CSV", "RESULTS_MD", "NOTES_MD", "PLOTS_DIR", "AggregateOptions", "Aggregate", "aggregate",
           "runs_records"]

RESULTS_CSV = "results.csv"
RESULTS_MD = "results.md"
NOTES_MD = "notes.md"
PLOTS_DIR = "plots"


@dataclass(frozen=True)
class AggregateOptions:
    """How to aggregate; None takes what the runs' pipeline declares (its :class:`~dgen.records.Records`).

    Attributes:
        metric: plotted, compared first, counts the seeds a value wins (default: the headline metric).
        compare: the comparison (default: :func:`~dgen.bench.compare.compare_options` of the records).
        report: a second copy of the markdown (figures in the folder of its name), or None.
        records: how to read the runs (default: those of the pipeline named by the runs' ``config.json``).
    """

    metric: str | None = None
    compare: CompareOptions | None = None
    report: Path | None = None
    records: Records | None = None


def runs_records(out: Path) -> Records:
    """The records of the one pipeline whose runs are under ``out/runs`` (``DataError`` for none or several)."""
    pipelines = runs_pipelines(out)
    if not pipelines:
        raise DataError(f"{Path(out) / RUNS_DIR} holds no finished run with test metrics (no run at all); "
                        f"run the grid first: dgen bench GRID --out {out}.")
    if len(pipelines) > 1:
        raise DataError(f"{Path(out) / RUNS_DIR} holds runs of {len(pipelines)} pipelines ({', '.join(pipelines)}); "
                        f"a benchmark directory holds the runs of one pipeline: move the others to another --out.")
    return pipeline_records(pipelines[0])


@dataclass(frozen=True)
class Aggregate:
    """The files written and what they were made from."""

    csv: Path
    markdown: Path
    plots: tuple[Path, ...]
    collected: Collected
    comparisons: tuple[Comparison, ...]


def aggregate(out: Path, options: AggregateOptions | None = None) -> Aggregate:
    """Write ``out/results.csv``, ``out/results.md`` and ``out/plots/`` from the finished runs under ``out/runs``.

    Raises ``DataError`` when no finished run has test metrics, ``UnknownNameError`` when
    ``options.metric`` is not one of the runs' test metrics, ``ConfigError`` when ``options.report`` is
    not a ``.md`` file path.
    """
    options = options or AggregateOptions()
    out = Path(out)
    if options.report is not None and (Path(options.report).suffix != ".md" or Path(options.report).is_dir()):
        raise ConfigError(f"report {options.report} is not a markdown file path: give one ending in .md, "
                          f"e.g. --report docs/results.md (its figures go to docs/results/).")
    records = options.records or runs_records(out)
    metric = options.metric or records.headline
    collected = collect_runs(out, records)
    rows = collected.rows
    if not rows:
        raise DataError(
            f"{out / 'runs'} holds no finished run with test metrics ({len(collected.unfinished)} unfinished); "
            f"run the grid first: dgen bench GRID --out {out}."
        )
    available = sorted({k for r in rows for k in r.scores if k != TEST_SIZE_KEY})
    if metric not in available:
        raise UnknownNameError("metric of these runs", metric, available)
    base_compare = options.compare or compare_options(records)
    metrics = tuple(m for m in dict.fromkeys([metric, *base_compare.metrics]) if m in available)
    compare = replace(base_compare, metrics=metrics)
    plots = out / PLOTS_DIR
    plots.mkdir(exist_ok=True)
    for old in plots.glob("*.png"):  # figures of settings no longer on disk
        old.unlink()
    val_curves = setting_curves(out, rows, metric, records)
    figures: dict[str, Mapping[Any, Path]] = {
        "bars": bar_plots(rows, plots, metric, compare, records),
        "curves": curve_plots(rows, plots, metric, compare, records),
        "val_figures": val_curve_plots(val_curves, plots, metric, compare, records),
    }
    comparisons = tuple(compare_methods(rows, compare))
    write_csv(rows, out / RESULTS_CSV, records)
    choices, commands = best_choices(rows, compare), read_commands(out)
    notes = (out / NOTES_MD).read_text(encoding="utf-8") if (out / NOTES_MD).is_file() else ""

    def render(figures: Mapping[str, Mapping[Any, Path]], base: Path) -> str:
        return render_markdown(collected, comparisons, choices, figures["bars"], figures["curves"], options=compare,
                               metric=metric, base=base, val_curves=val_curves,
                               val_figures=figures["val_figures"], commands=commands, notes=notes)

    (out / RESULTS_MD).write_text(render(figures, out), encoding="utf-8")
    if options.report is not None:
        report = Path(options.report)
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(render(_copy_figures(figures, report.with_suffix("")), report.parent), encoding="utf-8")
    paths = tuple(p for kind in figures.values() for p in kind.values())
    return Aggregate(out / RESULTS_CSV, out / RESULTS_MD, paths, collected, comparisons)


def _copy_figures(figures: Mapping[str, Mapping[Any, Path]], folder: Path) -> dict[str, dict[Any, Path]]:
    """Copy every figure into ``folder`` (emptied of older figures first); the same mappings with the copies."""
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    copies: dict[str, dict[Any, Path]] = {}
    for kind, paths in figures.items():
        copies[kind] = {key: Path(shutil.copy2(path, folder / path.name)) for key, path in paths.items()}
    return copies
