"""Scores at each image's own size: predictions made at the training size, brought back to the
original size, and scored per case against the original mask.

The convention (also that of nnU-Net v2, which resamples logits before taking the argmax): the
segmenter's **logits** are resized to the original ``(H, W)`` with bilinear interpolation
(``align_corners=False``, pixel centres, no antialiasing), then thresholded at 0 (probability
0.5). Dice, Jaccard and HD95 are those of :mod:`.overlap` and :mod:`.hausdorff`, so HD95 is in
pixels of the original image (no loader knows a pixel spacing, so none is in millimetres).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch.nn.functional as F
from torch import Tensor

from dgen.checkpoint import atomic_write_text
from dgen.errors import DataError
from dgen_genseg.metrics.accumulator import MetricAccumulator

__all__ = ["CaseScore", "CaseScores", "logits_at_size"]


def logits_at_size(logits: Tensor, size: tuple[int, int]) -> Tensor:
    """Logits ``(B, 1, h, w)`` resized to ``size = (H, W)``: ``(B, 1, H, W)``, bilinear, ``align_corners=False``."""
    if tuple(logits.shape[-2:]) == tuple(size):
        return logits
    return F.interpolate(logits.float(), size=tuple(size), mode="bilinear", align_corners=False)


@dataclass(frozen=True)
class CaseScore:
    """The scores of one case at its own size ``height x width``; ``set`` names its test set."""

    set: str
    case: str
    height: int
    width: int
    dice: float
    jaccard: float
    hd95: float


class CaseScores:
    """Per-case Dice, Jaccard and HD95 at each case's own size, grouped by set, and their means.

    Example::

        scores = CaseScores()
        scores.add("ph2", "IMD002", logits_at_size(logits, mask.shape), torch.from_numpy(mask)[None, None])
        scores.means()       # {"ph2": {"dice": ..., "jaccard": ..., "hd95": ..., "n": 1}}
        scores.write_csv(path)
    """

    def __init__(self) -> None:
        self.rows: list[CaseScore] = []
        self._by_set: dict[str, MetricAccumulator] = {}

    def add(self, set_name: str, case: str, logits: Tensor, truth: Tensor) -> CaseScore:
        """Score one case: ``logits (1, 1, H, W)`` already at the truth's size, ``truth (1, 1, H, W)`` in {0, 1}."""
        if logits.shape[0] != 1:
            raise DataError(f"case '{case}': got a batch of {logits.shape[0]} predictions; score one case at a time.")
        accumulator = self._by_set.setdefault(set_name, MetricAccumulator())
        accumulator.update(logits, truth.to(logits.device))
        h, w = truth.shape[-2:]
        row = CaseScore(set_name, case, int(h), int(w), *(accumulator.values[k][-1] for k in ("dice", "jaccard", "hd95")))
        self.rows.append(row)
        return row

    def means(self) -> dict[str, dict[str, float]]:
        """``{set: {"dice", "jaccard", "hd95", "n"}}``: the mean over that set's cases."""
        return {name: accumulator.compute() for name, accumulator in self._by_set.items()}

    def write_csv(self, path: Path, *, columns: Sequence[str] = tuple(CaseScore.__dataclass_fields__)) -> None:
        """One row per case (in the order added) with ``columns`` (default: all fields of :class:`CaseScore`)."""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow(asdict(row))
        atomic_write_text(Path(path), text.getvalue())

