"""Planning a grid: where each run lives, what state it is in, and whether its options are valid.

Each run lives in ``OUT/runs/<point name>``. A directory with ``metrics.json`` is finished (skipped),
one with ``config.json`` but no ``metrics.json`` is unfinished (resumed with ``--resume``), anything
else is new. Before anything runs, every point's options are built with the pipeline's config
dataclass (unknown options name the closest one) and every existing run directory is checked to
hold a run of the same options, so that a changed grid never mixes runs of different settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dgen.config import build_config, config_to_dict
from dgen.errors import ConfigError, DataError
from dgen.rundir import BENCH_FILE, CONFIG_FILE, METRICS_FILE

from dgen.bench.labels import read_label
from dgen.bench.pipelines import pipeline_config_class
from dgen.bench.spec import GridSpec, RunPoint

__all__ = ["RUNS_DIR", "RunState", "PlannedRun", "plan_grid", "pipeline_config_class", "run_state", "read_run_file"]

#: the folder of ``OUT`` that holds one directory per run.
RUNS_DIR = "runs"
RunState = Literal["finished", "unfinished", "new"]


@dataclass(frozen=True)
class PlannedRun:
    """A grid point, its run directory and its state when the grid was planned."""

    point: RunPoint
    run_dir: Path
    state: RunState


def run_state(run_dir: Path) -> RunState:
    """``finished`` (``metrics.json``), ``unfinished`` (only ``config.json``) or ``new``."""
    if (run_dir / METRICS_FILE).is_file():
        return "finished"
    return "unfinished" if (run_dir / CONFIG_FILE).is_file() else "new"


def read_run_file(path: Path) -> dict[str, Any]:
    """A run's ``config.json`` or ``metrics.json`` as a dict; a broken file raises ``DataError``."""
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise DataError(f"{path} is not valid JSON ({exc}); delete its run directory to run it again.") from exc
    if not isinstance(data, dict):
        raise DataError(f"{path} holds a {type(data).__name__}, not a JSON object; delete its run directory.")
    return data


def _check_existing(planned: PlannedRun, expected: dict[str, Any], pipeline: str) -> None:
    saved_label = read_label(planned.run_dir)
    if saved_label != planned.point.label:
        raise ConfigError(
            f"{planned.run_dir} holds a run labelled {saved_label!r} (its {BENCH_FILE}), the grid's is "
            f"{planned.point.label!r}; delete that directory to rerun it, or write this grid to another --out."
        )
    saved = read_run_file(planned.run_dir / CONFIG_FILE)
    wanted = {"pipeline": pipeline, **{k: expected[k] for k in planned.point.options()}}
    differ = [k for k, v in wanted.items() if saved.get(k) != v]
    if differ:
        detail = ", ".join(f"{k}: saved {saved.get(k)!r}, grid {wanted[k]!r}" for k in differ)
        raise ConfigError(
            f"{planned.run_dir} holds a run with other options ({detail}); delete that directory to rerun it "
            f"with the grid's options, or write this grid to another --out."
        )


def plan_grid(spec: GridSpec, out: Path, config_class: type) -> list[PlannedRun]:
    """Plan every run of ``spec`` under ``out``; check its options against ``config_class``.

    Raises ``ConfigError`` (naming the run) for an invalid option or value, and for an existing
    run directory whose saved options differ from the grid's.
    """
    planned: list[PlannedRun] = []
    for point in spec.points():
        run_dir = Path(out) / RUNS_DIR / point.name
        try:
            expected = config_to_dict(build_config(config_class, point.options()))
        except ConfigError as exc:
            raise ConfigError(f"grid point {point.name}: {exc}") from exc
        run = PlannedRun(point, run_dir, run_state(run_dir))
        if run.state != "new":
            _check_existing(run, expected, spec.pipeline)
        planned.append(run)
    return planned

