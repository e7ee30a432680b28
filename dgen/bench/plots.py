"""Figures of a benchmark (matplotlib, drawn off-screen with the Agg canvas, no pyplot state).

* bars: one figure per setting, one panel per test set, a bar per compared value (mean over seeds)
  with one dot per seed;
* curves: when the records declare a ``sweep`` axis, per setting of the other axes with at least two
  values of it, the metric against the sweep value, one line per compared value (mean over seeds)
  with a band of +-1 sd.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dgen.records import Records

from dgen.bench.collect import ResultRow, Setting, seed_table, setting_title, sort_key
from dgen.bench.compare import CompareOptions, method_order
from dgen.bench.stats import mean_sd

__all__ = ["bar_plots", "curve_plots", "slug", "setting_parts"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")
_PANEL = (3.6, 3.2)  # inches per test-set panel


def slug(*parts: Any) -> str:
    """A file-name-safe ``a-b-c`` of the parts that are not None."""
    return "-".join(_UNSAFE.sub("_", str(p)) for p in parts if p is not None)


def setting_parts(setting: Setting, records: Records, axes: Sequence[str] | None = None) -> list[str | None]:
    """``["shapes", "n8"]``: each value with its axis's prefix (None for absent values), for :func:`slug`."""
    names = records.setting_axes if axes is None else axes
    return [None if v is None else f"{records.axis(n).prefix}{v}" for n, v in zip(names, setting)]


def _test_sets(rows: Sequence[ResultRow]) -> list[str]:
    flags = {r.test_set: r.in_domain for r in rows}
    return sorted(flags, key=lambda t: (not flags[t], t))


def _panel_title(rows: Sequence[ResultRow], test_set: str) -> str:
    ood = not next(r.in_domain for r in rows if r.test_set == test_set)
    return f"{test_set} (out-of-domain)" if ood else f"{test_set} (in-domain)"


def _colors(rows: Sequence[ResultRow], options: CompareOptions) -> dict[str, str]:
    """One colour per method, the same in every panel and figure."""
    return {m: f"C{i % 10}" for i, m in enumerate(method_order({str(r.variant) for r in rows}, options))}


def _zoom(ax: Any, values: Sequence[float]) -> None:
    """Limit the y axis to the scores (bars then start below the axis): differences of a few points stay visible."""
    low, high = min(values), max(values)
    pad = max(0.25 * (high - low), 0.02)
    ax.set_ylim(max(0.0, low - pad) if low >= 0 else low - pad, high + pad)


def _figure(panels: int) -> Any:
    from matplotlib.figure import Figure  # imported here: `dgen` starts faster for the commands that do not plot

    return Figure(figsize=(_PANEL[0] * panels, _PANEL[1]), layout="constrained")


def bar_plots(
    rows: Sequence[ResultRow], directory: Path, metric: str, options: CompareOptions, records: Records
) -> dict[Setting, Path]:
    """Write ``bars-<setting>-<metric>.png`` for every setting; returns their paths."""
    paths: dict[Setting, Path] = {}
    for setting in sorted({r.setting for r in rows}, key=lambda s: tuple(map(sort_key, s))):
        mine = [r for r in rows if r.setting == setting]
        table = seed_table(mine, value=lambda r: r.scores.get(metric), group=lambda r: r.test_set)
        test_sets = [t for t in _test_sets(mine) if t in table]
        if not test_sets:
            continue
        colors = _colors(mine, options)
        fig = _figure(len(test_sets))
        axes = fig.subplots(1, len(test_sets), squeeze=False)[0]
        for ax, test_set in zip(axes, test_sets):
            methods = method_order(table[test_set], options)
            for x, method in enumerate(methods):
                scores = [table[test_set][method][s] for s in sorted(table[test_set][method])]
                ax.bar(x, mean_sd(scores)[0], width=0.7, color=colors[method], alpha=0.45)
                n = len(scores)
                offsets = [0.4 * (i / (n - 1) - 0.5) for i in range(n)] if n > 1 else [0.0]  # dots side by side
                ax.scatter([x + o for o in offsets], scores, color=colors[method], edgecolor="black", s=18, zorder=3)
            ax.set_xticks(range(len(methods)), methods, rotation=30, ha="right")
            _zoom(ax, [v for per_seed in table[test_set].values() for v in per_seed.values()])
            ax.set_title(_panel_title(mine, test_set), fontsize=9)
            ax.set_ylabel(metric)
        fig.suptitle(f"{setting_title(setting, records)}: mean over seeds (bar), one dot per seed", fontsize=10)
        path = directory / f"bars-{slug(*setting_parts(setting, records), metric)}.png"
        fig.savefig(path, dpi=110)
        paths[setting] = path
    return paths


def curve_plots(
    rows: Sequence[ResultRow], directory: Path, metric: str, options: CompareOptions, records: Records
) -> dict[Setting, Path]:
    """Write ``curves-<setting without the sweep axis>-<metric>.png`` for every such setting with several
    sweep values; returns their paths (none when the records declare no sweep axis)."""
    if records.sweep is None:
        return {}
    at = records.setting_axes.index(records.sweep)
    others = tuple(n for n in records.setting_axes if n != records.sweep)

    def key(row: ResultRow) -> Setting:
        return row.setting[:at] + row.setting[at + 1:]

    paths: dict[Setting, Path] = {}
    for group in sorted({key(r) for r in rows}, key=lambda k: tuple(map(sort_key, k))):
        mine = [r for r in rows if key(r) == group and r.setting[at] is not None]
        if len({r.setting[at] for r in mine}) < 2:
            continue
        table = seed_table(mine, value=lambda r: r.scores.get(metric), group=lambda r: (r.test_set, r.setting[at]))
        test_sets = _test_sets(mine)
        colors = _colors(mine, options)
        fig = _figure(len(test_sets))
        axes = fig.subplots(1, len(test_sets), squeeze=False)[0]
        for ax, test_set in zip(axes, test_sets):
            xs_all = sorted(x for t, x in table if t == test_set)
            for method in method_order({m for x in xs_all for m in table[(test_set, x)]}, options):
                points = [(x, *mean_sd(list(table[(test_set, x)][method].values())))
                          for x in xs_all if method in table[(test_set, x)]]
                xs, means, sds = zip(*points)
                ax.plot(xs, means, marker="o", color=colors[method], label=method)
                spread = [0.0 if math.isnan(s) else s for s in sds]  # one seed: no band
                low = [m - s for m, s in zip(means, spread)]
                high = [m + s for m, s in zip(means, spread)]
                ax.fill_between(xs, low, high, color=colors[method], alpha=0.15)
            ax.set_xticks(xs_all)
            ax.set_xlabel(records.sweep)
            ax.set_ylabel(metric)
            ax.set_title(_panel_title(mine, test_set), fontsize=9)
            ax.legend(fontsize=7)
        title = setting_title(group, records, others)
        fig.suptitle(f"{title + ': ' if title else ''}mean ± sd over seeds", fontsize=10)
        path = directory / f"curves-{slug(*setting_parts(group, records, others), metric)}.png"
        fig.savefig(path, dpi=110)
        paths[group] = path
    return paths
