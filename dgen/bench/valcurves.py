"""Validation curves of a benchmark: did every method plateau within the iteration budget?

A run's ``log.csv`` has a column ``val_<metric>`` filled at each validation. Its x axis is the column
the pipeline's :class:`~dgen.records.ValCurve` names, when the log has it, else ``iteration + 1``.

Per setting and compared value, the curves of the seeds are averaged at the x values they share; the
plateau check compares the mean validation score over the last fifth of the budget with the
fifth before it (``late - earlier``): about zero (within the noise of a few validation images)
means the method had stopped improving before the budget ran out.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dgen.records import Records, ValCurve
from dgen.rundir import ITERATION_COLUMN, LOG_FILE

from dgen.bench.collect import ResultRow, Setting, setting_title, sort_key
from dgen.bench.compare import CompareOptions, method_order
from dgen.bench.plan import RUNS_DIR
from dgen.bench.plots import setting_parts, slug

__all__ = ["Curve", "Plateau", "read_val_curve", "setting_curves", "mean_curve", "plateau", "val_curve_plots"]

_PLATEAU_FRACTION = 0.2  # compare the last fifth of the budget with the fifth before it

#: ``{x: score}`` of one run or the mean over seeds.
Curve = dict[int, float]


def read_val_curve(run_dir: Path, metric: str, curve_of: ValCurve) -> Curve:
    """The validation ``metric`` of ``run_dir/log.csv`` by the x of ``curve_of`` (empty when there is no log)."""
    path = Path(run_dir) / LOG_FILE
    if not path.is_file():
        return {}
    curve: Curve = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            value = row.get(f"{curve_of.prefix}{metric}") or ""
            if not value:
                continue
            x = row.get(curve_of.x) or "" if curve_of.x else ""
            curve[int(x) if x else int(row[ITERATION_COLUMN]) + 1] = float(value)
    return curve


def setting_curves(
    out: Path, rows: Sequence[ResultRow], metric: str, records: Records
) -> dict[Setting, dict[str, dict[int, Curve]]]:
    """``{setting: {value: {seed: curve}}}`` of the runs behind ``rows`` (runs without a curve left out;
    nothing when the records declare no curve)."""
    if records.curve is None:
        return {}
    runs = {(r.setting, str(r.variant), r.seed, r.run) for r in rows}
    curves: dict[Setting, dict[str, dict[int, Curve]]] = {}
    for setting, method, seed, run in sorted(runs, key=lambda k: (tuple(map(sort_key, k[0])), *map(sort_key, k[1:]))):
        curve = read_val_curve(Path(out) / RUNS_DIR / run, metric, records.curve)
        if curve:
            curves.setdefault(setting, {}).setdefault(method, {})[seed] = curve
    return curves


def mean_curve(per_seed: Mapping[int, Curve]) -> Curve:
    """The mean over seeds at the x values every seed has."""
    shared = set.intersection(*(set(c) for c in per_seed.values())) if per_seed else set()
    return {x: sum(c[x] for c in per_seed.values()) / len(per_seed) for x in sorted(shared)}


@dataclass(frozen=True)
class Plateau:
    """Mean validation score in the fifth of the budget before the last (``earlier``) and in the last (``late``)."""

    budget: int
    earlier: float
    late: float

    @property
    def change(self) -> float:
        return self.late - self.earlier


def plateau(curve: Curve) -> Plateau | None:
    """The plateau check of a (mean) curve; None when either window holds no validation."""
    if not curve:
        return None
    budget = max(curve)
    cut_late, cut_earlier = budget * (1 - _PLATEAU_FRACTION), budget * (1 - 2 * _PLATEAU_FRACTION)
    late = [v for x, v in curve.items() if x > cut_late]
    earlier = [v for x, v in curve.items() if cut_earlier < x <= cut_late]
    if not late or not earlier:
        return None
    return Plateau(budget, sum(earlier) / len(earlier), sum(late) / len(late))


def val_curve_plots(
    curves: Mapping[Setting, Mapping[str, Mapping[int, Curve]]], directory: Path, metric: str, options: CompareOptions,
    records: Records,
) -> dict[Setting, Path]:
    """Write ``val-<setting>-<metric>.png`` per setting: one thin line per seed, a thick line for the mean
    over seeds, a colour per compared value; returns their paths."""
    from matplotlib.figure import Figure  # imported here: `dgen` starts faster for the commands that do not plot

    paths: dict[Setting, Path] = {}
    for setting in sorted(curves, key=lambda s: tuple(map(sort_key, s))):
        fig = Figure(figsize=(6.0, 3.6), layout="constrained")
        ax = fig.subplots()
        for i, method in enumerate(method_order(curves[setting], options)):
            color = f"C{i % 10}"
            per_seed = curves[setting][method]
            for curve in per_seed.values():
                ax.plot(list(curve), list(curve.values()), color=color, alpha=0.25, linewidth=0.7)
            mean = mean_curve(per_seed)
            ax.plot(list(mean), list(mean.values()), color=color, linewidth=1.8, label=f"{method} ({len(per_seed)})")
        values = [v for m in curves[setting].values() for c in m.values() for v in c.values() if math.isfinite(v)]
        if values:
            ax.set_ylim(max(0.0, min(values) - 0.02), min(1.0, max(values) + 0.02))
        ax.set_xlabel(records.curve.x_label if records.curve else "iteration")
        ax.set_ylabel(f"validation {metric}")
        ax.legend(fontsize=7, title=f"{records.compared or 'run'} (seeds)", title_fontsize=7)
        title = setting_title(setting, records)
        fig.suptitle(f"{title + ': ' if title else ''}validation {metric} during training", fontsize=10)
        path = directory / f"val-{slug(*setting_parts(setting, records), metric)}.png"
        fig.savefig(path, dpi=110)
        paths[setting] = path
    return paths
