"""TensorBoard logging of a training run, beside ``log.csv``, when ``tensorboard`` is installed.

Install the optional extra (``pip install "dgen[tensorboard]"``) and every run writes event files to
``<run_dir>/tensorboard/``; ``tensorboard --logdir runs`` shows all runs. Without the package nothing
is written and nothing changes. Logging reads the models without changing them or any random stream,
so a run's results are the same with and without it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from dgen.search import arch_entropy
from dgen_genseg.pipeline.artifacts import predictions_grid, samples_grid
from dgen_genseg.pipeline.evaluate import predict
from dgen_genseg.pipeline.sample_mode import render

__all__ = ["TAGS", "TENSORBOARD_DIR", "TensorBoardLog", "tensorboard_log"]

TENSORBOARD_DIR = "tensorboard"
#: TensorBoard tag of each ``log.csv`` column; other columns go to ``stats/<column>``.
TAGS = {
    "disc": "loss/disc", "gen": "loss/gen", "seg": "loss/seg", "arch": "loss/arch",
    "arch_grad_norm": "hypergrad_norm/arch", "val_dice": "val/dice", "val_jaccard": "val/jaccard",
    "seg_lr": "lr/seg", "skipped": "stats/skipped",
}
_GRID_SEED = 0  # the same masks are drawn for every samples grid, so grids compare across iterations


class TensorBoardLog:
    """Writes one training iteration's scalars and, at validation iterations, image grids.

    Scalars: every loss and statistic of the CSV row (tags in :data:`TAGS`), and the entropy in nats of
    softmax(α) of every searchable cell of the generator (``arch_entropy/<cell path>``; ``log(n)`` is
    undecided, 0 is one-hot). Images: ``samples`` (augmented training mask | generated image) and
    ``predictions`` (training image | truth | segmenter's prediction).

    Args:
        writer: a ``torch.utils.tensorboard.SummaryWriter``.
        n_images: rows of each image grid.
    """

    def __init__(self, writer: Any, n_images: int = 4) -> None:
        self.writer, self.n_images = writer, n_images

    def log(self, iteration: int, row: Mapping[str, float], trainer: Any) -> None:
        """Log ``row`` (a ``log.csv`` row) of ``iteration``; ``trainer`` has ``segmenter`` and ``train`` (a
        ``PairSampler``), and for GenSeg ``generator`` and ``augmenter``."""
        for key, value in row.items():
            if value is not None and math.isfinite(value):
                self.writer.add_scalar(TAGS.get(key, f"stats/{key}"), value, iteration)
        generator = getattr(trainer, "generator", None)
        if generator is not None:
            for path, entropy in arch_entropy(generator).items():
                self.writer.add_scalar(f"arch_entropy/{path}", entropy, iteration)
        if "val_dice" in row:
            self._images(iteration, trainer, generator)

    @torch.no_grad()
    def _images(self, iteration: int, trainer: Any, generator: torch.nn.Module | None) -> None:
        images, masks = trainer.train.images[: self.n_images], trainer.train.masks[: self.n_images]
        panel = {"train": (images, masks, predict(trainer.segmenter, images))}
        self.writer.add_image("predictions", predictions_grid(panel, max_rows=self.n_images), iteration)
        if generator is None:
            return
        augmented, _ = trainer.augmenter(masks, generator=torch.Generator().manual_seed(_GRID_SEED))
        fake = render(generator, augmented, trainer.sample_mode, seed=_GRID_SEED)  # (n, C, H, W) in [0, 1]
        fake = fake.nan_to_num(0.0)
        self.writer.add_image("samples", samples_grid(augmented, fake, max_rows=self.n_images), iteration)

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()


@contextmanager
def tensorboard_log(run_dir: Path, *, resume_from: int = 0) -> Iterator[TensorBoardLog | None]:
    """A :class:`TensorBoardLog` writing to ``run_dir/tensorboard``, or None when tensorboard is not installed.

    On resume, events of iterations ``>= resume_from`` (written after the last checkpoint) are dropped,
    as the CSV log drops its rows.
    """
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # the optional extra is not installed: the CSV log is the only log
        yield None
        return
    board = TensorBoardLog(SummaryWriter(str(run_dir / TENSORBOARD_DIR), purge_step=resume_from or None))
    try:
        yield board
    finally:
        board.close()
