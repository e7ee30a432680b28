"""One training iteration per method: GenSeg's MLO step, or plain supervised training.

A trainer owns its models and optimisers, performs ``step(iteration)`` and saves or
restores everything it needs to resume (``state_dict`` / ``load_state_dict``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from dgen.augmenter import Augmenter
from dgen.errors import NumericalError
from dgen.mlo import Problem
from dgen.plugins import create
from dgen_genseg.gan.losses import discriminator_loss, generator_loss, to_tanh_range
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import ArchLevel, GenLevel, GenSegBatch, SegLevel, SegLoss
from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["SupervisedTrainer", "GenSegTrainer", "check_finite"]


def check_finite(level: str, iteration: int, value: Tensor, fix: str) -> None:
    """Raise ``NumericalError`` naming ``level`` and ``iteration`` if ``value`` is NaN or Inf."""
    if not torch.isfinite(value).all():
        raise NumericalError(f"the {level} loss became {value.item()} at iteration {iteration}; {fix}")


class SupervisedTrainer:
    """The segmenter alone on real pairs, optionally with classic paired augmentation (baselines)."""

    def __init__(
        self,
        config: GenSegConfig,
        segmenter: nn.Module,
        seg_loss: SegLoss,
        train: PairSampler,
        augmenter: Augmenter | None,
    ) -> None:
        self.config, self.segmenter, self.seg_loss, self.train = config, segmenter, seg_loss, train
        self.augmenter = augmenter
        self.seg_opt = make_optimizer(
            config.seg_optimizer, segmenter.parameters(), lr=config.seg_lr, weight_decay=config.seg_weight_decay
        )
        self.aug_generator = torch.Generator().manual_seed(config.seed + 2)

    @property
    def total_iterations(self) -> int:
        return self.config.iterations

    @property
    def segmenter_starts(self) -> int:
        """The first iteration that trains the segmenter (validation starts there)."""
        return 0

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.train.sample(self.config.batch_size)
        if self.augmenter is not None:
            masks, images = self.augmenter(masks, images, generator=self.aug_generator)
        self.segmenter.train()
        loss = self.seg_loss(self.segmenter(images), masks)
        if not torch.isfinite(loss):
            if self.config.nan_policy == "skip":
                return {"seg": math.nan, "skipped": 1.0}
            check_finite("seg", iteration, loss, "lower seg_lr (--set seg_lr=...) or check the data.")
        self.seg_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.seg_opt.step()
        return {"seg": loss.item()}

    def state_dict(self) -> dict[str, Any]:
        return {
            "segmenter": self.segmenter.state_dict(),
            "seg_opt": self.seg_opt.state_dict(),
            "train": self.train.state_dict(),
            "aug_generator": self.aug_generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.segmenter.load_state_dict(state["segmenter"])
        self.seg_opt.load_state_dict(state["seg_opt"])
        self.train.load_state_dict(state["train"])
        self.aug_generator.set_state(state["aug_generator"])


class GenSegTrainer(SupervisedTrainer):
    """GenSeg: discriminator step, then one MLO iteration over (α, G, S) (paper Eq. 5-8).

    The first ``warmup_iterations`` train only the GAN (pix2pix on the run's own
    training pairs, α fixed), so that the segmenter does not learn from noise images.
    """

    def __init__(
        self,
        config: GenSegConfig,
        segmenter: nn.Module,
        seg_loss: SegLoss,
        train: PairSampler,
        val: PairSampler,
        augmenter: Augmenter,
        generator: nn.Module,
        discriminator: nn.Module,
    ) -> None:
        super().__init__(config, segmenter, seg_loss, train, augmenter)
        self.val, self.generator, self.discriminator = val, generator, discriminator
        c = config
        self.gen_opt = make_optimizer("adam", generator.weight_parameters(), lr=c.gen_lr, weight_decay=c.gen_weight_decay, gan=True)
        self.arch_opt = make_optimizer("adam", generator.arch_parameters(), lr=c.arch_lr, weight_decay=c.arch_weight_decay, gan=True)
        self.disc_opt = make_optimizer("adam", discriminator.parameters(), lr=c.gen_lr, weight_decay=c.gen_weight_decay, gan=True)
        self.problem = Problem(
            [
                ArchLevel(
                    "arch", params=generator.arch_parameters(), optimizer=self.arch_opt, lower=("seg",), direct=False,
                    segmenter=segmenter, seg_loss=seg_loss,
                ),
                GenLevel(
                    "gen", params=generator.weight_parameters(), optimizer=self.gen_opt, upper=("arch",),
                    unroll_steps=c.unroll_steps, generator=generator, discriminator=discriminator, lambda_l1=c.lambda_l1,
                ),
                SegLevel(
                    "seg", params=list(segmenter.parameters()), optimizer=self.seg_opt, upper=("gen",),
                    unroll_steps=c.unroll_steps, generator=generator, segmenter=segmenter, seg_loss=seg_loss, gamma=c.gamma,
                ),
            ]
        )
        options: dict[str, Any] = {"nan_policy": c.nan_policy}
        if c.solver == "unroll":
            options.update(backend=c.backend, reuse_grads=c.reuse_grads)
        self.solver = create("solvers", c.solver, problem=self.problem, **options)

    @property
    def total_iterations(self) -> int:
        return self.config.warmup_iterations + self.config.iterations

    @property
    def segmenter_starts(self) -> int:
        return self.config.warmup_iterations

    def _discriminator_step(self, iteration: int, images: Tensor, masks: Tensor) -> float | None:
        condition = to_tanh_range(masks)  # (B, 1, H, W) in {-1, 1}
        with torch.no_grad():
            fake = self.generator(condition)  # (B, C, H, W) in [-1, 1]
        real_logits = self.discriminator(condition, to_tanh_range(images))
        fake_logits = self.discriminator(condition, fake)
        loss = discriminator_loss(real_logits, fake_logits)
        if not torch.isfinite(loss):
            if self.config.nan_policy == "skip":
                return None
            check_finite("discriminator", iteration, loss, "lower gen_lr (also the discriminator's learning rate).")
        self.disc_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.disc_opt.step()
        return loss.item()

    def _warmup_step(self, iteration: int, images: Tensor, masks: Tensor) -> dict[str, float]:
        condition = to_tanh_range(masks)
        fake = self.generator(condition)
        logits = self.discriminator(condition, fake)
        loss = generator_loss(logits, fake, to_tanh_range(images), lambda_l1=self.config.lambda_l1)
        if not torch.isfinite(loss):
            if self.config.nan_policy == "skip":
                return {"gen": math.nan, "skipped": 1.0}
            check_finite("gen", iteration, loss, "lower gen_lr (--set gen_lr=...).")
        self.gen_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.gen_opt.step()
        return {"gen": loss.item()}

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.train.sample(self.config.batch_size)
        self.generator.train(), self.discriminator.train(), self.segmenter.train()
        d_loss = self._discriminator_step(iteration, images, masks)
        stats: dict[str, float] = {"disc": math.nan if d_loss is None else d_loss}
        if iteration < self.config.warmup_iterations:
            return {**stats, **self._warmup_step(iteration, images, masks)}
        aug_masks, _ = self.augmenter(masks, generator=self.aug_generator)
        val_images, val_masks = self.val.sample(self.config.batch_size)
        batch = GenSegBatch(images, masks, aug_masks, val_images, val_masks)
        result = self.solver.step(batch)
        for level in ("arch", "gen", "seg"):
            stats[level] = result.get(f"loss/{level}", math.nan)
        stats["arch_grad_norm"] = result.get("hypergrad_norm/arch", math.nan)
        stats["skipped"] = result.get("skipped", 0.0)
        return stats

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "gen_opt": self.gen_opt.state_dict(),
            "arch_opt": self.arch_opt.state_dict(),
            "disc_opt": self.disc_opt.state_dict(),
            "val": self.val.state_dict(),
            "solver": self.solver.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.gen_opt.load_state_dict(state["gen_opt"])
        self.arch_opt.load_state_dict(state["arch_opt"])
        self.disc_opt.load_state_dict(state["disc_opt"])
        self.val.load_state_dict(state["val"])
        self.solver.load_state_dict(state["solver"])
