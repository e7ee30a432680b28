"""The paper's WGAN baseline (its ref. 28): pairs from an unconditional WGAN-GP, trained first, then frozen."""

from __future__ import annotations

from pathlib import Path
from typing import Any, final

import torch
from torch import nn

from dgen.task import Task
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.parts import SEG_LOSSES, PairStream, Schedule, SegmenterStep, Updates, WganStep
from dgen_genseg.pipeline.parts.data import make_real_augmenter
from dgen_genseg.pipeline.parts.networks import make_segmenter, make_wgan
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["Wgan"]


@final
class Wgan:
    """For ``warmup_iterations`` the pair GAN trains alone (:class:`~dgen_genseg.pipeline.parts.WganStep`:
    ``n_critic`` critic steps then one generator step per iteration, on the run's training pairs); then it is
    frozen and, for ``iterations``, the segmenter trains on a batch of its pairs + γ·real pairs
    (``real_augmenter`` applied), with no MLO."""

    columns = ("disc", "gen", "seg", "skipped")
    solver_name = None

    def __init__(self, config: GenSegConfig, seg: SegmenterStep, train: PairSampler, wgan: WganStep) -> None:
        self.schedule = Schedule(config.iterations, config.warmup_iterations)
        self.updates = seg.updates
        self.seg = seg
        self.data = PairStream(config, train, real_augmenter=make_real_augmenter(config))
        self.wgan = wgan

    @classmethod
    def build(
        cls, *, config: GenSegConfig, task: Task, train: PairSampler, val: PairSampler, device: torch.device
    ) -> Wgan:
        segmenter = make_segmenter(config, task, device)
        pair_generator, critic = make_wgan(config, task, device)
        updates = Updates(config)
        seg = SegmenterStep(config, segmenter, SEG_LOSSES[config.seg_loss], updates)
        return cls(config, seg, train, WganStep(config, pair_generator, critic, updates))

    def step(self, iteration: int) -> dict[str, float]:
        if self.schedule.in_warmup(iteration):
            return self.wgan.step(self.data.real)
        images, masks = self.data.real()
        synthetic, synthetic_masks = self.wgan.sample(images.shape[0])  # (B, C, H, W), (B, 1, H, W)
        return self.seg.on_synthetic_and_real(synthetic, synthetic_masks, *self.data.augmented_real(images, masks))

    def saved(self) -> dict[str, Any]:
        return self.wgan.saved()

    def networks(self) -> dict[str, nn.Module]:
        return {}

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        self.wgan.write_artifacts(run_dir, seed)
