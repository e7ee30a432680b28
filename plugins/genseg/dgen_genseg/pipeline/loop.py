"""The training loop shared by every method: iterate, validate, keep the best, checkpoint, resume.

``checkpoint.safetensors`` holds everything a resumed run needs to continue exactly where the
saved one was: the trainer's state (every network, α inside the generator, every optimizer,
the solver, the batch and augmentation generators), the plateau scheduler, the Python, NumPy,
torch and CUDA generators, the next iteration, the wall time, the number of skipped steps, and
the best validation scores with the best segmenter's weights. It is written atomically (see
:mod:`dgen.checkpoint`) every ``checkpoint_every`` iterations, after the last one and when the
run is stopped by SIGINT/SIGTERM, so a kill at any moment leaves the previous one intact.
``segmenter_best.safetensors`` holds the best-on-validation segmenter; a resumed run rewrites it
from the checkpoint, so it never runs ahead of the state that is resumed.

A NaN or Inf (a loss, a gradient, the validation predictions, or weights about to be saved)
stops the run with a ``NumericalError`` naming the iteration and, where known, the level and
the option that fixes it; the last good checkpoint is never overwritten by a bad state.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from torch import Tensor

from dgen.checkpoint import load_state, save_state, save_weights
from dgen.errors import DgenError, NumericalError, ResumeError
from dgen.rng import rng_state, set_rng_state
from dgen.rundir import LOG_FILE
from dgen_genseg.pipeline.logbook import CsvLog
from dgen_genseg.pipeline.plain_log import PlainProgress, wants_plain_lines
from dgen_genseg.pipeline.records import SEG_ITERATION
from dgen_genseg.pipeline.state_checks import check_checkpoint, first_nonfinite
from dgen_genseg.pipeline.tensorboard import tensorboard_log
from dgen_genseg.pipeline.parts.state import state_level
from dgen_genseg.rundir import BEST_SEGMENTER, CHECKPOINT

__all__ = ["TrainResult", "train", "Interrupted"]

_SHOWN_ERROR = 300  # characters of a library's error kept in a one-line message


class Interrupted(DgenError):
    """The run was stopped by a signal after saving its checkpoint."""


@dataclass(frozen=True)
class TrainResult:
    """Outcome of training: the best validation scores, when they were reached, and how many
    iterations were skipped for NaN/Inf (``nan_policy="skip"``)."""

    best_iteration: int
    best_val: dict[str, float]
    wall_seconds: float
    skipped_steps: int


@dataclass
class _Best:
    """The best validation so far: Dice, the iteration count it was reached at, the scores, the
    segmenter's weights (a CPU copy, so that checkpoints carry them)."""

    score: float = -1.0
    iteration: int = -1
    val: dict[str, float] = field(default_factory=lambda: {"dice": 0.0, "jaccard": 0.0})
    weights: dict[str, Tensor] | None = None

    def state_dict(self) -> dict[str, Any]:
        return {"score": self.score, "iteration": self.iteration, "val": self.val, "segmenter": self.weights}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> _Best:
        return cls(state["score"], state["iteration"], dict(state["val"]), state["segmenter"])


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


def _progress(enabled: bool, log_every: int) -> Progress | PlainProgress:
    if enabled and wants_plain_lines():  # no terminal (Slurm, CI, nohup): plain lines instead of a bar
        return PlainProgress(log_every)
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


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= _SHOWN_ERROR else text[:_SHOWN_ERROR] + " ..."


def _restore(path: Path, trainer: Any, scheduler: Any) -> tuple[int, float, int, _Best]:
    """Load the checkpoint at ``path`` into ``trainer``, ``scheduler`` and the global RNGs;
    return ``(next iteration, wall seconds, skipped steps, best)``."""
    state = load_state(path)
    check_checkpoint(
        state, path, expected=trainer.state_dict(), total=trainer.total_iterations, optimizers=trainer.optimizers()
    )
    try:
        trainer.load_state_dict(state["trainer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        return state["iteration"], state["wall_seconds"], state["skipped_steps"], _Best.from_state(state["best"])
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise ResumeError(
            f"checkpoint {path} does not fit this run ({type(exc).__name__}: {_one_line(exc)}); it was written by "
            f"another version of dgen: resume with that version, or delete the checkpoint to restart the run."
        ) from exc


def train(
    trainer: Any,
    *,
    validate: Callable[[], dict[str, float]],
    run_dir: Path,
    val_every: int,
    checkpoint_every: int,
    resume: bool,
    progress: bool,
    plateau_patience: int | None = None,
    log_every: int = 50,
    heartbeat: Callable[[int, int], None] = lambda done, total: None,
) -> TrainResult:
    """Run ``trainer.step(i)`` for ``i`` in ``[start, trainer.total_iterations)``.

    Args:
        trainer: has ``step(i) -> dict``, ``columns`` (the keys of that dict to log),
            ``total_iterations``, ``segmenter_starts`` (the first iteration that trains the
            segmenter), ``segmenter``, ``seg_opt``, ``nan_advice(level)``, ``state_dict()``,
            ``load_state_dict()``, ``optimizers()`` (its optimisers by their name in ``state_dict()``).
        validate: returns the validation ``{"dice", "jaccard"}`` of the current segmenter.
        run_dir: where the checkpoint, the best segmenter and ``log.csv`` go.
        val_every: validate every this many iterations (and at the last one).
        checkpoint_every: write the checkpoint every this many iterations.
        resume: continue from ``run_dir/checkpoint.safetensors`` (from the start if there is none).
        plateau_patience: if set, ReduceLROnPlateau (mode max, on validation Dice) for the segmenter.
        log_every: when stdout is not a terminal, print a plain progress line every this many iterations.
        heartbeat: called with ``(iterations done, total)`` after each iteration (``RunContext.heartbeat``).

    Raises:
        NumericalError: a NaN/Inf; the message names the iteration, the level and the fix.
        Interrupted: SIGINT/SIGTERM; the checkpoint was saved first.
        ResumeError: the checkpoint cannot be read or does not fit the trainer.
    """
    scheduler = None
    if plateau_patience is not None:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(trainer.seg_opt, mode="max", patience=plateau_patience)
    start, wall, skipped, best = 0, 0.0, 0, _Best()
    saved_at: int | None = None  # the iteration count of the last good checkpoint
    if resume and (run_dir / CHECKPOINT).is_file():
        start, wall, skipped, best = _restore(run_dir / CHECKPOINT, trainer, scheduler)
        saved_at = start
        if best.weights is not None:
            save_weights(run_dir / BEST_SEGMENTER, best.weights)
    columns = list(trainer.columns)
    log = CsvLog(run_dir / LOG_FILE, [*columns, SEG_ITERATION, "val_dice", "val_jaccard", "seg_lr"], resume_from=start)
    total = trainer.total_iterations

    def kept() -> str:
        if saved_at is None:
            return f"no checkpoint had been written yet (the first comes after iteration {min(checkpoint_every, total)})"
        return f"the last good checkpoint (after iteration {saved_at}) is kept in {run_dir / CHECKPOINT}"

    def checkpoint(next_iteration: int, elapsed: float) -> None:
        state = trainer.state_dict()
        bad = first_nonfinite(state)
        if bad is not None:
            level = state_level(bad)
            fix = trainer.nan_advice(level) if level else "lower the learning rates"
            raise NumericalError(
                f"after iteration {next_iteration} of {total}, {bad} holds NaN/Inf values (an update overflowed); "
                f"not saving that state: {fix}; {kept()}."
            )
        save_state(
            run_dir / CHECKPOINT,
            {
                "trainer": state,
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "rng": rng_state(),
                "iteration": next_iteration,
                "wall_seconds": elapsed,
                "skipped_steps": skipped,
                "best": best.state_dict(),
            },
        )

    began = time.perf_counter() - wall
    last_val = best.val["dice"] if best.iteration >= 0 else None  # the latest validation Dice, shown with progress
    with _stop_on_signal() as signals, _progress(progress, log_every) as bar, tensorboard_log(run_dir, resume_from=start) as tb:
        task = bar.add_task("training", total=total, completed=start, stats="")
        for iteration in range(start, total):
            try:
                stats = trainer.step(iteration)
            except NumericalError as err:
                raise NumericalError(f"iteration {iteration + 1} of {total}: {str(err).rstrip('.')}; {kept()}.") from err
            skipped += int(stats.get("skipped", 0.0) > 0)
            row = dict(stats)
            last = iteration == total - 1
            trains_segmenter = iteration >= trainer.segmenter_starts  # no validation (nor lr decay) during warm-up
            if trains_segmenter and ((iteration + 1) % val_every == 0 or last):
                try:
                    val = validate()
                except NumericalError as err:
                    raise NumericalError(
                        f"validation after iteration {iteration + 1} of {total}: {str(err).rstrip('.')}; "
                        f"{trainer.nan_advice('seg')}; {kept()}."
                    ) from err
                row.update(val_dice=val["dice"], val_jaccard=val["jaccard"])
                if scheduler is not None:
                    scheduler.step(val["dice"])
                if val["dice"] > best.score:
                    weights = {k: v.detach().to("cpu", copy=True) for k, v in trainer.segmenter.state_dict().items()}
                    best = _Best(val["dice"], iteration + 1, dict(val), weights)
                    save_weights(run_dir / BEST_SEGMENTER, weights)
            row["seg_lr"] = trainer.seg_opt.param_groups[0]["lr"]
            # seg_iteration (segmenter updates so far) puts methods with and without a GAN warm-up on one x axis
            seg_iteration = iteration - trainer.segmenter_starts + 1 if trains_segmenter else None
            log.write(iteration, {**row, SEG_ITERATION: seg_iteration})
            heartbeat(iteration + 1, total)
            if tb is not None:  # tensorboard installed: the same row, α entropies and image grids
                tb.log(iteration, row, trainer)
            last_val = row.get("val_dice", last_val)
            shown = " ".join(f"{k}={v:.3g}" for k, v in row.items() if k in columns)
            val = f" val_dice={last_val:.3f} best={best.score:.3f}" if last_val is not None else ""
            bar.update(task, advance=1, stats=f"{shown}{val}")
            if (iteration + 1) % checkpoint_every == 0 or last or signals:
                checkpoint(iteration + 1, time.perf_counter() - began)
                saved_at = iteration + 1
            if signals and not last:
                raise Interrupted(
                    f"stopped by signal {signals[0]} after iteration {iteration + 1}; "
                    f"the checkpoint is saved: continue with --resume {run_dir}"
                )
    return TrainResult(best.iteration, best.val, time.perf_counter() - began, skipped)
