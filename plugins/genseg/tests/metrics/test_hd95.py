"""HD95 on masks whose boundary distances are counted by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dgen_genseg.metrics import hd95_binary, hd95_per_image


def grid(*rows: str) -> np.ndarray:
    return np.array([[c == "1" for c in row] for row in rows])


def test_two_single_pixels() -> None:
    # each boundary is its single pixel; the pixels are 3 columns apart -> every distance is 3
    a = grid("01000", "00000")
    b = grid("00001", "00000")
    assert hd95_binary(a, b) == 3.0


def test_shifted_square() -> None:
    # A: 3x3 square rows 1-3, cols 1-3; B: the same square shifted one column right (cols 2-4).
    # Boundaries are the 8-pixel rings (centres (2,2) and (2,3) are interior).
    # A -> B: (1,1),(2,1),(3,1) are 1 from B's left column; (2,3) is 1 from B's ring at (2,2)/(2,4);
    #         (1,2),(1,3),(3,2),(3,3) lie on B's ring -> distances [0,0,0,0,1,1,1,1], P95 = 1. Symmetric -> 1.
    a = grid("000000", "011100", "011100", "011100", "000000", "000000")
    b = np.roll(a, 1, axis=1)
    assert hd95_binary(a, b) == 1.0


def test_percentile_is_interpolated_and_the_larger_direction_wins() -> None:
    # A = {(0,0)}, B = {(0,0), (0,3)} in a 1x5 image (every pixel is boundary: the border counts as outside).
    # A -> B: [0] -> P95 = 0.   B -> A: [0, 3] -> P95 = 0 + 0.95 * 3 = 2.85 (linear interpolation).
    # HD95 = max(0, 2.85) = 2.85 (medpy's pooled percentile of [0, 0, 3] would give 2.7).
    a = grid("10000")
    b = grid("10010")
    assert hd95_binary(a, b) == pytest.approx(2.85, abs=1e-12)
    assert hd95_binary(b, a) == pytest.approx(2.85, abs=1e-12)


def test_identical_masks_score_zero() -> None:
    a = grid("0110", "0110", "0000")
    assert hd95_binary(a, a) == 0.0


def test_empty_conventions() -> None:
    empty, some = grid("000", "000", "000", "000"), grid("000", "010", "000", "000")
    assert hd95_binary(empty, empty) == 0.0
    assert hd95_binary(empty, some) == hd95_binary(some, empty) == math.hypot(4, 3) == 5.0  # image diagonal


def test_batched_tensor_version() -> None:
    pred = torch.from_numpy(np.stack([grid("01000", "00000"), grid("00000", "00000")])).float()[:, None]
    truth = torch.from_numpy(np.stack([grid("00001", "00000"), grid("00000", "01000")])).float()[:, None]
    values = hd95_per_image(pred * 8 - 4, truth)
    torch.testing.assert_close(values, torch.tensor([3.0, math.hypot(2, 5)], dtype=torch.float64))
