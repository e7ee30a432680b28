"""GenSeg (paper Eq. 1-8): the GAN warm-up, then a discriminator step and one MLO iteration over (α, G, S)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, final

from torch import nn

from dgen_genseg.pipeline.levels import GenSegBatch
from dgen_genseg.pipeline.parts import MloStep, Pix2PixStep
from dgen_genseg.pipeline.parts.assembly import Pix2PixParts
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs
from dgen_genseg.pipeline.sample_mode import SampleMode

__all__ = ["GenSeg"]


@final
class GenSeg:
    """For ``warmup_iterations`` one pix2pix step (α fixed at uniform); then, each iteration, one discriminator
    step and one MLO iteration (:class:`~dgen_genseg.pipeline.parts.MloStep`) on: the real batch, its
    augmented masks (the generator's conditions), a validation batch (α's loss) and the real pairs as the
    segmenter sees them (``real_augmenter`` applied). ``arch_lr=0`` is the α-frozen control.

    The GAN's losses see the real pairs as :meth:`Pix2PixStep.real_pairs` gives them (``gan_augment``) and one
    DiffAugment draw per iteration (``diffaugment``); the segmenter's synthetic images come from the generator
    in ``sample_mode`` (default train, the paper)."""

    columns = ("disc", "gen", "seg", "arch", "arch_grad_norm", "skipped")
    default_sample_mode: SampleMode = "train"
    uses_val = True

    def __init__(self, inputs: Pix2PixInputs) -> None:
        self.parts = parts = Pix2PixParts.assemble(inputs, self.default_sample_mode, with_val=self.uses_val)
        self.schedule, self.updates, self.seg = parts.schedule, parts.updates, parts.seg
        self.data, self.sample_mode, self.gan = parts.data, parts.sample_mode, parts.gan
        self.solver_name: str | None = parts.config.solver
        self.mlo = MloStep(parts.config, self.gan, self.seg, self.updates, sample_mode=self.sample_mode)

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.data.real()
        self.gan.train_mode(), self.seg.segmenter.train()
        if self.schedule.in_warmup(iteration):
            return self.gan.step(images, masks)
        gan_images, gan_masks = self.gan.real_pairs(images, masks)
        gan_augment = self.gan.draw(gan_images)  # one DiffAugment draw, shared by D's step and G's loss
        d_loss = self.gan.discriminator_step(gan_images, gan_masks, gan_augment)
        conditions = self.data.augmented_masks(masks)
        val_images, val_masks = self.data.validation(self.parts.config.upper_batch)
        seg_images, seg_masks = self.data.augmented_real(images, masks)
        stats = self.mlo.step(GenSegBatch(
            images, masks, conditions, val_images, val_masks, seg_images, seg_masks, gan_images, gan_masks, gan_augment
        ))
        if d_loss is None:
            return {**stats, "disc": math.nan, "skipped": 1.0}
        return {**stats, "disc": d_loss}

    def saved(self) -> dict[str, Any]:
        return {**self.parts.saved(), **self.mlo.saved()}

    def networks(self) -> dict[str, nn.Module]:
        return self.parts.networks()

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        self.parts.write_artifacts(run_dir, seed)
