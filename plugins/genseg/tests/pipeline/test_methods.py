"""Every method of the genseg pipeline runs with the same segmenter, budget and model selection."""

from __future__ import annotations

import csv

import pytest
import torch

from dgen.checkpoint import load_weights
from dgen.search import Genotype


def _rows(run):
    with (run / "log.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_separate_trains_the_gan_first_then_only_the_segmenter(tiny, tmp_path):
    metrics = tiny.run(tmp_path / "run", method="separate")
    run = tmp_path / "run"
    assert metrics["method"] == "separate" and metrics["iterations"] == tiny.total
    rows = _rows(run)
    warmup = int(tiny.values["warmup_iterations"])
    assert all(r["gen"] not in ("", "nan") and r["seg"] == "" for r in rows[:warmup]), "GAN phase trains G and D only"
    assert all(r["gen"] == "" and r["seg"] not in ("", "nan") for r in rows[warmup:]), "then only the segmenter"
    assert all(r["val_dice"] == "" for r in rows[:warmup])
    alphas = [v for k, v in load_weights(run / "generator.safetensors").items() if k.endswith(".alpha")]
    assert alphas and all(torch.equal(a, torch.zeros_like(a)) for a in alphas), "no search without MLO"
    assert len(Genotype.load(run / "genotype.json")) == len(alphas)
    assert (run / "samples.png").is_file() and (run / "predictions.png").is_file()


@pytest.mark.parametrize("method", ["none", "flip"])
def test_baselines_share_budget_and_selection(tiny, tmp_path, method):
    metrics = tiny.run(tmp_path / method, method=method)
    assert metrics["method"] == method and metrics["solver"] is None
    assert metrics["iterations"] == int(tiny.values["iterations"])
    assert 0 < metrics["best_iteration"] <= metrics["iterations"]
    assert not (tmp_path / method / "generator.safetensors").exists()
