"""Reading every finished run of a benchmark directory into rows, one per run and test set.

What a row holds is declared by the pipeline (:class:`dgen.records.Records`): the values of its
axes (from the run's ``config.json``, else its ``metrics.json``), the compared value (with the run's
label, ``method@fixes``, where ``dgen bench`` recorded one), the seed, the
test set and whether it is out-of-domain (the ``"out_of_domain"`` list the pipeline wrote into
``metrics.json``), the test scores, the validation scores and the declared ``info`` scalars.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgen.errors import DataError
from dgen.records import SEED_AXIS, Records
from dgen.rundir import CONFIG_FILE, METRICS_FILE, OUT_OF_DOMAIN_KEY, TEST_KEY, VAL_KEY

from dgen.bench.labels import labelled, read_label
from dgen.bench.plan import RUNS_DIR, read_run_file, run_state

__all__ = [
    "ResultRow", "Collected", "collect_runs", "runs_pipelines", "write_csv", "in_domain_flags", "seed_table", "sort_key",
    "metric_columns",
    "Setting", "setting_title", "TEST_SIZE_KEY",
]

#: a setting: the values of the records' setting axes, in their order; compared values are compared within one.
Setting = tuple[Any, ...]
#: a test set's entry in ``metrics.json`` may give its number of items under this key.
TEST_SIZE_KEY = "n"


@dataclass(frozen=True)
class ResultRow:
    """One run on one test set.

    ``setting`` holds the values of the setting axes, ``variant`` the value of the compared axis;
    ``scores`` the test metrics of ``test_set``, ``val`` the run's validation metrics, ``info`` the
    declared scalar entries of ``metrics.json``.
    """

    run: str
    pipeline: str | None
    setting: Setting
    variant: str | None
    seed: int | None
    test_set: str
    in_domain: bool
    scores: Mapping[str, Any] = field(default_factory=dict)
    val: Mapping[str, Any] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Collected:
    """The rows of a benchmark directory, the records that read them and the names of its runs by state."""

    records: Records
    rows: tuple[ResultRow, ...]
    finished: tuple[str, ...]
    unfinished: tuple[str, ...]
    without_tests: tuple[str, ...] = ()


def sort_key(value: Any) -> tuple[bool, str, Any]:
    """Sorts None last and mixed types without error (numbers numerically)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return (value is None, "" if number else str(value), value if number else 0)


def setting_title(setting: Setting, records: Records, axes: Sequence[str] | None = None) -> str:
    """``shapes · n_train 8``: each value of ``setting`` (of ``axes``, default the setting axes)
    as its axis labels it; absent values left out."""
    names = records.setting_axes if axes is None else axes
    return " · ".join(records.axis(n).label(v) for n, v in zip(names, setting) if v is not None)


def in_domain_flags(metrics: Mapping[str, Any], records: Records) -> dict[str, bool]:
    """``{test set: in-domain?}`` of a run's metrics: its ``"out_of_domain"`` list decides (the records'
    ``legacy_out_of_domain`` for a run written without one)."""
    names = list(metrics.get(TEST_KEY) or {})
    ood = metrics.get(OUT_OF_DOMAIN_KEY)
    ood = ood if isinstance(ood, (list, tuple)) else records.legacy_out_of_domain
    return {name: name not in ood for name in names}


def _rows_of(
    name: str, metrics: Mapping[str, Any], config: Mapping[str, Any], records: Records, label: str | None = None,
) -> list[ResultRow]:
    def pick(key: str) -> Any:
        return config.get(key, metrics.get(key))

    tests = metrics.get(TEST_KEY)
    if not isinstance(tests, Mapping):
        return []
    val = metrics.get(VAL_KEY) if isinstance(metrics.get(VAL_KEY), Mapping) else {}
    info = {k: metrics[k] for k in records.info if k in metrics}
    flags = in_domain_flags(metrics, records)
    setting = tuple(pick(axis) for axis in records.setting_axes)
    compared = pick(records.compared) if records.compared else None
    variant = labelled(None if compared is None else str(compared), label)
    return [
        ResultRow(run=name, pipeline=pick("pipeline"), setting=setting, variant=variant,
                  seed=pick(SEED_AXIS), test_set=test_set, in_domain=flags[test_set], scores=dict(scores),
                  val=dict(val), info=info)
        for test_set, scores in tests.items()
        if isinstance(scores, Mapping)
    ]


def collect_runs(out: Path, records: Records) -> Collected:
    """Every run directory under ``out/runs``: rows of the finished ones (read with ``records``), names of the others."""
    root = Path(out) / RUNS_DIR
    rows: list[ResultRow] = []
    finished, unfinished, without = [], [], []
    for run_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        if run_state(run_dir) != "finished":
            unfinished.append(run_dir.name)
            continue
        metrics = read_run_file(run_dir / METRICS_FILE)
        config = read_run_file(run_dir / CONFIG_FILE) if (run_dir / CONFIG_FILE).is_file() else {}
        found = _rows_of(run_dir.name, metrics, config, records, read_label(run_dir))
        (finished if found else without).append(run_dir.name)
        rows += found
    return Collected(records, tuple(rows), tuple(finished), tuple(unfinished), tuple(without))


def runs_pipelines(out: Path) -> list[str]:
    """The distinct pipelines named by the ``config.json`` of the runs under ``out/runs``."""
    names = set()
    for path in sorted((Path(out) / RUNS_DIR).glob(f"*/{CONFIG_FILE}")):
        pipeline = read_run_file(path).get("pipeline")
        if isinstance(pipeline, str):
            names.add(pipeline)
    return sorted(names)


def metric_columns(rows: Iterable[ResultRow], attr: str, first: Sequence[str]) -> list[str]:
    """``first``, then the other keys of the rows' ``attr`` mappings (``scores`` or ``val``) alphabetically."""
    seen = {k for row in rows for k in getattr(row, attr)}
    return [*(k for k in first if k in seen), *sorted(seen - set(first))]


def write_csv(rows: Sequence[ResultRow], path: Path, records: Records) -> None:
    """Write ``rows`` to ``path``: ``run, pipeline``, the axes, ``seed, test_set, in_domain``, the test
    metrics (declared first), ``val_<metric>``, then the declared info."""
    metrics = metric_columns(rows, "scores", records.metrics)
    vals = metric_columns(rows, "val", records.metrics)
    axes = records.axis_names
    header = ["run", "pipeline", *axes, SEED_AXIS, "test_set", "in_domain", *metrics, *(f"val_{k}" for k in vals),
              *records.info]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for r in rows:
            values = dict(zip(records.setting_axes, r.setting))
            if records.compared:
                values[records.compared] = r.variant
            cells = [r.run, r.pipeline, *(values.get(a) for a in axes), r.seed, r.test_set,
                     "true" if r.in_domain else "false", *(r.scores.get(k) for k in metrics),
                     *(r.val.get(k) for k in vals), *(r.info.get(k) for k in records.info)]
            writer.writerow(["" if c is None else c for c in cells])


def seed_table(
    rows: Iterable[ResultRow], value: Callable[[ResultRow], Any], group: Callable[[ResultRow], Any]
) -> dict[Any, dict[str, dict[int, float]]]:
    """``{group(row): {variant: {seed: value(row)}}}`` over the rows whose value is a number.

    Two rows with the same group, variant and seed but different runs raise ``DataError``.
    """
    table: dict[Any, dict[str, dict[int, float]]] = {}
    owner: dict[tuple[Any, Any, Any], str] = {}
    for row in rows:
        number = value(row)
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            continue
        key = (group(row), row.variant, row.seed)
        if owner.setdefault(key, row.run) != row.run:
            raise DataError(
                f"runs {owner[key]} and {row.run} both hold {row.variant}, seed {row.seed} of the same "
                f"setting; keep one of them (delete the other run directory)."
            )
        table.setdefault(group(row), {}).setdefault(str(row.variant), {})[row.seed] = float(number)
    return table
