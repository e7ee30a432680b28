"""MetricAccumulator: per-image values collected over batches and averaged over images."""

from __future__ import annotations

import math

import pytest
import torch

from dgen.errors import DataError
from dgen_genseg.metrics import MetricAccumulator


def test_accumulates_over_batches_and_averages_over_images() -> None:
    perfect = torch.zeros(1, 1, 3, 4)
    perfect[0, 0, 1, 1] = 1  # one pixel, predicted exactly: dice 1, jaccard 1, hd95 0
    missed = torch.zeros(2, 1, 3, 4)
    missed[:, 0, 0, 0] = 1  # truth has one pixel, prediction empty: dice 0, jaccard 0, hd95 = diagonal 5
    acc = MetricAccumulator(from_logits=False)
    acc.update(perfect, perfect)
    acc.update(torch.zeros(2, 1, 3, 4), missed)
    result = acc.compute()
    assert result["n"] == 3
    assert result["dice"] == pytest.approx(1 / 3) and result["jaccard"] == pytest.approx(1 / 3)
    assert result["hd95"] == pytest.approx(2 * math.hypot(3, 4) / 3)
    assert acc.values["dice"] == [1.0, 0.0, 0.0]
    acc.reset()
    assert acc.n == 0


def test_without_hd95_and_with_logits() -> None:
    truth = torch.ones(2, 1, 2, 2)
    acc = MetricAccumulator(hd95=False)
    acc.update(torch.full((2, 1, 2, 2), 3.0, requires_grad=True), truth)  # logits > 0 everywhere: perfect
    assert acc.compute() == {"dice": 1.0, "jaccard": 1.0, "n": 2}


def test_compute_before_update_names_the_fix() -> None:
    with pytest.raises(DataError, match="before any update"):
        MetricAccumulator().compute()
