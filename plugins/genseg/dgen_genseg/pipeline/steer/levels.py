"""The ``steer`` method's levels in dgen's MLO form.

- ``steer`` (upper, ``direct=False``): the variables chosen with the option ``steer`` among the appearance and
  geometry magnitudes, the pool's weights and α; loss = segmentation loss of the look-ahead segmenter S' on the
  upper pairs (validation, or the held-out fold) — :class:`~dgen_genseg.pipeline.levels.ArchLevel`'s loss.
- ``gen`` (only with ``steer=generator``; ``direct=True`` and ``lower=("seg",)``): the generator's weights;
  loss = its pix2pix loss + ``steer_beta`` x the upper loss at S' (the images themselves are steered). In an
  iteration without a hypergradient (``hyper_every``) it is its pix2pix loss alone.
- ``seg``: the segmenter; loss = weighted segmentation loss on the synthetic pairs (the generator's images
  of the conditions, through the learnable appearance; image and mask warped by the learnable geometry) + γ ·
  loss on the real pairs (through the appearance too with ``appearance_on`` naming real).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from torch import Tensor, nn

from dgen.mlo import Context, Level
from dgen.steer import AppearanceDraw, GeometryDraw
from dgen_genseg.gan.losses import from_tanh_range, to_tanh_range
from dgen_genseg.pipeline.levels import GenSegBatch, SegLoss, pix2pix_generator_loss, synthetic_plus_real_loss
from dgen_genseg.pipeline.sample_mode import SampleMode, generator_mode
from dgen_genseg.pipeline.steer.pool import SyntheticPool

__all__ = ["GEOMETRY_TARGETS", "SteerBatch", "Synthesis", "SteerSegLevel", "SteeredGenLevel"]

#: what the learnable geometry warps: pairs (the rendered image and its mask: the image is resampled, which smooths
#: it) or conditions (the mask, before the generator renders the image from it)
GEOMETRY_TARGETS = ("pairs", "conditions")


@dataclass(frozen=True)
class SteerBatch:
    """The data of one ``steer`` iteration.

    Attributes:
        pairs: the real, upper (as ``val_images``/``val_masks``), segmenter and GAN pairs, and the conditions
            (``aug_masks`` ``(B, 1, H, W)``), as GenSeg's iterations have them.
        index: the conditions' indices ``(B,)`` in the weighted pool; None without ``steer=weights`` or ``weightnet``.
        rendered: the generator's images of the conditions ``(B, C, H, W)`` in [0, 1], detached, when nothing
            steered acts inside the generator (neither ``generator`` nor ``arch``); else None (rendered in the loss).
        draw: the appearance's random draw of the synthetic images for this iteration; None without
            ``steer=appearance`` or when ``appearance_on`` leaves them out.
        real_draw: its draw of the segmenter's real images (``appearance_on`` with real); else None.
        geometry_draw: the geometry's random draw of the synthetic pairs; None without ``steer=geometry``.
        features: the synthetic pairs' features ``(B, F)`` (:mod:`.pair_features`), computed before the
            look-ahead; None without ``steer=weightnet``.
    """

    pairs: GenSegBatch
    index: Optional[Tensor] = None
    rendered: Optional[Tensor] = None
    draw: Optional[AppearanceDraw] = None
    real_draw: Optional[AppearanceDraw] = None
    geometry_draw: Optional[GeometryDraw] = None
    features: Optional[Tensor] = None

    @property
    def val_images(self) -> Tensor:
        """The upper-level loss's images ``(V, C, H, W)``."""
        return self.pairs.val_images

    @property
    def val_masks(self) -> Tensor:
        """The upper-level loss's masks ``(V, 1, H, W)``."""
        return self.pairs.val_masks


class Synthesis:
    """The synthetic pairs of a batch: the generator's images (in ``sample_mode``) through the learnable appearance,
    with their conditions; the learnable geometry warps the rendered pairs (``geometry_on="pairs"``) or the
    conditions before the generator renders them (``"conditions"``).

    Args:
        generator: masks in [-1, 1] -> images in [-1, 1].
        appearance: a :class:`dgen.steer.LearnableAppearance`, or None.
        sample_mode: the generator's mode when it renders.
        geometry: a :class:`dgen.steer.LearnableGeometry`, or None.
        geometry_on: ``"pairs"`` or ``"conditions"`` (see :data:`GEOMETRY_TARGETS`).
    """

    def __init__(self, generator: nn.Module, appearance: Optional[nn.Module], sample_mode: SampleMode,
                 geometry: Optional[nn.Module] = None, geometry_on: str = "pairs") -> None:
        self.generator, self.appearance, self.sample_mode = generator, appearance, sample_mode
        self.geometry, self.geometry_on = geometry, geometry_on

    def images(self, ctx: Context, batch: SteerBatch, masks: Optional[Tensor] = None) -> Tensor:
        """The images ``(B, C, H, W)`` in [0, 1] of the batch's conditions (``batch.rendered`` when it has them), or
        of ``masks`` ``(B, 1, H, W)`` rendered here, through the appearance; differentiable in whatever ``ctx``
        varies."""
        images = batch.rendered if masks is None else None
        if images is None:
            conditions = batch.pairs.aug_masks if masks is None else masks
            with generator_mode(self.generator, self.sample_mode):
                images = from_tanh_range(ctx.call(self.generator, to_tanh_range(conditions)))
        if self.appearance is not None and batch.draw is not None:
            images = ctx.call(self.appearance, images, batch.draw)
        return images

    def pairs(self, ctx: Context, batch: SteerBatch) -> tuple[Tensor, Tensor]:
        """The synthetic images ``(B, C, H, W)`` and their masks ``(B, 1, H, W)``. With a ``geometry_draw`` in the
        batch: the rendered image and its mask warped together (``pairs``: the image is resampled), or the mask
        warped and the image rendered from it (``conditions``: nothing is resampled but the mask); differentiable in
        the magnitudes either way, the mask's edges soft."""
        masks = batch.pairs.aug_masks
        warp = self.geometry is not None and batch.geometry_draw is not None
        if warp and self.geometry_on == "conditions":
            masks, _ = ctx.call(self.geometry, masks, masks[:, :0], batch.geometry_draw)
            return self.images(ctx, batch, masks), masks
        images = self.images(ctx, batch)
        if warp:
            images, masks = ctx.call(self.geometry, images, masks, batch.geometry_draw)
        return images, masks

    def real_pairs(self, ctx: Context, batch: SteerBatch) -> GenSegBatch:
        """``batch.pairs`` with the segmenter's real images through the appearance when the batch has a
        ``real_draw`` (``(B, C, H, W)`` in [0, 1], differentiable in the magnitudes); else unchanged."""
        if self.appearance is None or batch.real_draw is None:
            return batch.pairs
        images, masks = batch.pairs.real_pairs()
        return replace(batch.pairs, seg_images=ctx.call(self.appearance, images, batch.real_draw), seg_masks=masks)


class SteerSegLevel(Level):
    """S: the (pool-weighted) loss on the synthetic pairs + γ · loss on the real pairs; with
    ``separate_batchnorm``, real and synthetic images in separate BatchNorm passes."""

    def __init__(
        self, *args, synthesis: Synthesis, segmenter: nn.Module, seg_loss: SegLoss, gamma: float,
        pool: Optional[SyntheticPool] = None, separate_batchnorm: bool = False, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.synthesis, self.segmenter, self.seg_loss, self.gamma = synthesis, segmenter, seg_loss, gamma
        self.pool, self.separate_batchnorm = pool, separate_batchnorm

    def loss(self, ctx: Context, batch: SteerBatch) -> Tensor:
        synthetic, masks = self.synthesis.pairs(ctx, batch)
        weights = None
        if self.pool is not None and batch.index is not None:
            weights = self.pool.weigh(ctx, batch.index, batch.features)
        pairs = replace(self.synthesis.real_pairs(ctx, batch), aug_masks=masks)
        return synthetic_plus_real_loss(
            lambda x: ctx.call(self.segmenter, x), self.seg_loss, synthetic, pairs, self.gamma,
            separate_batchnorm=self.segmenter if self.separate_batchnorm else None, weights=weights,
        )


class SteeredGenLevel(Level):
    """G: its pix2pix loss + ``beta`` x the upper loss of the look-ahead segmenter (only in a look-ahead
    context, i.e. when the solver computes this level's hypergradient)."""

    def __init__(
        self, *args, generator: nn.Module, discriminator: nn.Module, lambda_l1: float, segmenter: nn.Module,
        seg_loss: SegLoss, beta: float, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.generator, self.discriminator, self.lambda_l1 = generator, discriminator, lambda_l1
        self.segmenter, self.seg_loss, self.beta = segmenter, seg_loss, beta

    def loss(self, ctx: Context, batch: SteerBatch) -> Tensor:
        own = pix2pix_generator_loss(ctx, self.generator, self.discriminator, self.lambda_l1, batch.pairs)
        if not ctx.lookahead:
            return own
        return own + self.beta * self.seg_loss(ctx.call(self.segmenter, batch.val_images), batch.val_masks)
