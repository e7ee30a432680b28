"""Aggregating a benchmark directory: ``results.csv``, ``results.md`` and ``plots/*.png``.

Reads every finished run under ``OUT/runs`` (whatever grid produced it), so it can run on its own
(``dgen bench --out OUT --aggregate-only``) and always reflects what is on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from dgen.errors import DataError, UnknownNameError

from dgen.bench.collect import Collected, collect_runs, write_csv
from dgen.bench.compare import CompareOptions, Comparison, best_classic, compare_methods
from dgen.bench.plots import bar_plots, curve_plots
from dgen.bench.table import render_markdown

__all__ = ["RESULTS_CSV", "RESULTS_MD", "PLOTS_DIR", "AggregateOptions", "Aggregate", "aggregate"]

RESULTS_CSV = "results.csv"
RESULTS_MD = "results.md"
PLOTS_DIR = "plots"


@dataclass(frozen=True)
class AggregateOptions:
    """``metric`` is plotted and counts the seeds a method wins; it is compared first."""

    metric: str = "dice"
    compare: CompareOptions = field(default_factory=CompareOptions)


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
    ``options.metric`` is not one of the runs' test metrics.
    """
    options = options or AggregateOptions()
    out = Path(out)
    collected = collect_runs(out)
    rows = collected.rows
    if not rows:
        raise DataError(
            f"{out / 'runs'} holds no finished run with test metrics ({len(collected.unfinished)} unfinished); "
            f"run the grid first: dgen bench GRID --out {out}."
        )
    available = sorted({k for r in rows for k in r.scores if k != "n"})
    if options.metric not in available:
        raise UnknownNameError("metric of these runs", options.metric, available)
    metrics = tuple(m for m in dict.fromkeys([options.metric, *options.compare.metrics]) if m in available)
    compare = replace(options.compare, metrics=metrics)
    plots = out / PLOTS_DIR
    plots.mkdir(exist_ok=True)
    for old in [*plots.glob("bars-*.png"), *plots.glob("curves-*.png")]:  # figures of settings no longer on disk
        old.unlink()
    bars = bar_plots(rows, plots, options.metric, compare)
    curves = curve_plots(rows, plots, options.metric, compare)
    comparisons = tuple(compare_methods(rows, compare))
    write_csv(rows, out / RESULTS_CSV)
    text = render_markdown(collected, comparisons, best_classic(rows, compare), bars, curves,
                           options=compare, metric=options.metric, base=out)
    (out / RESULTS_MD).write_text(text, encoding="utf-8")
    return Aggregate(out / RESULTS_CSV, out / RESULTS_MD, (*bars.values(), *curves.values()), collected, comparisons)
