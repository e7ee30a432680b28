"""Every method of the genseg pipeline runs with the same segmenter, budget and model selection."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from PIL import Image

from dgen.checkpoint import load_state, load_weights
from dgen.errors import ConfigError, NumericalError
from dgen.search import Genotype
from dgen_genseg.generate import generate
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.methods import Wgan
from dgen_genseg.pipeline.parts import state_level
from dgen_genseg.pipeline.parts import wgan as wgan_part


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
    # 4 columns of tiles of >= 192 px: samples (real pair, augmented mask, generated, overlay) and predictions
    assert Image.open(run / "samples.png").size[0] >= 4 * 192 and Image.open(run / "predictions.png").size[0] >= 4 * 192
    assert Image.open(run / "loss-curves.png").size[0] >= 1000


@pytest.mark.parametrize("method", ["none", "flip"])
def test_baselines_share_budget_and_selection(tiny, tmp_path, method):
    metrics = tiny.run(tmp_path / method, method=method)
    assert metrics["method"] == method and metrics["solver"] is None
    assert metrics["iterations"] == int(tiny.values["iterations"])
    assert 0 < metrics["best_iteration"] <= metrics["iterations"]
    assert not (tmp_path / method / "generator.safetensors").exists()


@pytest.fixture(scope="module")
def wgan_run(tiny, tmp_path_factory):
    """A tiny wgan run, and copies of its pair generator's and critic's weights after the warm-up and at the end."""
    weights = {}
    step = Wgan.step

    def recording(trainer, iteration):
        stats = step(trainer, iteration)
        if iteration + 1 in (int(tiny.values["warmup_iterations"]), tiny.total):
            weights[iteration + 1] = {
                f"{name}/{k}": v.clone() for name in ("pair_generator", "critic")
                for k, v in getattr(trainer.wgan, name).state_dict().items()
            }
        return stats

    run = tmp_path_factory.mktemp("wgan") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Wgan, "step", recording)
        metrics = tiny.run(run, method="wgan", keep_checkpoint="true")  # the checkpoint is inspected below
    return run, metrics, weights


def test_wgan_trains_the_pair_gan_first_then_freezes_it(tiny, wgan_run):
    run, metrics, weights = wgan_run
    assert metrics["method"] == "wgan" and metrics["solver"] is None and metrics["iterations"] == tiny.total
    assert 0 < metrics["best_iteration"] <= tiny.total
    rows = _rows(run)
    warmup = int(tiny.values["warmup_iterations"])
    assert all(r["disc"] not in ("", "nan") and r["gen"] not in ("", "nan") and r["seg"] == "" for r in rows[:warmup])
    assert all(r["disc"] == r["gen"] == "" and r["seg"] not in ("", "nan") for r in rows[warmup:])
    assert all(r["val_dice"] == "" for r in rows[:warmup]) and rows[-1]["val_dice"] != ""
    assert (run / "samples.png").is_file() and not (run / "genotype.json").exists()
    assert Image.open(run / "samples.png").size[0] >= 3 * 192  # generated mask, image, overlay
    assert (run / "loss-curves.png").is_file()
    saved = load_weights(run / "pair_generator.safetensors")
    assert all(torch.equal(saved[k], weights[tiny.total][f"pair_generator/{k}"]) for k in saved)
    after_warmup, final = weights[warmup], weights[tiny.total]
    assert after_warmup.keys() == final.keys()
    assert all(torch.equal(after_warmup[k], final[k]) for k in final), "the pair GAN is frozen after the warm-up"


def test_the_wgan_checkpoint_holds_its_networks_optimisers_and_noise_and_names_their_levels(wgan_run):
    run, _, weights = wgan_run
    trainer = load_state(run / "checkpoint.safetensors")["trainer"]
    assert {"pair_generator", "critic", "pair_gen_opt", "critic_opt", "noise_generator"} <= set(trainer)
    for optimizer in ("pair_gen_opt", "critic_opt", "seg_opt"):
        assert trainer[optimizer]["state"], f"{optimizer} has no moments saved"
    for key, value in trainer["critic"].items():
        torch.testing.assert_close(value, weights[max(weights)][f"critic/{key}"], rtol=0, atol=0)
    bookkeeping = {"train", "aug_generator", "noise_generator"}
    assert {key: state_level(f"{key}/x") for key in trainer if key not in bookkeeping} == {
        "segmenter": "seg", "seg_opt": "seg", "pair_generator": "gen", "pair_gen_opt": "gen",
        "critic": "discriminator", "critic_opt": "discriminator",
    }


def test_generate_refuses_a_wgan_run(wgan_run, tmp_path):
    run, _, _ = wgan_run
    with pytest.raises(ConfigError, match="trained with method 'wgan', whose generator makes image-mask pairs from noise"):
        generate(run, 2, tmp_path / "out", device="cpu")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("policy", ["raise", "skip"])
def test_a_nan_in_the_wgan_critic_names_the_discriminator_or_is_skipped(tiny, tmp_path, monkeypatch, policy):
    original, calls, n_critic = wgan_part.critic_loss, [], GenSegConfig.n_critic

    def poisoned_second_iteration(*args, **kwargs):  # n_critic calls per warm-up iteration
        calls.append(None)
        loss = original(*args, **kwargs)
        return loss * math.nan if len(calls) == n_critic + 1 else loss

    monkeypatch.setattr(wgan_part, "critic_loss", poisoned_second_iteration)
    if policy == "raise":
        with pytest.raises(NumericalError) as caught:
            tiny.run(tmp_path / "run", method="wgan")
        message = str(caught.value)
        assert message.startswith(f"iteration 2 of {tiny.total}: the loss of level 'discriminator' is nan; lower gen_lr")
        assert "--set nan_policy=skip" in message
        return
    metrics = tiny.run(tmp_path / "run", method="wgan", nan_policy="skip")
    assert metrics["best_iteration"] > 0
    rows = _rows(tmp_path / "run")
    assert [r["skipped"] for r in rows] == ["0", "1"] + ["0"] * (tiny.total - 2)
    assert rows[1]["disc"] == "nan" and rows[1]["gen"] not in ("", "nan")
