"""The training loop shared by every method: iterate, validate, keep the best, checkpoint, resume.

The state of a run lives in ``checkpoint.safetensors`` (written atomically every
``checkpoint_every`` iterations, at the end and when the run is interrupted by
SIGINT/SIGTERM); the best-on-validation segmenter in ``segmenter_best.safetensors``.
A NaN stops the run without overwriting the last good checkpoint.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from dgen.checkpoint import load_state, save_state, save_weights
from dgen.errors import DgenError
from dgen.rng import rng_state, set_rng_state
from dgen_genseg.pipeline.logbook import CsvLog

__all__ = ["TrainResult", "train", "CHECKPOINT", "BEST_SEGMENTER", "Interrupted"]

CHECKPOINT = "checkpoint.safetensors"
BEST_SEGMENTER = "segmenter_best.safetensors"


class Interrupted(DgenError):
    """The run was stopped by a signal after saving its checkpoint."""


@dataclass(frozen=True)
class TrainResult:
    """Outcome of training: the best validation scores and when they were reached."""

    best_iteration: int
    best_val: dict[str, float]
    wall_seconds: float


@contextmanager
def _stop_on_signal() -> Iterator[list[int]]:
    """Collect SIGINT/SIGTERM instead of dying mid-step; the loop stops at the next iteration boundary."""
    received: list[int] = []
    handlers = {}

    def handler(signum: int, _frame: Any) -> None:
        received.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            handlers[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: signals cannot be caught here
            pass
    try:
        yield received
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[stats]}"),
        disable=not enabled,
        transient=False,
    )


def train(
    trainer: Any,
    *,
    validate: Callable[[], dict[str, float]],
    run_dir: Path,
    val_every: int,
    checkpoint_every: int,
    columns: list[str],
    resume: bool,
    progress: bool,
    plateau_patience: int | None = None,
) -> TrainResult:
    """Run ``trainer.step(i)`` for ``i`` in ``[start, trainer.total_iterations)``.

    Args:
        trainer: has ``step(i) -> dict``, ``total_iterations``, ``segmenter_starts`` (the first
            iteration that trains the segmenter), ``segmenter``, ``seg_opt``,
            ``state_dict()``, ``load_state_dict()``.
        validate: returns the validation ``{"dice", "jaccard"}`` of the current segmenter.
        run_dir: where the checkpoint, the best segmenter and ``log.csv`` go.
        val_every: validate every this many iterations (and at the last one).
        checkpoint_every: write the checkpoint every this many iterations.
        columns: the loss columns of the CSV log.
        resume: continue from ``run_dir/checkpoint.safetensors``.
        plateau_patience: if set, ReduceLROnPlateau (mode max, on validation Dice) for the segmenter.
    """
    scheduler = None
    if plateau_patience is not None:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(trainer.seg_opt, mode="max", patience=plateau_patience)
    start, best_score, best_iteration, best_val, wall = 0, -1.0, -1, {"dice": 0.0, "jaccard": 0.0}, 0.0
    if resume and (run_dir / CHECKPOINT).is_file():
        state = load_state(run_dir / CHECKPOINT)
        trainer.load_state_dict(state["trainer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        start, wall = state["iteration"], state["wall_seconds"]
        best_score, best_iteration, best_val = state["best_score"], state["best_iteration"], state["best_val"]
    log = CsvLog(run_dir / "log.csv", [*columns, "val_dice", "val_jaccard", "seg_lr"], resume_from=start)
    total = trainer.total_iterations

    def checkpoint(next_iteration: int, elapsed: float) -> None:
        save_state(
            run_dir / CHECKPOINT,
            {
                "trainer": trainer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "rng": rng_state(),
                "iteration": next_iteration,
                "wall_seconds": elapsed,
                "best_score": best_score,
                "best_iteration": best_iteration,
                "best_val": best_val,
            },
        )

    began = time.perf_counter() - wall
    with _stop_on_signal() as signals, _progress(progress) as bar:
        task = bar.add_task("training", total=total, completed=start, stats="")
        for iteration in range(start, total):
            stats = trainer.step(iteration)
            row = dict(stats)
            last = iteration == total - 1
            trains_segmenter = iteration >= trainer.segmenter_starts  # no validation (nor lr decay) during warm-up
            if trains_segmenter and ((iteration + 1) % val_every == 0 or last):
                val = validate()
                row.update(val_dice=val["dice"], val_jaccard=val["jaccard"])
                if scheduler is not None:
                    scheduler.step(val["dice"])
                if val["dice"] > best_score:
                    best_score, best_iteration, best_val = val["dice"], iteration + 1, dict(val)
                    save_weights(run_dir / BEST_SEGMENTER, trainer.segmenter.state_dict())
            row["seg_lr"] = trainer.seg_opt.param_groups[0]["lr"]
            log.write(iteration, row)
            shown = " ".join(f"{k}={v:.3g}" for k, v in row.items() if k in columns or k == "val_dice")
            bar.update(task, advance=1, stats=f"{shown} best={best_score:.3f}")
            if (iteration + 1) % checkpoint_every == 0 or last or signals:
                checkpoint(iteration + 1, time.perf_counter() - began)
            if signals and not last:
                raise Interrupted(
                    f"stopped by signal {signals[0]} after iteration {iteration + 1}; "
                    f"the checkpoint is saved: continue with --resume {run_dir}"
                )
    return TrainResult(best_iteration, best_val, time.perf_counter() - began)
