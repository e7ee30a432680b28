"""The paper's "separate" baseline (Fig. 7): the GAN first, then frozen; no MLO."""

from __future__ import annotations

from pathlib import Path
from typing import Any, final

from torch import nn

from dgen_genseg.pipeline.parts.assembly import Pix2PixParts
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs
from dgen_genseg.pipeline.sample_mode import SampleMode

__all__ = ["Separate"]


@final
class Separate:
    """The GAN is trained alone for ``warmup_iterations`` (pix2pix on the run's training pairs, α uniform), then
    frozen; for ``iterations`` the segmenter trains on its synthetic pairs (augmented masks, generator in
    ``sample_mode``, default eval) + γ·real pairs (``real_augmenter`` applied), with no MLO."""

    columns = ("disc", "gen", "seg", "skipped")
    solver_name = None
    default_sample_mode: SampleMode = "eval"
    uses_val = False

    def __init__(self, inputs: Pix2PixInputs) -> None:
        self.parts = parts = Pix2PixParts.assemble(inputs, self.default_sample_mode, with_val=self.uses_val)
        self.schedule, self.updates, self.seg = parts.schedule, parts.updates, parts.seg
        self.data, self.sample_mode, self.gan = parts.data, parts.sample_mode, parts.gan

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.data.real()
        if self.schedule.in_warmup(iteration):
            self.gan.train_mode()
            return self.gan.step(images, masks)
        conditions = self.data.augmented_masks(masks)
        synthetic = self.gan.synthesize(conditions, mode=self.sample_mode)  # (B, C, H, W) in [0, 1]
        return self.seg.on_synthetic_and_real(synthetic, conditions, *self.data.augmented_real(images, masks))

    def saved(self) -> dict[str, Any]:
        return self.parts.saved()

    def networks(self) -> dict[str, nn.Module]:
        return self.parts.networks()

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        self.parts.write_artifacts(run_dir, seed)
