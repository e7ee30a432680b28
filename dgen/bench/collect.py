"""Reading every finished run of a benchmark directory into rows, one per run and test set.

Each row takes the run's identity (task, backbone, method, solver, seed) from its ``metrics.json``,
falling back to its ``config.json`` (which always holds ``n_labeled``). Which test sets are
out-of-domain: the ``"out_of_domain"`` list of ``metrics.json`` when present; otherwise the
convention of dgen's tasks applies: the first test set in ``"test"`` is the in-domain one (the held-out
part of the training dataset) and every other test set is out-of-domain.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgen.errors import DataError
from dgen.run import CONFIG_FILE, METRICS_FILE

from dgen.bench.plan import RUNS_DIR, read_run_file, run_state

__all__ = [
    "ResultRow", "Collected", "collect_runs", "write_csv", "in_domain_flags", "seed_table", "sort_key",
    "Setting", "setting_title", "CSV_COLUMNS",
]

#: a setting: ``(task, backbone, n_labeled)``; methods are compared within one setting.
Setting = tuple[Any, Any, Any]
#: the fixed leading columns of ``results.csv``; further test metrics follow ``hd95``.
CSV_COLUMNS = (
    "run", "pipeline", "task", "backbone", "method", "solver", "n_labeled", "seed", "test_set", "in_domain",
    "dice", "jaccard", "hd95", "n",
)
_TRAILING = ("wall_seconds", "best_iteration", "iterations", "image_size", "device")


@dataclass(frozen=True)
class ResultRow:
    """One run on one test set.

    ``scores`` holds the test metrics of ``test_set`` (``dice``, ``jaccard``, ``hd95``, ``n``, ...),
    ``val`` the run's validation metrics (of its selected checkpoint), ``info`` the other scalar
    entries of ``metrics.json`` (``wall_seconds``, ``iterations``, ...).
    """

    run: str
    pipeline: str | None
    task: str | None
    backbone: str | None
    method: str | None
    solver: str | None
    n_labeled: int | None
    seed: int | None
    test_set: str
    in_domain: bool
    scores: Mapping[str, Any] = field(default_factory=dict)
    val: Mapping[str, Any] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def setting(self) -> Setting:
        return (self.task, self.backbone, self.n_labeled)


@dataclass(frozen=True)
class Collected:
    """The rows of a benchmark directory and the names of its runs by state."""

    rows: tuple[ResultRow, ...]
    finished: tuple[str, ...]
    unfinished: tuple[str, ...]
    without_tests: tuple[str, ...] = ()


def sort_key(value: Any) -> tuple[bool, str, Any]:
    """Sorts None last and mixed types without error (numbers numerically)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return (value is None, "" if number else str(value), value if number else 0)


def setting_title(setting: Setting) -> str:
    """``task · backbone · n_labeled N`` (absent parts left out)."""
    task, backbone, n = setting
    return " · ".join(str(p) for p in (task, backbone, None if n is None else f"n_labeled {n}") if p is not None)


def in_domain_flags(metrics: Mapping[str, Any]) -> dict[str, bool]:
    """``{test set: in-domain?}`` of a run's metrics (see the module docstring for the rule)."""
    names = list(metrics.get("test") or {})
    ood = metrics.get("out_of_domain")
    if isinstance(ood, (list, tuple)):
        return {name: name not in ood for name in names}
    return {name: i == 0 for i, name in enumerate(names)}


def _rows_of(name: str, metrics: Mapping[str, Any], config: Mapping[str, Any]) -> list[ResultRow]:
    def pick(key: str) -> Any:
        return metrics.get(key, config.get(key))

    tests = metrics.get("test")
    if not isinstance(tests, Mapping):
        return []
    val = metrics.get("val") if isinstance(metrics.get("val"), Mapping) else {}
    info = {k: metrics.get(k) for k in _TRAILING if k in metrics}
    flags = in_domain_flags(metrics)
    return [
        ResultRow(
            run=name, pipeline=pick("pipeline"), task=pick("task"), backbone=pick("backbone"), method=pick("method"),
            solver=metrics.get("solver"), n_labeled=config.get("n_labeled", metrics.get("n_labeled")),
            seed=pick("seed"),
            test_set=test_set, in_domain=flags[test_set], scores=dict(scores), val=dict(val), info=info,
        )
        for test_set, scores in tests.items()
        if isinstance(scores, Mapping)
    ]


def collect_runs(out: Path) -> Collected:
    """Every run directory under ``out/runs``: rows of the finished ones, names of the others."""
    root = Path(out) / RUNS_DIR
    rows: list[ResultRow] = []
    finished, unfinished, without = [], [], []
    for run_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        if run_state(run_dir) != "finished":
            unfinished.append(run_dir.name)
            continue
        metrics = read_run_file(run_dir / METRICS_FILE)
        config = read_run_file(run_dir / CONFIG_FILE) if (run_dir / CONFIG_FILE).is_file() else {}
        found = _rows_of(run_dir.name, metrics, config)
        (finished if found else without).append(run_dir.name)
        rows += found
    return Collected(tuple(rows), tuple(finished), tuple(unfinished), tuple(without))


def _metric_columns(rows: Iterable[ResultRow], attr: str, first: Sequence[str]) -> list[str]:
    seen = {k for row in rows for k in getattr(row, attr)}
    return [*first, *sorted(seen - set(first))]


def write_csv(rows: Sequence[ResultRow], path: Path) -> None:
    """Write ``rows`` to ``path``: :data:`CSV_COLUMNS`, other test metrics, ``val_*``, then run info."""
    metrics = _metric_columns(rows, "scores", ("dice", "jaccard", "hd95", "n"))
    vals = _metric_columns(rows, "val", ("dice", "jaccard"))
    header = [*CSV_COLUMNS[:10], *metrics, *(f"val_{k}" for k in vals), *_TRAILING]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for r in rows:
            ident = [r.run, r.pipeline, r.task, r.backbone, r.method, r.solver, r.n_labeled, r.seed, r.test_set]
            cells = [*ident, "true" if r.in_domain else "false", *(r.scores.get(k) for k in metrics),
                     *(r.val.get(k) for k in vals), *(r.info.get(k) for k in _TRAILING)]
            writer.writerow(["" if c is None else c for c in cells])


def seed_table(
    rows: Iterable[ResultRow], value: Callable[[ResultRow], Any], group: Callable[[ResultRow], Any]
) -> dict[Any, dict[str, dict[int, float]]]:
    """``{group(row): {method: {seed: value(row)}}}`` over the rows whose value is a number.

    Two rows with the same group, method and seed but different runs raise ``DataError``.
    """
    table: dict[Any, dict[str, dict[int, float]]] = {}
    owner: dict[tuple[Any, Any, Any], str] = {}
    for row in rows:
        number = value(row)
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            continue
        key = (group(row), row.method, row.seed)
        if owner.setdefault(key, row.run) != row.run:
            raise DataError(
                f"runs {owner[key]} and {row.run} both hold method {row.method}, seed {row.seed} of the same "
                f"setting; keep one of them (delete the other run directory)."
            )
        table.setdefault(group(row), {}).setdefault(str(row.method), {})[row.seed] = float(number)
    return table
