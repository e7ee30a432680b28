"""Collect per-image Dice, Jaccard and HD95 over a test loader and average them over images."""

from __future__ import annotations

from torch import Tensor

from dgen.errors import DataError
from dgen_genseg.metrics.hausdorff import hd95_per_image
from dgen_genseg.metrics.overlap import dice_from_counts, jaccard_from_counts, overlap_counts

__all__ = ["MetricAccumulator"]


class MetricAccumulator:
    """Streaming per-image metrics.

    Example::

        acc = MetricAccumulator()
        for image, mask in loader:
            acc.update(model(image), mask)     # logits (B, 1, H, W), masks (B, 1, H, W) in {0, 1}
        acc.compute()                          # {"dice": ..., "jaccard": ..., "hd95": ..., "n": ...}

    Args:
        from_logits: predictions are logits (True) or probabilities (False).
        threshold: a pixel is predicted positive when its probability is ``> threshold``.
        hd95: also compute HD95 (on the CPU, with scipy); when False, ``"hd95"`` is absent from the results.
    """

    def __init__(self, *, from_logits: bool = True, threshold: float = 0.5, hd95: bool = True) -> None:
        self.from_logits, self.threshold, self.with_hd95 = from_logits, threshold, hd95
        self.values: dict[str, list[float]] = {}
        self.reset()

    def reset(self) -> None:
        """Forget every image seen so far."""
        self.values = {"dice": [], "jaccard": [], **({"hd95": []} if self.with_hd95 else {})}

    def update(self, pred: Tensor, truth: Tensor) -> None:
        """Add the images of one batch: ``pred`` and ``truth`` ``(B, 1, H, W)``."""
        pred, truth = pred.detach(), truth.detach()
        counts = overlap_counts(pred, truth, from_logits=self.from_logits, threshold=self.threshold)
        self.values["dice"] += dice_from_counts(*counts).tolist()
        self.values["jaccard"] += jaccard_from_counts(*counts).tolist()
        if self.with_hd95:
            hd95 = hd95_per_image(pred, truth, from_logits=self.from_logits, threshold=self.threshold)
            self.values["hd95"] += hd95.tolist()

    @property
    def n(self) -> int:
        """Number of images accumulated."""
        return len(self.values["dice"])

    def compute(self) -> dict[str, float]:
        """The mean of each metric over images, and ``"n"``, the number of images."""
        if self.n == 0:
            raise DataError("MetricAccumulator.compute() was called before any update(); score at least one batch.")
        means = {name: sum(vals) / len(vals) for name, vals in self.values.items()}
        return {**means, "n": self.n}
