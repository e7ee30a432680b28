"""Scoring a segmenter on in-memory image-mask tensors."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dgen_genseg.metrics import MetricAccumulator, binarize

__all__ = ["batch_logits", "evaluate", "predict"]


@torch.no_grad()
def batch_logits(segmenter: nn.Module, images: Tensor, batch_size: int) -> list[Tensor]:
    """The segmenter's logits (eval mode, no gradient) for ``images (N, C, H, W)``, one ``(b, 1, H, W)`` per batch."""
    was_training = segmenter.training
    segmenter.eval()
    try:
        return [segmenter(images[i : i + batch_size]) for i in range(0, images.shape[0], batch_size)]
    finally:
        segmenter.train(was_training)


def evaluate(segmenter: nn.Module, images: Tensor, masks: Tensor, *, hd95: bool, batch_size: int = 16) -> dict[str, float]:
    """Per-image Dice, Jaccard (and HD95) averaged over ``images (N, C, H, W)`` against ``masks (N, 1, H, W)``."""
    accumulator = MetricAccumulator(hd95=hd95)
    for start, logits in zip(range(0, images.shape[0], batch_size), batch_logits(segmenter, images, batch_size)):
        accumulator.update(logits, masks[start : start + batch_size])
    return accumulator.compute()


def predict(segmenter: nn.Module, images: Tensor, batch_size: int = 16) -> Tensor:
    """Binary predictions ``(N, 1, H, W)`` in {0, 1} for ``images (N, C, H, W)`` (eval mode)."""
    return torch.cat([binarize(logits) for logits in batch_logits(segmenter, images, batch_size)])
