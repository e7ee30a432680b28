"""GenSeg's three optimisation levels (paper Eq. 4) in dgen's MLO form.

- ``arch`` (top): the generator's architecture weights α; loss = segmentation loss
  of the look-ahead segmenter S' on real validation pairs (Eq. 3). α reaches it only
  through the lower levels (``direct=False``).
- ``gen``: the generator's weights G; loss = pix2pix loss (adversarial + λ·L1) on
  the real training pairs, given α and the discriminator (Eq. 1, 5).
- ``seg``: the segmenter's weights S; loss = segmentation loss on synthetic pairs
  (augmented real masks through G') + γ · loss on the real pairs (Eq. 2, 7).

The discriminator is updated by an ordinary step before each MLO iteration; it is
not an MLO level (its look-ahead does not carry α's gradient, Eq. 6).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from dgen.mlo import Context, Level
from dgen.steer import weighted_mean
from dgen_genseg.gan.diffaugment import DiffAugmentParams
from dgen_genseg.gan.losses import from_tanh_range, to_tanh_range
from dgen_genseg.gan.pair_losses import generator_pair_loss
from dgen_genseg.pipeline.batchnorm import segment_separately
from dgen_genseg.pipeline.sample_mode import SampleMode, generator_mode

__all__ = [
    "GenSegBatch", "ArchLevel", "GenLevel", "SegLevel", "SegLoss", "synthetic_plus_real_loss", "pix2pix_generator_loss",
    "per_sample_loss",
]

#: ``(logits (B, 1, H, W), masks (B, 1, H, W)) -> scalar``
SegLoss = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class GenSegBatch:
    """The data of one MLO iteration.

    Attributes:
        images: real training images ``(B, C, H, W)`` in [0, 1].
        masks: their masks ``(B, 1, H, W)`` in {0, 1}.
        aug_masks: augmented copies of ``masks`` ``(B, 1, H, W)``, the generator's conditions.
        val_images: real validation images ``(V, C, H, W)``.
        val_masks: their masks ``(V, 1, H, W)``.
        seg_images, seg_masks: the real pairs the segmenter trains on, when they differ from
            ``images`` / ``masks`` (classically augmented with the option ``real_augmenter``); else None.
        gan_images, gan_masks: the real pairs the GAN's losses use, when they differ from ``images`` /
            ``masks`` (jointly augmented with the option ``gan_augment``); else None.
        gan_augment: the DiffAugment draw of the discriminator's input in the generator's loss (one per
            iteration, so every look-ahead evaluation sees the same transform); None: not augmented.
    """

    images: Tensor
    masks: Tensor
    aug_masks: Tensor
    val_images: Tensor
    val_masks: Tensor
    seg_images: Optional[Tensor] = None
    seg_masks: Optional[Tensor] = None
    gan_images: Optional[Tensor] = None
    gan_masks: Optional[Tensor] = None
    gan_augment: Optional[DiffAugmentParams] = None

    def gan_pairs(self) -> tuple[Tensor, Tensor]:
        """The real pairs of the GAN's losses: ``(gan_images, gan_masks)`` if given, else ``(images, masks)``."""
        if self.gan_images is None or self.gan_masks is None:
            return self.images, self.masks
        return self.gan_images, self.gan_masks

    def real_pairs(self) -> tuple[Tensor, Tensor]:
        """The real pairs of the segmenter's loss: ``(seg_images, seg_masks)`` if given, else ``(images, masks)``."""
        if self.seg_images is None or self.seg_masks is None:
            return self.images, self.masks
        return self.seg_images, self.seg_masks


def synthetic_plus_real_loss(
    segment: Callable[[Tensor], Tensor],
    seg_loss: SegLoss,
    synthetic: Tensor,
    batch: GenSegBatch,
    gamma: float,
    *,
    separate_batchnorm: Optional[nn.Module] = None,
    weights: Optional[Tensor] = None,
) -> Tensor:
    """Eq. 2: ``seg_loss`` on the synthetic pairs ``(synthetic, aug_masks)`` + ``gamma`` x on the real pairs.

    Both halves go through ``segment`` (the segmenter, or its look-ahead) in one batch ``(2B, C, H, W)``,
    or, with ``separate_batchnorm`` = the segmenter module, in two BatchNorm passes whose running
    statistics come from the real images only (:func:`~.batchnorm.segment_separately`). With ``weights``
    ``(B,)`` the synthetic term is the weighted mean of each synthetic pair's own loss.
    """
    images, masks = batch.real_pairs()
    if separate_batchnorm is not None:
        real_logits, synthetic_logits = segment_separately(segment, separate_batchnorm, images, synthetic)
    else:
        n = synthetic.shape[0]
        logits = segment(torch.cat([synthetic, images], dim=0))  # (2B, 1, H, W)
        synthetic_logits, real_logits = logits[:n], logits[n:]
    if weights is None:
        synthetic_loss = seg_loss(synthetic_logits, batch.aug_masks)
    else:
        synthetic_loss = weighted_mean(per_sample_loss(seg_loss, synthetic_logits, batch.aug_masks), weights)
    return synthetic_loss + gamma * seg_loss(real_logits, masks)


def per_sample_loss(seg_loss: SegLoss, logits: Tensor, masks: Tensor) -> Tensor:
    """``seg_loss`` of each pair on its own: logits and masks ``(B, 1, H, W)`` -> ``(B,)``."""
    return torch.stack([seg_loss(logits[i : i + 1], masks[i : i + 1]) for i in range(logits.shape[0])])


def pix2pix_generator_loss(
    ctx: Context, generator: nn.Module, discriminator: nn.Module, lambda_l1: float, batch: GenSegBatch
) -> Tensor:
    """The pix2pix generator loss (adversarial + ``lambda_l1``·L1, Eq. 1) on ``batch.gan_pairs()`` in ``ctx``; the
    discriminator sees the fake pair transformed by the DiffAugment draw ``batch.gan_augment``, if any."""
    images, masks = batch.gan_pairs()
    fake = ctx.call(generator, to_tanh_range(masks))  # (B, C, H, W) in [-1, 1]
    return generator_pair_loss(
        lambda c, x: ctx.call(discriminator, c, x), masks, images, fake, lambda_l1=lambda_l1, params=batch.gan_augment,
    )


class ArchLevel(Level):
    """α: minimise the validation loss of the look-ahead segmenter (Eq. 3, 8)."""

    def __init__(self, *args, segmenter: nn.Module, seg_loss: SegLoss, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.segmenter, self.seg_loss = segmenter, seg_loss

    def loss(self, ctx: Context, batch: GenSegBatch) -> Tensor:
        return self.seg_loss(ctx.call(self.segmenter, batch.val_images), batch.val_masks)


class GenLevel(Level):
    """G: the pix2pix generator loss given α and the discriminator (Eq. 1, 5), on ``batch.gan_pairs()``;
    the discriminator sees the fake pair transformed by the DiffAugment draw ``batch.gan_augment``, if any."""

    def __init__(
        self, *args, generator: nn.Module, discriminator: nn.Module, lambda_l1: float, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.generator, self.discriminator, self.lambda_l1 = generator, discriminator, lambda_l1

    def loss(self, ctx: Context, batch: GenSegBatch) -> Tensor:
        return pix2pix_generator_loss(ctx, self.generator, self.discriminator, self.lambda_l1, batch)


class SegLevel(Level):
    """S: segmentation loss on synthetic pairs + γ · loss on real pairs (Eq. 2, 7); with ``separate_batchnorm``,
    the two go through the segmenter's BatchNorms in separate passes (running statistics from real images).
    The synthetic images come from the generator in ``sample_mode`` (train: dropout and batch statistics)."""

    def __init__(
        self, *args, generator: nn.Module, segmenter: nn.Module, seg_loss: SegLoss, gamma: float,
        separate_batchnorm: bool = False, sample_mode: SampleMode = "train", **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.generator, self.segmenter, self.seg_loss, self.gamma = generator, segmenter, seg_loss, gamma
        self.separate_batchnorm, self.sample_mode = separate_batchnorm, sample_mode

    def loss(self, ctx: Context, batch: GenSegBatch) -> Tensor:
        with generator_mode(self.generator, self.sample_mode):
            fake = ctx.call(self.generator, to_tanh_range(batch.aug_masks))  # (B, C, H, W) in [-1, 1]
        synthetic = from_tanh_range(fake)  # (B, C, H, W) in [0, 1]
        return synthetic_plus_real_loss(
            lambda x: ctx.call(self.segmenter, x), self.seg_loss, synthetic, batch, self.gamma,
            separate_batchnorm=self.segmenter if self.separate_batchnorm else None,
        )
