"""The "joint" control: G, D and S trained together on GenSeg's data stream with ordinary gradients, no MLO."""

from __future__ import annotations

from pathlib import Path
from typing import Any, final

from torch import nn

from dgen_genseg.pipeline.parts.assembly import Pix2PixParts
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs
from dgen_genseg.pipeline.sample_mode import SampleMode

__all__ = ["Joint"]


@final
class Joint:
    """End-to-end training without MLO: GenSeg with the hypergradient taken out.

    The same networks, optimisers, warm-up and batches as GenSeg (the real batch, its augmented masks and the
    real pairs as the segmenter sees them, drawn in GenSeg's order; no validation batch, which only α's loss
    reads). Each iteration after the warm-up: one discriminator step and one generator step on the
    pix2pix loss (adversarial + ``lambda_l1``·L1 on the real pairs; no gradient from the segmenter), then one
    segmenter step on the images the *updated* generator makes from the augmented masks (in ``sample_mode``,
    default train as GenSeg's segmenter sees them; detached) + γ·real pairs. α stays at its initial (uniform) value.
    """

    columns = ("disc", "gen", "seg", "skipped")
    solver_name = None
    default_sample_mode: SampleMode = "train"
    uses_val = False

    def __init__(self, inputs: Pix2PixInputs) -> None:
        self.parts = parts = Pix2PixParts.assemble(inputs, self.default_sample_mode, with_val=self.uses_val)
        self.schedule, self.updates, self.seg = parts.schedule, parts.updates, parts.seg
        self.data, self.sample_mode, self.gan = parts.data, parts.sample_mode, parts.gan

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.data.real()
        self.gan.train_mode(), self.seg.segmenter.train()
        if self.schedule.in_warmup(iteration):
            return self.gan.step(images, masks)
        conditions = self.data.augmented_masks(masks)
        seg_images, seg_masks = self.data.augmented_real(images, masks)
        gan = self.gan.step(images, masks)
        synthetic = self.gan.synthesize(conditions, mode=self.sample_mode)  # (B, C, H, W) in [0, 1]
        seg = self.seg.on_synthetic_and_real(synthetic, conditions, seg_images, seg_masks)
        return {**gan, **seg, "skipped": max(gan["skipped"], seg["skipped"])}

    def saved(self) -> dict[str, Any]:
        return self.parts.saved()

    def networks(self) -> dict[str, nn.Module]:
        return self.parts.networks()

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        self.parts.write_artifacts(run_dir, seed)
