"""Scores at native size: logits resized bilinearly, then per-case Dice/Jaccard/HD95, on hand-computed cases."""

from __future__ import annotations

import csv

import pytest
import torch

from dgen.errors import DataError
from dgen_genseg.metrics.native import CaseScores, logits_at_size


def test_logits_are_resized_bilinearly_with_pixel_centres():
    # 2 -> 4 samples at source coordinates (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to [0, 1]:
    # weights 0, 0.25, 0.75, 1 between the two source values.
    logits = torch.tensor([[[[0.0, 4.0], [8.0, 12.0]]]], dtype=torch.float64)
    resized = logits_at_size(logits, (4, 4))
    row = torch.tensor([0.0, 1.0, 3.0, 4.0], dtype=torch.float64)
    column = torch.tensor([0.0, 2.0, 6.0, 8.0], dtype=torch.float64)
    expected = column[:, None] + row[None, :]
    torch.testing.assert_close(resized, expected[None, None].float(), rtol=0, atol=1e-6)


def test_non_square_target_and_same_size_is_untouched():
    logits = torch.tensor([[[[1.0, 3.0]]]])  # (1, 1, 1, 2)
    resized = logits_at_size(logits, (3, 4))  # every row the same: 2 -> 4 along the width
    torch.testing.assert_close(resized, torch.tensor([1.0, 1.5, 2.5, 3.0]).expand(1, 1, 3, 4))
    assert logits_at_size(logits, (1, 2)) is logits


def _case() -> tuple[torch.Tensor, torch.Tensor]:
    """Logits 2 x 2 with only the top-left positive, resized to 4 x 4: the logit at (r, c) is the bilinear mix,
    e.g. (1, 1): 0.5625 * 1 - 0.4375 = 0.125 > 0, (0, 2): 0.25 * 1 - 0.75 = -0.5 < 0; so the predicted mask is
    the top-left 2 x 2 block. The truth is that block plus pixel (0, 2)."""
    logits = logits_at_size(torch.tensor([[[[1.0, -1.0], [-1.0, -1.0]]]]), (4, 4))
    truth = torch.zeros(1, 1, 4, 4)
    truth[0, 0, :2, :2] = 1
    truth[0, 0, 0, 2] = 1
    return logits, truth


def test_resized_prediction_is_the_top_left_block():
    logits, _ = _case()
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[:2, :2] = True
    assert torch.equal(logits[0, 0] > 0, expected)


def test_case_scores_by_hand(tmp_path):
    logits, truth = _case()
    scores = CaseScores()
    row = scores.add("ph2", "IMD002", logits, truth)
    # |A| = 4, |B| = 5, |A ∩ B| = 4: Dice 8/9, Jaccard 4/5. Every pixel of both masks is boundary; distances
    # A -> B are all 0, B -> A are 0, 0, 0, 0, 1: P95 (linear) = 0.8 * 1 = 0.8.
    assert (row.set, row.case, row.height, row.width) == ("ph2", "IMD002", 4, 4)
    assert row.dice == pytest.approx(8 / 9) and row.jaccard == pytest.approx(4 / 5) and row.hd95 == pytest.approx(0.8)
    empty = torch.zeros(1, 1, 3, 5)
    scores.add("ph2", "empty", torch.full((1, 1, 3, 5), -1.0), empty)  # both empty: perfect
    scores.add("other", "missed", torch.full((1, 1, 3, 4), -1.0), torch.ones(1, 1, 3, 4))  # nothing found
    means = scores.means()
    assert means["ph2"] == pytest.approx({"dice": (8 / 9 + 1) / 2, "jaccard": (0.8 + 1) / 2, "hd95": 0.4, "n": 2})
    assert means["other"] == pytest.approx({"dice": 0.0, "jaccard": 0.0, "hd95": 5.0, "n": 1})  # diagonal of 3 x 4
    scores.write_csv(tmp_path / "cases.csv")
    with (tmp_path / "cases.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["case"] for r in rows] == ["IMD002", "empty", "missed"]
    assert list(rows[0]) == ["set", "case", "height", "width", "dice", "jaccard", "hd95"]
    assert float(rows[0]["dice"]) == pytest.approx(8 / 9) and rows[2]["height"] == "3" and rows[2]["width"] == "4"
    scores.write_csv(tmp_path / "short.csv", columns=("case", "dice"))
    assert (tmp_path / "short.csv").read_text().splitlines()[0] == "case,dice"


def test_a_batch_or_a_size_mismatch_is_refused():
    scores = CaseScores()
    with pytest.raises(DataError, match="one case at a time"):
        scores.add("s", "c", torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 4, 4))
    with pytest.raises(DataError, match="same shape"):
        scores.add("s", "c", torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))
