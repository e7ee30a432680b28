"""Reading back a finished GenSeg run directory: its options, its metrics and its task.

Used by the commands that work on finished runs (``dgen generate``, ``dgen predict``,
``dgen evaluate``): the options come from ``config.json``, with the preset resolved for the device
the run trained on (which ``metrics.json`` records), so the networks are rebuilt as they were trained.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dgen.config import build_config
from dgen.errors import ConfigError, DataError
from dgen.run import CONFIG_FILE, METRICS_FILE
from dgen.task import Splits, Task
from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
from dgen_genseg.pipeline.preflight import make_task
from dgen_genseg.rundir import SPLIT_FILE

__all__ = ["FinishedRun", "read_finished_run", "read_json"]


def read_json(path: Path, fix: str) -> Any:
    """The JSON value in ``path``; a ``DataError`` naming the file and ``fix`` when it is not valid JSON."""
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise DataError(f"{path} is not valid JSON ({exc}); {fix}") from exc


@dataclass(frozen=True)
class FinishedRun:
    """A finished GenSeg run: its directory, options (preset resolved) and ``metrics.json``."""

    run_dir: Path
    config: GenSegConfig
    metrics: dict[str, Any]

    def task(self) -> Task:
        """The run's task, built from its options (its datasets must be where the run found them)."""
        return make_task(self.config)

    def splits(self, task: Task | None = None) -> Splits:
        """The run's splits, exactly the items of its ``split.json`` (all pixels read)."""
        path = self.run_dir / SPLIT_FILE
        if not path.is_file():
            raise DataError(f"{self.run_dir} has no {SPLIT_FILE}, so its items are unknown; use an intact run directory.")
        return (task or self.task()).splits(saved=read_json(path, "use an intact run directory."))


def read_finished_run(run_dir: str | Path) -> FinishedRun:
    """Read the finished GenSeg run in ``run_dir``.

    Raises:
        ConfigError: ``run_dir`` is not a run directory, not a GenSeg run, or has not finished.
        DataError: its ``config.json`` or ``metrics.json`` cannot be read.
    """
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        raise ConfigError(
            f"{run_dir} is not a run directory (no {CONFIG_FILE}); pass a directory written by `dgen run genseg`."
        )
    saved = read_json(run_dir / CONFIG_FILE, "pass the directory of an intact run.")
    pipeline = saved.pop("pipeline", None) if isinstance(saved, dict) else None
    if pipeline != "genseg":
        raise ConfigError(f"{run_dir} is a run of pipeline {pipeline!r}, not 'genseg'; pass a `dgen run genseg` run.")
    config = build_config(GenSegConfig, saved, source="saved option")
    if not (run_dir / METRICS_FILE).is_file():
        raise ConfigError(
            f"{run_dir} has no {METRICS_FILE}: the run has not finished; "
            f"finish it with `dgen run genseg --resume {run_dir}`."
        )
    metrics = read_json(run_dir / METRICS_FILE, "use an intact run directory.")
    if not isinstance(metrics, dict):
        raise DataError(f"{run_dir / METRICS_FILE} holds a {type(metrics).__name__}, not an object; use an intact run.")
    try:
        trained_on = torch.device(str(metrics.get("device", "cpu")))
    except RuntimeError:
        raise DataError(
            f"{run_dir / METRICS_FILE} names device {metrics.get('device')!r}, not a torch device; use an intact run."
        ) from None
    return FinishedRun(run_dir, resolve_preset(config, trained_on)[0], metrics)
