"""Scoring the final segmenter on a run's test sets, at the training size and at each image's own size.

Native resolution is the headline (the convention of the benchmarks one compares with): each test
image's logits, predicted at the run's ``image_size``, are resized back to the size of its original
mask and scored against it (see :mod:`dgen_genseg.metrics.native`); HD95 is in pixels of the
original image. The same scores at the training size (the mask resized with nearest neighbour, as in
training) are kept beside them. In ``metrics.json``: ``"test"`` holds the native scores,
``"test_at_image_size"`` the training-size ones, ``"test_resolution": "native"`` says which is which
(a run without that key predates native scoring: its ``"test"`` is at the training size; ``dgen
evaluate`` re-scores it). The per-case native scores go to ``test_cases.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from dgen_genseg.data.dataset import PairDataset
from dgen_genseg.metrics import MetricAccumulator
from dgen_genseg.metrics.native import CaseScores, logits_at_size
from dgen_genseg.pipeline.evaluate import batch_logits

__all__ = ["RESOLUTION", "Scorer", "rescored"]

#: the per-case scores, beside metrics.json.
#: the value of metrics.json's ``"test_resolution"`` when ``"test"`` is scored at native size.
RESOLUTION = "native"


def _native_mask(dataset: Dataset, i: int) -> np.ndarray:
    """Item ``i``'s mask at its original size, bool ``(H, W)``; the item's own mask when the dataset keeps no files."""
    if isinstance(dataset, PairDataset):
        return dataset.native_mask(i)
    return dataset[i][1][0].cpu().numpy() > 0.5  # type: ignore[index]


def _case_id(dataset: Dataset, i: int) -> str:
    ids = getattr(dataset, "ids", None)
    return str(ids[i]) if ids is not None else str(i)


class Scorer:
    """Scores a segmenter on test sets: :meth:`add` each set, then read :meth:`metrics` and :attr:`cases`.

    Args:
        segmenter: the final model (put in eval mode while scoring, its mode restored after).
        batch_size: images per forward pass.
    """

    def __init__(self, segmenter: nn.Module, *, batch_size: int = 16) -> None:
        self.segmenter, self.batch_size = segmenter, batch_size
        self.at_image_size: dict[str, dict[str, float]] = {}
        self.cases = CaseScores()

    def add(self, name: str, dataset: Dataset, images: Tensor, masks: Tensor) -> None:
        """Score test set ``name``: ``images (N, C, S, S)`` and ``masks (N, 1, S, S)`` are ``dataset``'s items
        stacked (on the segmenter's device); native masks are read from ``dataset``."""
        at_size = MetricAccumulator()
        starts = range(0, images.shape[0], self.batch_size)
        for start, logits in zip(starts, batch_logits(self.segmenter, images, self.batch_size)):
            at_size.update(logits, masks[start : start + logits.shape[0]])
            for j in range(logits.shape[0]):
                truth = _native_mask(dataset, start + j)  # (H, W) bool
                native = logits_at_size(logits[j : j + 1], truth.shape)  # (1, 1, H, W)
                self.cases.add(name, _case_id(dataset, start + j), native, torch.from_numpy(truth)[None, None])
        self.at_image_size[name] = at_size.compute()

    def metrics(self) -> dict[str, Any]:
        """The entries of metrics.json: ``test`` (native), ``test_at_image_size`` and ``test_resolution``."""
        return {"test": self.cases.means(), "test_at_image_size": dict(self.at_image_size), "test_resolution": RESOLUTION}


def rescored(metrics: Mapping[str, Any], scorer: Scorer) -> dict[str, Any]:
    """``metrics`` with ``scorer``'s entries: every other key kept in place, the new ones appended."""
    return {**metrics, **scorer.metrics()}
