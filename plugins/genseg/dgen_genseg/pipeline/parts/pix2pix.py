"""GenSeg's mask-conditioned GAN (pix2pix generator, PatchGAN discriminator): its steps, samples and files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, final

import torch
from torch import Tensor, nn

from dgen.checkpoint import save_weights
from dgen.search import derive
from dgen.augmenter import Augmenter
from dgen_genseg.gan.diffaugment import DiffAugment, DiffAugmentParams
from dgen_genseg.gan.losses import from_tanh_range, to_tanh_range
from dgen_genseg.gan.pair_losses import discriminator_pair_loss, generator_pair_loss, jointly_augmented_pairs
from dgen_genseg.pipeline.artifacts import save_samples
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.parts.updates import Updates
from dgen_genseg.pipeline.sample_mode import SampleMode, render
from dgen_genseg.rundir import DISCRIMINATOR_FILE, GENERATOR_FILE, GENOTYPE_FILE, SAMPLES_FILE

__all__ = ["Pix2PixStep"]


@final
class Pix2PixStep:
    """The generator (weights and α), the discriminator and their Adam optimisers (lr ``gen_lr``, weight decay
    ``gen_weight_decay``, betas (0.5, 0.999); α is not among the generator's optimised weights here).

    :meth:`step` is one ordinary pix2pix step (discriminator, then generator on adversarial + ``lambda_l1``·L1),
    the GAN warm-up's iteration; GenSeg's MLO replaces the generator's part of it by its ``gen`` level.

    The two data-efficiency fixes of the GAN (docs/gan.md): with ``gan_augment`` its losses see the real
    pairs jointly augmented by ``augmenter`` (:meth:`real_pairs`); with a ``diffaugment`` policy the
    discriminator's inputs, real and fake, are transformed by one DiffAugment draw per iteration
    (:meth:`draw`), shared by the discriminator's and the generator's losses. Both draw from one CPU generator
    seeded ``seed + 4`` (``gan_aug_generator`` in the checkpoint, present only when either is on).
    """

    def __init__(
        self, config: GenSegConfig, generator: nn.Module, discriminator: nn.Module, updates: Updates,
        augmenter: Augmenter | None = None,
    ) -> None:
        self.generator, self.discriminator, self.updates = generator, discriminator, updates
        self.lambda_l1 = config.lambda_l1
        options = dict(lr=config.gen_lr, weight_decay=config.gen_weight_decay, gan=True)
        self.gen_opt = make_optimizer("adam", generator.weight_parameters(), **options)
        self.disc_opt = make_optimizer("adam", discriminator.parameters(), **options)
        if config.gan_augment and augmenter is None:
            raise ValueError("gan_augment needs the mask augmenter; pass augmenter=... to Pix2PixStep")
        self.pair_augmenter = augmenter if config.gan_augment else None
        self.diffaugment = DiffAugment(config.diffaugment)
        self.aug_generator = torch.Generator().manual_seed(config.seed + 4)

    @property
    def augments(self) -> bool:
        """Whether the GAN's losses are augmented (``gan_augment`` or a ``diffaugment`` policy)."""
        return self.pair_augmenter is not None or self.diffaugment.enabled

    def train_mode(self) -> None:
        """Put the generator and the discriminator in training mode."""
        self.generator.train(), self.discriminator.train()

    def real_pairs(self, images: Tensor, masks: Tensor) -> tuple[Tensor, Tensor]:
        """The real pairs ``(B, C, H, W)``, ``(B, 1, H, W)`` the GAN's losses use: jointly augmented by the mask
        augmenter with ``gan_augment``, else as given."""
        if self.pair_augmenter is None:
            return images, masks
        return jointly_augmented_pairs(self.pair_augmenter, images, masks, generator=self.aug_generator)

    def draw(self, images: Tensor) -> DiffAugmentParams | None:
        """One DiffAugment draw for the batch ``images`` ``(B, C, H, W)``, or None without a policy."""
        if not self.diffaugment.enabled:
            return None
        return self.diffaugment.sample(images.shape[0], images.shape[2], images.shape[3], self.aug_generator)

    def discriminator_step(
        self, images: Tensor, masks: Tensor, params: DiffAugmentParams | None = None
    ) -> float | None:
        """One discriminator update on real pairs ``(B, C, H, W)``, ``(B, 1, H, W)`` against the generator's
        images from the same masks, both transformed by the DiffAugment draw ``params`` (None: not augmented);
        its loss, or None if a NaN/Inf was skipped."""
        with torch.no_grad():
            fake = self.generator(to_tanh_range(masks))  # (B, C, H, W) in [-1, 1]
        loss = discriminator_pair_loss(self.discriminator, masks, images, fake, params=params)
        return loss.item() if self.updates.apply("discriminator", loss, self.disc_opt) else None

    def step(self, images: Tensor, masks: Tensor) -> dict[str, float]:
        """One pix2pix step on real pairs (augmented as :meth:`real_pairs` says, one :meth:`draw` for both
        losses): the discriminator, then the generator's weights; log entries ``disc``, ``gen`` (NaN where
        skipped) and ``skipped``."""
        images, masks = self.real_pairs(images, masks)
        params = self.draw(images)
        d_loss = self.discriminator_step(images, masks, params)
        fake = self.generator(to_tanh_range(masks))  # (B, C, H, W) in [-1, 1]
        loss = generator_pair_loss(self.discriminator, masks, images, fake, lambda_l1=self.lambda_l1, params=params)
        updated = self.updates.apply("gen", loss, self.gen_opt)
        return {
            "disc": math.nan if d_loss is None else d_loss, "gen": loss.item() if updated else math.nan,
            "skipped": 0.0 if updated and d_loss is not None else 1.0,
        }

    @torch.no_grad()
    def synthesize(self, masks: Tensor, *, mode: SampleMode) -> Tensor:
        """Images ``(B, C, H, W)`` in [0, 1] (no gradient) generated from ``masks`` ``(B, 1, H, W)``, with the
        generator left in ``mode`` (eval: no dropout, running BatchNorm statistics)."""
        self.generator.train(mode == "train")
        return from_tanh_range(self.generator(to_tanh_range(masks)))

    def saved(self) -> dict[str, Any]:
        """The parts a checkpoint holds: both networks (α inside the generator), their optimisers and, when the
        GAN's losses are augmented, the augmentations' generator."""
        parts = {"generator": self.generator, "discriminator": self.discriminator, "gen_opt": self.gen_opt,
                 "disc_opt": self.disc_opt}
        return {**parts, "gan_aug_generator": self.aug_generator} if self.augments else parts

    def networks(self) -> dict[str, nn.Module]:
        """``{"generator": ..., "discriminator": ...}``."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    def write_artifacts(
        self, run_dir: Path, conditions: Tensor, real_images: Tensor, real_masks: Tensor, *, mode: SampleMode
    ) -> None:
        """``genotype.json``, ``generator.safetensors``, ``discriminator.safetensors`` and ``samples.png``: the real
        pairs ``(N, C, H, W)``, ``(N, 1, H, W)``, the masks ``conditions`` ``(N, 1, H, W)`` augmented from them and
        the images generated from those in ``mode`` (the run's sample mode; train: dropout seeded 0)."""
        derive(self.generator).save(run_dir / GENOTYPE_FILE)
        save_weights(run_dir / GENERATOR_FILE, self.generator.state_dict())
        save_weights(run_dir / DISCRIMINATOR_FILE, self.discriminator.state_dict())
        save_samples(run_dir / SAMPLES_FILE, conditions, render(self.generator, conditions, mode, seed=0),
                     real_images=real_images, real_masks=real_masks)
