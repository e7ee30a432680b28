"""One update of the segmenter: on real pairs, or on synthetic pairs + γ·real pairs (paper Eq. 2, no MLO)."""

from __future__ import annotations

import math
from typing import final

import torch
from torch import Tensor, nn

from dgen_genseg.metrics import bce_dice_loss, bce_jaccard_loss
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import GenSegBatch, SegLoss, synthetic_plus_real_loss
from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.parts.synthetic_filter import dropped_count, keep_weights, pair_losses
from dgen_genseg.pipeline.parts.updates import Updates

__all__ = ["SEG_LOSSES", "SegmenterStep"]

#: segmentation losses by option value: ``(logits (B, 1, H, W), masks (B, 1, H, W)) -> scalar``
SEG_LOSSES: dict[str, SegLoss] = {
    "bce_dice": bce_dice_loss,
    "bce_jaccard": bce_jaccard_loss,
    "bce": torch.nn.functional.binary_cross_entropy_with_logits,
}


@final
class SegmenterStep:
    """The segmenter, its loss (option ``seg_loss``) and its optimiser (``seg_optimizer``, ``seg_lr``,
    ``seg_weight_decay``); each call is one guarded update (level ``seg``) whose log entries are ``seg``
    (the loss, NaN if skipped) and ``skipped``. With ``synthetic_filter`` > 0 the synthetic pairs it fits worst
    (``synthetic_filter_drop=best``: best) are left out of each update (:mod:`.synthetic_filter`).

    Where real and synthetic pairs meet is :func:`.levels.synthetic_plus_real_loss`, shared with GenSeg's MLO
    level: one batch (``seg_batchnorm=joint``, the paper) or two BatchNorm passes whose running statistics come
    from the real images only (``seg_batchnorm=separate``).
    """

    def __init__(self, config: GenSegConfig, segmenter: nn.Module, seg_loss: SegLoss, updates: Updates) -> None:
        self.segmenter, self.loss, self.updates, self.gamma = segmenter, seg_loss, updates, config.gamma
        self.separate_batchnorm = config.seg_batchnorm == "separate"
        self.synthetic_filter, self.filter_drop = config.synthetic_filter, config.synthetic_filter_drop
        self.optimizer = make_optimizer(
            config.seg_optimizer, segmenter.parameters(), lr=config.seg_lr, weight_decay=config.seg_weight_decay
        )

    def on_real(self, images: Tensor, masks: Tensor) -> dict[str, float]:
        """One update on real pairs ``(B, C, H, W)``, ``(B, 1, H, W)``."""
        self.segmenter.train()
        return self._update(self.loss(self.segmenter(images), masks))

    def on_synthetic_and_real(
        self, synthetic: Tensor, synthetic_masks: Tensor, images: Tensor, masks: Tensor
    ) -> dict[str, float]:
        """One update on synthetic pairs + γ · real pairs (Eq. 2); with ``synthetic_filter`` > 0, on the synthetic
        pairs the filter keeps (scored before the update, in eval mode; ``synthetic_filter_drop``) + γ · real pairs.

        Args:
            synthetic: generated images ``(B, C, H, W)`` in [0, 1] (no gradient to their generator).
            synthetic_masks: their masks ``(B, 1, H, W)`` in {0, 1}.
            images, masks: the real batch as the segmenter sees it ``(B, C, H, W)``, ``(B, 1, H, W)``.
        """
        weights = None
        if dropped_count(self.synthetic_filter, synthetic.shape[0]):
            losses = pair_losses(self.segmenter, self.loss, synthetic, synthetic_masks)  # (B,)
            weights = keep_weights(losses, self.synthetic_filter, self.filter_drop)
        self.segmenter.train()
        batch = GenSegBatch(images, masks, synthetic_masks, images[:0], masks[:0])
        separate = self.segmenter if self.separate_batchnorm else None
        loss = synthetic_plus_real_loss(
            self.segmenter, self.loss, synthetic, batch, self.gamma, separate_batchnorm=separate, weights=weights
        )
        return self._update(loss)

    def _update(self, loss: Tensor) -> dict[str, float]:
        if not self.updates.apply("seg", loss, self.optimizer):
            return {"seg": math.nan, "skipped": 1.0}
        return {"seg": loss.item(), "skipped": 0.0}
