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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dgen.errors import ConfigError, DataError, UnknownNameError

from dgen.bench.collect import Collected, collect_runs, write_csv
from dgen.bench.commands import read_commands
from dgen.bench.compare import CompareOptions, Comparison, best_classic, compare_methods
from dgen.bench.plots import bar_plots, curve_plots
from dgen.bench.table import render_markdown
from dgen.bench.valcurves import setting_curves, val_curve_plots

__all__ = ["RESULTS_CSV", "RESULTS_MD", "NOTES_MD", "PLOTS_DIR", "AggregateOptions", "Aggregate", "aggregate"]

RESULTS_CSV = "results.csv"
RESULTS_MD = "results.md"
NOTES_MD = "notes.md"
PLOTS_DIR = "plots"


@dataclass(frozen=True)
class AggregateOptions:
    """``metric`` is plotted and counts the seeds a method wins; it is compared first. ``report``: a
    second copy of the markdown (figures in the folder of its name), or None."""

    metric: str = "dice"
    compare: CompareOptions = field(default_factory=CompareOptions)
    report: Path | None = None


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
    for old in plots.glob("*.png"):  # figures of settings no longer on disk
        old.unlink()
    val_curves = setting_curves(out, rows, options.metric)
    figures: dict[str, Mapping[Any, Path]] = {
        "bars": bar_plots(rows, plots, options.metric, compare),
        "curves": curve_plots(rows, plots, options.metric, compare),
        "val_figures": val_curve_plots(val_curves, plots, options.metric, compare),
    }
    comparisons = tuple(compare_methods(rows, compare))
    write_csv(rows, out / RESULTS_CSV)
    choices, commands = best_classic(rows, compare), read_commands(out)
    notes = (out / NOTES_MD).read_text(encoding="utf-8") if (out / NOTES_MD).is_file() else ""

    def render(figures: Mapping[str, Mapping[Any, Path]], base: Path) -> str:
        return render_markdown(collected, comparisons, choices, figures["bars"], figures["curves"], options=compare,
                               metric=options.metric, base=base, val_curves=val_curves,
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
