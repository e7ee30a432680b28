"""Validation curves of a benchmark: did every method plateau within the iteration budget?

A run's ``log.csv`` has a column ``val_<metric>`` filled at each validation. Its x axis is
``seg_iteration`` (the segmenter updates so far, which puts methods with and without a GAN warm-up
on one axis) when the log has that column, else ``iteration + 1``.

Per setting and method, the curves of the seeds are averaged at the x values they share; the
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

from dgen.bench.collect import ResultRow, Setting, setting_title, sort_key
from dgen.bench.compare import CompareOptions, method_order
from dgen.bench.plan import RUNS_DIR
from dgen.bench.plots import slug

__all__ = ["LOG_FILE", "Curve", "Plateau", "read_val_curve", "setting_curves", "mean_curve", "plateau", "val_curve_plots"]

LOG_FILE = "log.csv"
_PLATEAU_FRACTION = 0.2  # compare the last fifth of the budget with the fifth before it

#: ``{x: score}`` of one run or the mean over seeds.
Curve = dict[int, float]


def read_val_curve(run_dir: Path, metric: str = "dice") -> Curve:
    """The validation ``metric`` of ``run_dir/log.csv`` by segmenter iteration (empty when there is no log)."""
    path = Path(run_dir) / LOG_FILE
    if not path.is_file():
        return {}
    curve: Curve = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            value = row.get(f"val_{metric}") or ""
            if not value:
                continue
            x = row.get("seg_iteration") or ""
            curve[int(x) if x else int(row["iteration"]) + 1] = float(value)
    return curve


def setting_curves(out: Path, rows: Sequence[ResultRow], metric: str) -> dict[Setting, dict[str, dict[int, Curve]]]:
    """``{setting: {method: {seed: curve}}}`` of the runs behind ``rows`` (runs without a curve left out)."""
    runs = {(r.setting, str(r.method), r.seed, r.run) for r in rows}
    curves: dict[Setting, dict[str, dict[int, Curve]]] = {}
    for setting, method, seed, run in sorted(runs, key=lambda k: tuple(map(sort_key, k))):
        curve = read_val_curve(Path(out) / RUNS_DIR / run, metric)
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
    curves: Mapping[Setting, Mapping[str, Mapping[int, Curve]]], directory: Path, metric: str, options: CompareOptions
) -> dict[Setting, Path]:
    """Write ``val-<task>-<backbone>-n<N>-<metric>.png`` per setting: one thin line per seed, a thick
    line for the mean over seeds, a colour per method; returns their paths."""
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
        ax.set_xlabel("segmenter iteration")
        ax.set_ylabel(f"validation {metric}")
        ax.legend(fontsize=7, title="method (seeds)", title_fontsize=7)
        fig.suptitle(f"{setting_title(setting)}: validation {metric} during training", fontsize=10)
        n = setting[2]
        path = directory / f"val-{slug(setting[0], setting[1], None if n is None else f'n{n}', metric)}.png"
        fig.savefig(path, dpi=110)
        paths[setting] = path
    return paths
