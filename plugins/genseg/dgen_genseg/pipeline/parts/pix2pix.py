"""GenSeg's mask-conditioned GAN (pix2pix generator, PatchGAN discriminator): its steps, samples and files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal, final

import torch
from torch import Tensor, nn

from dgen.checkpoint import save_weights
from dgen.search import derive
from dgen_genseg.gan.losses import discriminator_loss, from_tanh_range, generator_loss, to_tanh_range
from dgen_genseg.pipeline.artifacts import save_samples
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.parts.updates import Updates

__all__ = ["Pix2PixStep"]


@final
class Pix2PixStep:
    """The generator (weights and α), the discriminator and their Adam optimisers (lr ``gen_lr``, weight decay
    ``gen_weight_decay``, betas (0.5, 0.999); α is not among the generator's optimised weights here).

    :meth:`step` is one ordinary pix2pix step (discriminator, then generator on adversarial + ``lambda_l1``·L1),
    the GAN warm-up's iteration; GenSeg's MLO replaces the generator's part of it by its ``gen`` level.
    """

    def __init__(self, config: GenSegConfig, generator: nn.Module, discriminator: nn.Module, updates: Updates) -> None:
        self.generator, self.discriminator, self.updates = generator, discriminator, updates
        self.lambda_l1 = config.lambda_l1
        options = dict(lr=config.gen_lr, weight_decay=config.gen_weight_decay, gan=True)
        self.gen_opt = make_optimizer("adam", generator.weight_parameters(), **options)
        self.disc_opt = make_optimizer("adam", discriminator.parameters(), **options)

    def train_mode(self) -> None:
        """Put the generator and the discriminator in training mode."""
        self.generator.train(), self.discriminator.train()

    def discriminator_step(self, images: Tensor, masks: Tensor) -> float | None:
        """One discriminator update on real pairs ``(B, C, H, W)``, ``(B, 1, H, W)`` against the generator's
        images from the same masks; its loss, or None if a NaN/Inf was skipped."""
        condition = to_tanh_range(masks)  # (B, 1, H, W) in {-1, 1}
        with torch.no_grad():
            fake = self.generator(condition)  # (B, C, H, W) in [-1, 1]
        real_logits = self.discriminator(condition, to_tanh_range(images))
        fake_logits = self.discriminator(condition, fake)
        loss = discriminator_loss(real_logits, fake_logits)
        return loss.item() if self.updates.apply("discriminator", loss, self.disc_opt) else None

    def step(self, images: Tensor, masks: Tensor) -> dict[str, float]:
        """One pix2pix step on real pairs: the discriminator, then the generator's weights; log entries
        ``disc``, ``gen`` (NaN where skipped) and ``skipped``."""
        d_loss = self.discriminator_step(images, masks)
        condition = to_tanh_range(masks)
        fake = self.generator(condition)
        logits = self.discriminator(condition, fake)
        loss = generator_loss(logits, fake, to_tanh_range(images), lambda_l1=self.lambda_l1)
        updated = self.updates.apply("gen", loss, self.gen_opt)
        return {
            "disc": math.nan if d_loss is None else d_loss, "gen": loss.item() if updated else math.nan,
            "skipped": 0.0 if updated and d_loss is not None else 1.0,
        }

    @torch.no_grad()
    def synthesize(self, masks: Tensor, *, mode: Literal["train", "eval"]) -> Tensor:
        """Images ``(B, C, H, W)`` in [0, 1] (no gradient) generated from ``masks`` ``(B, 1, H, W)``, with the
        generator left in ``mode`` (eval: no dropout, running BatchNorm statistics)."""
        self.generator.train(mode == "train")
        return from_tanh_range(self.generator(to_tanh_range(masks)))

    def saved(self) -> dict[str, Any]:
        """The parts a checkpoint holds: both networks (α inside the generator) and their optimisers."""
        return {"generator": self.generator, "discriminator": self.discriminator, "gen_opt": self.gen_opt,
                "disc_opt": self.disc_opt}

    def networks(self) -> dict[str, nn.Module]:
        """``{"generator": ..., "discriminator": ...}``."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    def write_artifacts(self, run_dir: Path, conditions: Tensor, real_images: Tensor, real_masks: Tensor) -> None:
        """``genotype.json``, ``generator.safetensors``, ``discriminator.safetensors`` and ``samples.png``: the real
        pairs ``(N, C, H, W)``, ``(N, 1, H, W)``, the masks ``conditions`` ``(N, 1, H, W)`` augmented from them and
        the images generated from those (eval mode)."""
        derive(self.generator).save(run_dir / "genotype.json")
        save_weights(run_dir / "generator.safetensors", self.generator.state_dict())
        save_weights(run_dir / "discriminator.safetensors", self.discriminator.state_dict())
        save_samples(run_dir / "samples.png", conditions, self.synthesize(conditions, mode="eval"),
                     real_images=real_images, real_masks=real_masks)
