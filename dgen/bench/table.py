"""The markdown report of a benchmark: the commands that ran it; per setting, mean ± sd per test set and compared
value, the wall time per value, the paired differences against the references, the validation curves with their
plateau check, and the figures."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dgen.records import Records

from dgen.bench.collect import (
    TEST_SIZE_KEY, Collected, ResultRow, Setting, metric_columns, seed_table, setting_title, sort_key,
)
from dgen.bench.compare import Choice, CompareOptions, Comparison, method_order
from dgen.bench.stats import PairedDifference, mean_sd
from dgen.bench.valcurves import Curve, mean_curve, plateau

__all__ = ["render_markdown", "mean_sd_text", "difference_text"]

def mean_sd_text(values: Sequence[float]) -> str:
    """``0.812 ± 0.010`` (3 decimals; the sd is left out for one value)."""
    mean, sd = mean_sd(values)
    if math.isnan(mean):
        return "–"
    return f"{mean:.3f}" if math.isnan(sd) else f"{mean:.3f} ± {sd:.3f}"


def difference_text(d: PairedDifference) -> str:
    """``+0.021 [+0.010, +0.035]``; the interval is ``n/a`` for fewer than 2 seeds."""
    interval = "n/a" if math.isnan(d.low) else f"{d.low:+.3f}, {d.high:+.3f}"
    return f"{d.mean:+.3f} [{interval}]"


def _metrics(rows: Sequence[ResultRow], records: Records) -> list[str]:
    names = metric_columns(rows, "scores", records.metrics)
    return [m for m in names if m != TEST_SIZE_KEY
            and any(isinstance(r.scores.get(m), (int, float)) and not isinstance(r.scores.get(m), bool) for r in rows)]


def _distinct(rows: Sequence[ResultRow], key: str) -> str:
    values = sorted({r.info.get(key) for r in rows} - {None}, key=sort_key)
    return ", ".join(map(str, values))


def _score_table(rows: Sequence[ResultRow], options: CompareOptions, records: Records) -> list[str]:
    metrics = _metrics(rows, records)
    tables = {m: seed_table(rows, value=lambda r, m=m: r.scores.get(m), group=lambda r: r.test_set) for m in metrics}
    sizes = {r.test_set: r.scores.get(TEST_SIZE_KEY) for r in rows}
    flags = {r.test_set: r.in_domain for r in rows}
    lines = [
        f"| test set | domain | {records.compared or 'run'} | seeds | " + " | ".join(metrics) + " |",
        "|---|---|---|---|" + "---|" * len(metrics),
    ]
    for test_set in sorted(flags, key=lambda t: (not flags[t], t)):
        name = test_set if sizes[test_set] is None else f"{test_set} (n={sizes[test_set]})"
        methods = method_order({m for t in tables.values() for m in t.get(test_set, {})}, options)
        for method in methods:
            per_metric = [list(tables[m].get(test_set, {}).get(method, {}).values()) for m in metrics]
            seeds = max(len(v) for v in per_metric)
            cells = " | ".join(mean_sd_text(v) for v in per_metric)
            lines.append(f"| {name} | {'in-domain' if flags[test_set] else 'OOD'} | {method} | {seeds} | {cells} |")
    return lines


def _cost_line(rows: Sequence[ResultRow], options: CompareOptions) -> list[str]:
    table = seed_table(rows, value=lambda r: r.info.get("wall_seconds"), group=lambda r: 0).get(0, {})
    if not table:
        return []
    parts = [f"{m} {mean_sd(list(table[m].values()))[0]:.0f} s" for m in method_order(table, options)]
    return ["", "Mean wall time per run: " + " · ".join(parts) + "."]


def _comparison_table(comparisons: Sequence[Comparison], metric: str, level: float, compared: str) -> list[str]:
    metrics = list(dict.fromkeys(m for c in comparisons for m in c.differences))
    lines = [
        f"| test set | domain | {compared} | vs | seeds | " + " | ".join(f"Δ {m} [{level:.0%} CI]" for m in metrics)
        + f" | better {metric} |",
        "|---|---|---|---|---|" + "---|" * (len(metrics) + 1),
    ]
    for c in comparisons:
        cells = " | ".join(difference_text(c.differences[m]) if m in c.differences else "–" for m in metrics)
        n = max(d.n for d in c.differences.values())
        wins = f"{c.differences[metric].wins}/{c.differences[metric].n}" if metric in c.differences else "–"
        domain = "in-domain" if c.in_domain else "OOD"
        lines.append(f"| {c.test_set} | {domain} | {c.method} | {c.reference} ({c.against}) | {n} | {cells} | {wins} |")
    return lines


def _plateau_table(
    curves: Mapping[str, Mapping[int, Curve]], options: CompareOptions, metric: str, compared: str
) -> list[str]:
    lines = [
        f"| {compared} | seeds | budget | val {metric}, 60–80 % of budget | last 20 % | change | best at (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in method_order(curves, options):
        per_seed = curves[method]
        check = plateau(mean_curve(per_seed))
        if check is None:
            continue
        best_at = sorted(max(c, key=lambda x: (c[x], -x)) for c in per_seed.values())  # first x of each seed's best
        median = statistics.median(best_at)
        lines.append(f"| {method} | {len(per_seed)} | {check.budget} | {check.earlier:.3f} | {check.late:.3f} | "
                     f"{check.change:+.3f} | {median:g} |")
    return lines


def _facts(rows: Sequence[ResultRow], records: Records) -> str:
    """``image size 64; seeds 0, 1, 2; solver b: x``: the declared facts of a setting, its seeds, the per-value facts."""
    facts = [f"{key.replace('_', ' ')} {_distinct(rows, key)}" for key in records.facts if _distinct(rows, key)]
    facts.append("seeds " + ", ".join(map(str, sorted({r.seed for r in rows}, key=sort_key))))
    for key in records.per_value_facts:
        pairs = sorted({f"{r.variant}: {r.info[key]}" for r in rows if r.info.get(key) is not None})
        if pairs:
            facts.append(f"{key.replace('_', ' ')} {', '.join(pairs)}")
    return "; ".join(facts) + "."


def _section(
    setting: Setting, rows: Sequence[ResultRow], comparisons: Sequence[Comparison], choices: Sequence[Choice],
    figures: Mapping[str, Path], curves: Mapping[str, Mapping[int, Curve]], options: CompareOptions, metric: str,
    base: Path, records: Records,
) -> list[str]:
    title = setting_title(setting, records)
    compared = records.compared or "run"
    lines = ["", f"## {title or 'all runs'}", "", _facts(rows, records), ""]
    lines += _score_table(rows, options, records) + _cost_line(rows, options)
    for choice in choices:
        ranked = ", ".join(f"{m} {v:.3f}" for m, v in sorted(choice.val_means.items(), key=lambda kv: -kv[1]))
        over = f" over seeds {', '.join(map(str, choice.seeds))}, those every candidate ran" if choice.seeds else ""
        lines += ["", f"{choice.reference.title} by mean validation {options.select_metric}{over}: "
                      f"**{choice.variant}** ({ranked})."]
    if comparisons:
        lines += ["", f"Paired differences, {compared} − reference:", ""]
        lines += _comparison_table(comparisons, metric, options.level, compared)
    if "bars" in figures:
        lines += ["", f"![{title}: {metric} per seed]({figures['bars'].relative_to(base).as_posix()})"]
    if curves and records.curve is not None:
        note = f"; {records.curve.note}" if records.curve.note else ""
        lines += ["", f"Validation {metric} during training (x: {records.curve.x_label}{note}). Plateau check: mean "
                      "over seeds in the last fifth of the budget minus the fifth before it; about 0 = plateaued.", ""]
        lines += _plateau_table(curves, options, metric, compared)
    if "val" in figures:
        lines += ["", f"![{title}: validation curves]({figures['val'].relative_to(base).as_posix()})"]
    return lines


def render_markdown(
    collected: Collected,
    comparisons: Sequence[Comparison],
    choices: Mapping[Setting, Sequence[Choice]],
    bars: Mapping[Setting, Path],
    curves: Mapping[Any, Path],
    *,
    options: CompareOptions,
    metric: str,
    base: Path,
    val_curves: Mapping[Setting, Mapping[str, Mapping[int, Curve]]] | None = None,
    val_figures: Mapping[Setting, Path] | None = None,
    commands: Sequence[str] = (),
    notes: str = "",
) -> str:
    """The report; figure links are relative to ``base`` (the benchmark directory). ``commands``: the
    ``dgen bench`` command lines that ran the grid (see :mod:`dgen.bench.commands`), placed after the notes;
    ``notes``: markdown written by hand (``OUT/notes.md``), placed right after the header (the write-up first)."""
    rows, records = collected.rows, collected.records
    val_curves, val_figures = val_curves or {}, val_figures or {}
    lines = [
        "# Benchmark results",
        "",
        f"{len(collected.finished)} finished runs under `runs/`, generated by `dgen bench`.",
        "Scores: mean ± sample sd over seeds on each test set; *OOD* marks out-of-domain test sets.",
        f"Paired differences: {records.compared or 'run'} − reference over the seeds both ran (same seed = same data split), "
        f"with a {options.level:.0%} percentile-bootstrap interval of the mean ({options.resamples} resamples, "
        f"seed {options.seed}).",
    ]
    if any(1 < d.n <= 3 for c in comparisons for d in c.differences.values()) and options.level >= 0.95:
        lines.append("With 2 or 3 seeds this interval is exactly the range of the differences: read it as a "
                     "description of the seeds, not as a significance test (see docs/bench.md).")
    if notes.strip():
        lines += ["", notes.strip()]
    if commands:
        lines += ["", "Commands that ran the grid:", "", "```bash", *commands, "```"]
    if collected.unfinished:
        lines += ["", f"Not finished (left out): {', '.join(collected.unfinished)}."]
    if collected.without_tests:
        lines += ["", f"Finished without test metrics (left out): {', '.join(collected.without_tests)}."]
    for setting in sorted({r.setting for r in rows}, key=lambda s: tuple(map(sort_key, s))):
        mine = [r for r in rows if r.setting == setting]
        figures = {k: v[setting] for k, v in (("bars", bars), ("val", val_figures)) if setting in v}
        lines += _section(setting, mine, [c for c in comparisons if c.setting == setting], choices.get(setting, []),
                          figures, val_curves.get(setting, {}), options, metric, base, records)
    if curves and records.sweep is not None:
        others = tuple(n for n in records.setting_axes if n != records.sweep)
        lines += ["", f"## {metric} against {records.sweep}", ""]
        for group, path in curves.items():
            title = setting_title(group, records, others)
            lines.append(f"![{title + ': ' if title else ''}{metric} vs {records.sweep}]({path.relative_to(base).as_posix()})")
    return "\n".join(lines) + "\n"
