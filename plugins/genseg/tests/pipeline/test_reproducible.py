"""Two CPU runs with one seed are identical: metrics (but timings), every logged loss, the weights."""

from __future__ import annotations

import json


def test_two_runs_with_one_seed_are_identical(tiny, reference_run, tmp_path):
    metrics = tiny.run(tmp_path / "again")
    saved = json.loads((reference_run / "metrics.json").read_text())
    assert tiny.without_timing(metrics) == tiny.without_timing(saved)
    assert (tmp_path / "again" / "log.csv").read_text() == (reference_run / "log.csv").read_text()
    for weights in ("segmenter.safetensors", "generator.safetensors", "discriminator.safetensors"):
        assert (tmp_path / "again" / weights).read_bytes() == (reference_run / weights).read_bytes(), weights


def test_another_seed_gives_another_run(tiny, reference_run, tmp_path):
    """The comparison above can fail: the seed reaches the split, the weights and the batches."""
    metrics = tiny.run(tmp_path / "seed1", seed="1")
    saved = json.loads((reference_run / "metrics.json").read_text())
    assert metrics["test"] != saved["test"]
    assert (tmp_path / "seed1" / "log.csv").read_text() != (reference_run / "log.csv").read_text()
