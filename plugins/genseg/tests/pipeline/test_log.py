"""``log.csv`` counts segmenter updates in ``seg_iteration``, so methods with and without a warm-up line up."""

from __future__ import annotations

import csv

import pytest


@pytest.mark.parametrize("method", ["none", "separate", "wgan"])
def test_seg_iteration_counts_segmenter_updates(tiny, tmp_path, method):
    tiny.run(tmp_path / method, method=method)
    with (tmp_path / method / "log.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    warmup = 0 if method == "none" else int(tiny.values["warmup_iterations"])
    assert [r["seg_iteration"] for r in rows[:warmup]] == [""] * warmup
    assert [int(r["seg_iteration"]) for r in rows[warmup:]] == list(range(1, int(tiny.values["iterations"]) + 1))
    assert all(r["val_dice"] == "" for r in rows if r["seg_iteration"] == "")
