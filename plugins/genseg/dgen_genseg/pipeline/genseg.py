"""The ``genseg`` pipeline: ``dgen run genseg --task isic --backbone unet``.

It checks everything it can before loading pixels or training (see :mod:`.preflight`:
names, options, sizes and every data file); builds the task's splits, the segmenter, and
(method ``genseg``) the searchable generator, discriminator and mask augmenter; trains with
the chosen method; keeps the best-on-validation segmenter as the final model; evaluates every
test set once, at the end; and writes the run directory's artifacts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from dgen.checkpoint import atomic_write_text, load_weights, save_weights
from dgen.errors import DataError
from dgen.pipeline import Pipeline, RunContext
from dgen.rng import seed_everything
from dgen.rundir import LOG_FILE, METRICS_FILE, OUT_OF_DOMAIN_KEY
from dgen.task import Splits, Task
from dgen_genseg.pipeline.artifacts import save_predictions
from dgen_genseg.pipeline.config import PRESETS, GenSegConfig, resolve_preset
from dgen_genseg.pipeline.curves import save_loss_curves
from dgen_genseg.pipeline.evaluate import evaluate, predict
from dgen_genseg.pipeline.loop import train
from dgen_genseg.pipeline.methods import build_trainer
from dgen_genseg.pipeline.preflight import forget_failed_start, make_task, preflight
from dgen_genseg.pipeline.records import GENSEG_RECORDS
from dgen_genseg.pipeline.scoring import Scorer
from dgen_genseg.pipeline.sampler import PairSampler, stack_pairs
from dgen_genseg.pipeline.tidy import remove_resume_files
from dgen_genseg.rundir import BEST_SEGMENTER, CASES_FILE, LOSS_CURVES, PREDICTIONS_FILE, SEGMENTER_FILE, SPLIT_FILE

__all__ = ["GenSegPipeline"]

console = Console(stderr=True)


def _splits(config: GenSegConfig, run_dir: Path, resume: bool, task: Task | None = None) -> tuple[Task, Splits]:
    """The task (built from ``config`` unless given) and its splits: the saved ones on resume."""
    task = make_task(config) if task is None else task
    path = run_dir / SPLIT_FILE
    saved = json.loads(path.read_text()) if resume and path.is_file() else None
    splits = task.splits(saved=saved)
    if saved is None:
        atomic_write_text(path, json.dumps({k: list(v) for k, v in splits.ids.items()}, indent=1) + "\n")
    return task, splits


class GenSegPipeline(Pipeline):
    """GenSeg (paper Eq. 1-8) and its supervised baselines on any registered task and segmenter."""

    config_class = GenSegConfig
    presets = PRESETS
    records = GENSEG_RECORDS

    def run(self, config: GenSegConfig, context: RunContext) -> dict[str, Any]:
        device, run_dir = context.device, context.run_dir
        config, preset = resolve_preset(config, device)
        if context.progress:
            console.print(f"preset '{preset}' ({'chosen for ' + device.type if config.preset == 'auto' else 'as asked'}): "
                          f"{config.image_size}px, batch {config.batch_size}, {config.iterations} iterations")
        with forget_failed_start(run_dir, fresh=not context.resume, written=[SPLIT_FILE]):
            task = preflight(config, console=console)
            seed_everything(config.seed)
            task, splits = _splits(config, run_dir, context.resume, task)
            if len(splits.train) == 0 or len(splits.val) == 0:
                raise DataError(f"task '{config.task}' gave {len(splits.train)} training and {len(splits.val)} "
                                f"validation pairs; raise --set n_labeled (now {config.n_labeled}).")
            train_pairs = PairSampler(splits.train, device, config.seed)
            val_pairs = PairSampler(splits.val, device, config.seed + 1)
            trainer = build_trainer(config, task, train_pairs, val_pairs, device)
        segmenter = trainer.segmenter

        def validate() -> dict[str, float]:
            return evaluate(segmenter, val_pairs.images, val_pairs.masks, hd95=False)

        result = train(
            trainer, validate=validate, run_dir=run_dir, val_every=config.val_every,
            checkpoint_every=config.checkpoint_every, resume=context.resume,
            progress=context.progress, plateau_patience=config.seg_plateau_patience, log_every=config.log_every,
            heartbeat=context.heartbeat,
        )
        save_loss_curves(run_dir / LOG_FILE, run_dir / LOSS_CURVES)
        segmenter.load_state_dict(load_weights(run_dir / BEST_SEGMENTER, device))
        save_weights(run_dir / SEGMENTER_FILE, segmenter.state_dict())
        if result.skipped_steps:
            console.print(f"warning: {result.skipped_steps} iteration(s) had a NaN/Inf and were (partly) skipped "
                          f"(nan_policy=skip); see the 'skipped' column of {run_dir / LOG_FILE}",
                          style="yellow", markup=False, highlight=False, soft_wrap=True)
        trainer.write_artifacts(run_dir, config.seed)
        evaluation_started = time.perf_counter()
        scorer, panels = Scorer(segmenter), {}
        for name, dataset in splits.test.items():
            images, masks = stack_pairs(dataset, device)
            scorer.add(name, dataset, images, masks)
            panels[name] = (images[:4], masks[:4], predict(segmenter, images[:4]))
        if panels:
            save_predictions(run_dir / PREDICTIONS_FILE, panels)
        metrics = {
            "pipeline": "genseg", "task": config.task, "backbone": config.backbone, "method": config.method,
            "solver": trainer.method.solver_name, "seed": config.seed,
            "n_train": len(splits.train), "n_val": len(splits.val), "image_size": config.image_size,
            "channels": task.channels,
            "iterations": trainer.total_iterations, "best_iteration": result.best_iteration,
            "val": {"dice": result.best_val["dice"], "jaccard": result.best_val["jaccard"]},
            **scorer.metrics(), OUT_OF_DOMAIN_KEY: sorted(splits.out_of_domain),
            "wall_seconds": round(result.wall_seconds + time.perf_counter() - evaluation_started, 2), "device": str(device),
        }
        scorer.cases.write_csv(run_dir / CASES_FILE)
        atomic_write_text(run_dir / METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
        if not config.keep_checkpoint:
            remove_resume_files(run_dir)
        return metrics
