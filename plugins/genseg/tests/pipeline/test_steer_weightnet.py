"""``steer=weightnet``: a small network weighs the pool's pairs by their features; the run learns it, keeps it over
refills, logs the batch's weights and leaves each pair's utility (``dgen generate --min-utility`` reads it)."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from PIL import Image

from dgen.checkpoint import load_weights
from dgen.errors import ConfigError
from dgen.mlo import Context
from dgen_genseg.generate import UTILITY_FILE, generate
from dgen_genseg.metrics import bce_dice_loss
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.sample_mode import untouched
from dgen_genseg.pipeline.steer.pair_features import PAIR_FEATURES, pair_features
from dgen_genseg.pipeline.steer.pool import SyntheticPool
from dgen_genseg.pipeline.steer.variables import parse_steer, steer_variables

POOL = {"pool_size": "6", "pool_refresh": "4", "hyper_start": "0", "hyper_every": "1", "weights_lr": "0.05"}


@pytest.fixture(scope="module")
def weightnet_run(tiny, tmp_path_factory):
    run = tmp_path_factory.mktemp("weightnet") / "run"
    return run, tiny.run(run, method="steer", steer="appearance,weightnet", **POOL)


def test_a_weightnet_run_weighs_its_pairs_apart_and_leaves_their_utility(tiny, weightnet_run, tmp_path):
    run, metrics = weightnet_run
    assert metrics["method"] == "steer" and metrics["iterations"] == tiny.total
    with (run / "log.csv").open(newline="") as handle:
        steered = list(csv.DictReader(handle))[int(tiny.values["warmup_iterations"]):]
    spread = [float(r["w_max"]) - float(r["w_min"]) for r in steered]
    assert spread[0] == 0.0 and max(spread) > 0, "the network starts at 1 for every pair, then weighs them apart"
    assert all(math.isfinite(float(r["steer_grad_norm"])) for r in steered)
    pool = load_weights(run / "synthetic_pool.safetensors")
    weights = pool["weights"]
    assert weights.shape == (6,) and bool(((weights > 0) & (weights < 2)).all()) and float(weights.std()) > 0
    assert Image.open(run / "utility.png").size[0] >= 400
    generate(run, 6, tmp_path / "kept", device="cpu", min_utility=float(weights.median()))
    kept = [float(r.split(",")[2]) for r in (tmp_path / "kept" / UTILITY_FILE).read_text().splitlines()[1:]]
    assert len(kept) == 6 and min(kept) >= float(weights.median()) * (1 - 5e-6)  # written to 6 significant digits


def test_pair_features_are_each_pairs_loss_in_eval_mode_and_its_area():
    torch.manual_seed(0)
    segmenter = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                                    torch.nn.Conv2d(4, 1, 1)).train()
    images, masks = torch.rand(3, 3, 8, 8), (torch.rand(3, 1, 8, 8) > 0.7).float()
    running = segmenter[1].running_mean.clone()
    features = pair_features(segmenter, bce_dice_loss, images, masks)
    assert features.shape == (3, len(PAIR_FEATURES)) and not features.requires_grad
    assert segmenter.training and torch.equal(segmenter[1].running_mean, running), "BatchNorm statistics untouched"
    segmenter.eval()
    with torch.no_grad():
        expected = [float(bce_dice_loss(segmenter(images[i : i + 1]), masks[i : i + 1])) for i in range(3)]
    torch.testing.assert_close(features[:, 0], torch.tensor(expected))
    torch.testing.assert_close(features[:, 1], masks.flatten(1).mean(1))


def test_a_network_pool_is_kept_over_refills_and_needs_features():
    pool = SyntheticPool(4, 2, (1, 8, 8), seed=0, device=torch.device("cpu"), by="net")
    assert not pool.per_pair
    with torch.no_grad():
        for p in pool.weights.parameters():
            p.add_(0.3)
    before = [p.detach().clone() for p in pool.weights.parameters()]
    pool.refill((torch.rand(5, 1, 8, 8) > 0.5).float(), lambda masks, generator=None: (masks, None))
    assert float(pool.masks.sum()) > 0, "the pool was refilled"
    assert all(torch.equal(a, p) for a, p in zip(before, pool.weights.parameters(), strict=True))
    features = torch.rand(4, len(PAIR_FEATURES))
    torch.testing.assert_close(pool.weigh(Context(), torch.arange(4), features), pool.utility(features))
    with pytest.raises(ConfigError, match="needs each pair's features"):
        pool.weigh(Context(), torch.arange(4), None)
    with pytest.raises(ConfigError, match="needs every pair's features"):
        pool.utility()
    with pytest.raises(ConfigError, match="by='pairs'; expected 'pair'"):
        SyntheticPool(4, 2, (1, 8, 8), seed=0, device=torch.device("cpu"), by="pairs")


def test_a_train_mode_pass_inside_untouched_leaves_no_trace():
    module = torch.nn.Sequential(torch.nn.BatchNorm2d(2), torch.nn.Dropout(0.5)).train()
    running = module[0].running_mean.clone()
    state = torch.random.get_rng_state()
    with untouched(module, torch.device("cpu")):
        module(torch.rand(4, 2, 3, 3) + 5)
        assert not torch.equal(module[0].running_mean, running)
    assert torch.equal(module[0].running_mean, running) and torch.equal(torch.random.get_rng_state(), state)


def test_a_normalized_network_pool_weighs_each_batch_and_the_pool_to_mean_one():
    pool = SyntheticPool(4, 2, (1, 8, 8), seed=0, device=torch.device("cpu"), by="net", normalize=True)
    with torch.no_grad():
        for p in pool.weights.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    features = torch.rand(4, len(PAIR_FEATURES))
    assert float(pool.utility(features).std()) > 0
    assert float(pool.utility(features).mean()) == pytest.approx(1.0)
    assert float(pool.weigh(Context(), torch.arange(2), features[:2]).detach().mean()) == pytest.approx(1.0)


def test_weightnet_norm_is_refused_without_weightnet(tiny, tmp_path):
    result = tiny.cli("run", "genseg", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress",
                      "--method", "steer:weights", *tiny.set_args(weightnet_norm="batch"))
    assert "weightnet_norm='batch' is read only when weightnet is steered, and this run steers weights" in (
        tiny.error_line(result))
    result = tiny.cli("run", "genseg", "--out", str(tmp_path / "bad"), "--device", "cpu", "--no-progress",
                      "--method", "steer:weightnet", *tiny.set_args(weightnet_norm="mean"))
    assert "unknown value for option 'weightnet_norm' 'mean'. Available: batch, none" in tiny.error_line(result)


def test_weights_and_weightnet_are_refused_together():
    assert parse_steer("weightnet,appearance") == ("appearance", "weightnet")
    with pytest.raises(ConfigError, match="steer='weights,weightnet' names both weights and weightnet.*keep one"):
        GenSegConfig(steer="weights,weightnet")
    with pytest.raises(ConfigError, match="method 'steer:weightnet\\+weights' names both"):
        steer_variables("steer:weightnet+weights", "appearance,weights,generator")
    with pytest.raises(ConfigError, match="Did you mean 'weightnet'"):
        parse_steer("weightnett")
