"""The features a :class:`dgen.steer.WeightNet` weighs a synthetic pair by (``steer=weightnet``).

- ``loss``: the segmenter's loss on the pair now (eval mode, no gradient): a pair the segmenter cannot fit may be a
  bad rendering of its mask (FreeMask filters synthetic pairs by this loss; here the validation loss learns how);
- ``area``: the mask's foreground fraction.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dgen_genseg.pipeline.levels import SegLoss
from dgen_genseg.pipeline.parts.synthetic_filter import pair_losses

__all__ = ["PAIR_FEATURES", "pair_features"]

#: the features' names, in their column order
PAIR_FEATURES = ("loss", "area")


@torch.no_grad()
def pair_features(segmenter: nn.Module, seg_loss: SegLoss, images: Tensor, masks: Tensor) -> Tensor:
    """The features ``(B, len(PAIR_FEATURES))`` of the pairs ``images`` ``(B, C, H, W)`` in [0, 1] and ``masks``
    ``(B, 1, H, W)``: data, computed once before the look-ahead. The segmenter runs in eval mode (its BatchNorm
    statistics untouched) and is put back in the mode it was in."""
    loss = pair_losses(segmenter, seg_loss, images, masks)  # (B,)
    area = masks.flatten(1).mean(1)  # (B,)
    return torch.stack([loss, area], dim=1)
