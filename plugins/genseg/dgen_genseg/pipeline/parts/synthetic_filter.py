"""Leave the synthetic pairs the segmenter fits worst (or best) out of its loss (option ``synthetic_filter``).

After FreeMask (Yang et al., NeurIPS 2023): a generated image the segmenter cannot fit is often a bad rendering
of its mask, and training on it teaches the wrong boundary; FreeMask ignores the regions of a synthetic image whose
loss, under a model trained on real images, exceeds a margin over the class's mean. Here, per pair and with no
state: each iteration the segmenter (eval mode, no gradient, its BatchNorm statistics untouched) scores the
batch's synthetic pairs, and the ``floor(fraction * B)`` with the highest loss get weight 0; the others share the
synthetic loss equally: the mean of their own losses (with ``bce_dice`` a Dice per pair, where the unfiltered loss
takes one Dice over the batch). When ``floor(fraction * B)`` is 0 nothing is scored and the loss is the unfiltered
one. A fixed rule on the same feature that ``steer=weightnet`` learns from: the ablation of
learning the weights. ``drop="best"`` leaves out the pairs it fits best instead (the other direction of the same
ranking: the hard pairs only, as FreeMask's hardness-aware re-sampling favours hard masks).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from dgen.errors import ConfigError
from dgen_genseg.pipeline.evaluate import batch_logits
from dgen_genseg.pipeline.levels import SegLoss, per_sample_loss

__all__ = ["Drop", "dropped_count", "keep_weights", "pair_losses"]

#: which end of the ranking by loss a filter leaves out
Drop = Literal["worst", "best"]


@torch.no_grad()
def pair_losses(segmenter: nn.Module, seg_loss: SegLoss, images: Tensor, masks: Tensor) -> Tensor:
    """The segmenter's loss on each pair ``(B,)``, of images ``(B, C, H, W)`` in [0, 1] and masks ``(B, 1, H, W)``:
    eval mode, no gradient, one batch; the segmenter is put back in the mode it was in."""
    (logits,) = batch_logits(segmenter, images, images.shape[0])  # (B, 1, H, W)
    return per_sample_loss(seg_loss, logits, masks)


def dropped_count(fraction: float, b: int) -> int:
    """How many of ``b`` pairs a filter of ``fraction`` in [0, 1) leaves out: ``floor(fraction * b)``, at most ``b - 1``.

    Raises:
        ConfigError: ``fraction`` outside [0, 1).
    """
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"synthetic_filter={fraction} must be in [0, 1); give e.g. --set synthetic_filter=0.25.")
    return min(math.floor(fraction * b), b - 1)


def keep_weights(losses: Tensor, fraction: float, drop: Drop = "worst") -> Tensor:
    """Weights ``(B,)`` for :func:`dgen.steer.weighted_mean` that leave out the ``floor(fraction * B)`` pairs of
    highest loss (``drop="worst"``; ties: the later pair goes first) or of lowest loss (``"best"``; ties: the
    earlier pair goes first) and weigh the others ``B / kept``, so that the weighted mean is the plain mean over the
    kept pairs. ``losses`` ``(B,)``; ``fraction`` in [0, 1): at least one pair is kept.
    """
    b = losses.shape[0]
    dropped = dropped_count(fraction, b)
    weights = torch.full_like(losses, b / (b - dropped))
    if dropped:
        order = torch.argsort(losses, stable=True)  # ascending; equal losses keep their order
        weights[order[b - dropped :] if drop == "worst" else order[:dropped]] = 0.0
    return weights
