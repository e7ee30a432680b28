"""The features a :class:`dgen.steer.WeightNet` weighs a synthetic pair by (``steer=weightnet``).

- ``loss``: the segmenter's loss on the pair now (eval mode, no gradient): a pair the segmenter cannot fit may be a
  bad rendering of its mask (FreeMask filters synthetic pairs by this loss; here the validation loss learns how);
- ``area``: the mask's foreground fraction.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dgen_genseg.pipeline.evaluate import batch_logits
from dgen_genseg.pipeline.levels import SegLoss, per_sample_loss

__all__ = ["PAIR_FEATURES", "pair_features"]

#: the features' names, in their column order
PAIR_FEATURES = ("loss", "area")


@torch.no_grad()
def pair_features(segmenter: nn.Module, seg_loss: SegLoss, images: Tensor, masks: Tensor) -> Tensor:
    """The features ``(B, len(PAIR_FEATURES))`` of the pairs ``images`` ``(B, C, H, W)`` in [0, 1] and ``masks``
    ``(B, 1, H, W)``: data, computed once before the look-ahead. The segmenter runs in eval mode (its BatchNorm
    statistics untouched) and is put back in the mode it was in."""
    (logits,) = batch_logits(segmenter, images, images.shape[0])  # (B, 1, H, W), one batch
    loss = per_sample_loss(seg_loss, logits, masks)  # (B,)
    area = masks.flatten(1).mean(1)  # (B,)
    return torch.stack([loss, area], dim=1)
