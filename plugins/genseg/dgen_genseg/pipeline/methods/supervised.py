"""Classic supervised training: the segmenter alone on real pairs, classically augmented or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any, final

import torch
from torch import nn

from dgen.augmenter import Augmenter
from dgen.plugins import create
from dgen.task import Task
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import SegLoss
from dgen_genseg.pipeline.parts import SEG_LOSSES, PairStream, Schedule, SegmenterStep, Updates
from dgen_genseg.pipeline.parts.networks import make_segmenter
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["CLASSIC", "Supervised"]

#: the classic methods: method name -> the augmenter of its real pairs (None: as drawn). ``strong`` is
#: nnU-Net-style geometric + elastic + photometric augmentation, the augmenter registered as ``strong``.
CLASSIC: dict[str, str | None] = {
    "none": None, "rotate": "rotate", "flip": "flip", "translate": "translate", "combine": "combine", "strong": "strong",
}


@final
class Supervised:
    """The segmenter alone on real pairs for ``iterations``, each batch augmented by a paired augmenter or
    not (the paper's baselines); the same segmenter, optimiser, budget and model selection as every method."""

    columns = ("seg", "skipped")
    solver_name = None

    def __init__(
        self, config: GenSegConfig, segmenter: nn.Module, seg_loss: SegLoss, train: PairSampler, augmenter: Augmenter | None
    ) -> None:
        self.schedule = Schedule(config.iterations)
        self.updates = Updates(config)
        self.seg = SegmenterStep(config, segmenter, seg_loss, self.updates)
        self.data = PairStream(config, train, real_augmenter=augmenter)

    @classmethod
    def build(
        cls, *, config: GenSegConfig, task: Task, train: PairSampler, val: PairSampler, device: torch.device,
        augmenter: str | None = None,
    ) -> Supervised:
        """The method with the augmenter registered as ``augmenter`` (None: none)."""
        segmenter = make_segmenter(config, task, device)
        paired = None if augmenter is None else create("augmenters", augmenter)
        return cls(config, segmenter, SEG_LOSSES[config.seg_loss], train, paired)

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.data.augmented_real(*self.data.real())
        return self.seg.on_real(images, masks)

    def saved(self) -> dict[str, Any]:
        return {}

    def networks(self) -> dict[str, nn.Module]:
        return {}

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        """A classic method has no files of its own."""
