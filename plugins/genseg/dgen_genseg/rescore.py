"""``dgen evaluate``: re-score finished runs from their saved best segmenter, without retraining.

The run's test sets are rebuilt from ``config.json`` and ``split.json`` (the task's data must still be
where the run found it) and scored as a run now scores them at its end (:mod:`.pipeline.scoring`):
``metrics.json`` gets ``"test"`` at native resolution, ``"test_at_image_size"``, ``"test_resolution"``
and ``"channels"`` (every other key kept as it was) and ``test_cases.csv`` is (re)written. Nothing is
written until every score is computed, so a failure leaves the run as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dgen.checkpoint import atomic_write_text
from dgen.device import resolve_device
from dgen.run import METRICS_FILE
from dgen_genseg.pipeline.sampler import stack_pairs
from dgen_genseg.pipeline.scoring import Scorer, rescored
from dgen_genseg.predictor import run_predictor
from dgen_genseg.finished_run import read_finished_run
from dgen_genseg.rundir import CASES_FILE

__all__ = ["evaluate_run"]


def evaluate_run(run_dir: str | Path, *, device: str = "auto") -> dict[str, Any]:
    """Re-score the finished GenSeg run in ``run_dir`` at native resolution; return its updated metrics.

    Raises:
        ConfigError: not a finished GenSeg run.
        DataError: its files or its task's data cannot be read.
    """
    run_dir = Path(run_dir)
    run = read_finished_run(run_dir)
    task = run.task()
    predictor = run_predictor(run, device=resolve_device(device), channels=task.channels)
    splits = run.splits(task)
    scorer = Scorer(predictor.model)
    for name, dataset in splits.test.items():
        images, masks = stack_pairs(dataset, predictor.device)
        scorer.add(name, dataset, images, masks)
    metrics = rescored({**run.metrics, "channels": task.channels}, scorer)
    scorer.cases.write_csv(run_dir / CASES_FILE)
    atomic_write_text(run_dir / METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
    return metrics
