"""``real_augmenter``: the real pairs a GAN-based method's segmenter trains on can be classically augmented."""

from __future__ import annotations

import csv

import pytest
import torch

from dgen.errors import ConfigError, UnknownNameError
from dgen_genseg.pipeline.levels import GenSegBatch, synthetic_plus_real_loss


def _seg_losses(run):
    with (run / "log.csv").open(newline="") as handle:
        return [row["seg"] for row in csv.DictReader(handle) if row["seg"]]


def test_the_segmenter_loss_uses_the_augmented_real_pairs():
    seen = []

    def segment(x):  # records its input, predicts "everything foreground"
        seen.append(x)
        return torch.full_like(x[:, :1], 10.0)

    images, masks = torch.rand(2, 3, 4, 4), torch.zeros(2, 1, 4, 4)
    flipped_images, flipped_masks = images.flip(-1), torch.ones(2, 1, 4, 4)
    batch = GenSegBatch(images, masks, torch.ones(2, 1, 4, 4), images[:0], masks[:0], flipped_images, flipped_masks)
    loss = synthetic_plus_real_loss(segment, lambda logits, m: (torch.sigmoid(logits) - m).abs().mean(),
                                    torch.rand(2, 3, 4, 4), batch, gamma=1.0)
    torch.testing.assert_close(seen[0][2:], flipped_images)
    assert loss.item() == pytest.approx(0.0, abs=1e-4)  # all-ones masks: the real half's targets were the augmented ones
    plain = GenSegBatch(images, masks, torch.ones(2, 1, 4, 4), images[:0], masks[:0])
    assert plain.real_pairs() == (images, masks)


@pytest.mark.parametrize("method", ["genseg", "separate"])
def test_a_run_with_augmented_real_pairs_trains_differently(tiny, tmp_path, method, reference_run):
    metrics = tiny.run(tmp_path / "aug", method=method, real_augmenter="flip")
    assert metrics["method"] == method
    plain = reference_run if method == "genseg" else None
    if plain is None:
        tiny.run(tmp_path / "plain", method=method)
        plain = tmp_path / "plain"
    augmented, reference = _seg_losses(tmp_path / "aug"), _seg_losses(plain)
    assert len(augmented) == len(reference) and augmented != reference


def test_real_augmenter_is_refused_for_methods_without_generated_data(tiny, tmp_path):
    with pytest.raises(ConfigError, match="real_augmenter='flip' is not read by method 'none' \\(only by genseg, joint, separate, steer, wgan\\)"):
        tiny.run(tmp_path / "run", method="none", real_augmenter="flip")
    assert not (tmp_path / "run" / "log.csv").exists(), "refused by the preflight check, before any training"


def test_an_unknown_real_augmenter_names_the_closest(tiny, tmp_path):
    with pytest.raises(UnknownNameError, match="Did you mean 'combine'"):
        tiny.run(tmp_path / "run", real_augmenter="combin")
    assert not (tmp_path / "run" / "log.csv").exists(), "refused by the preflight check, before any training"


@pytest.mark.parametrize("method, option, value", [
    ("none", "lookahead_lr", "0.001"), ("strong", "seg_batchnorm", "separate"), ("joint", "lookahead_lr", "0.001"),
    ("wgan", "diffaugment", "color"), ("separate", "lookahead_lr", "0.001"), ("combine", "sample_mode", "eval"),
])
def test_a_method_option_the_method_would_ignore_is_refused_before_anything_is_written(tiny, tmp_path, method, option,
                                                                                      value):
    with pytest.raises(ConfigError, match=rf"^{option}=.* is not read by method '{method}' \(only by .*\), so it would "
                                          rf"change nothing; drop --set {option}="):
        tiny.run(tmp_path / "run", method=method, **{option: value})
    assert not (tmp_path / "run" / "log.csv").exists()


def test_every_builtin_method_declares_the_method_options_it_reads():
    from dgen_genseg.pipeline.methods import method_entries
    from dgen_genseg.pipeline.methods.reads import METHOD_OPTIONS

    for entry in method_entries():
        assert set(entry.meta["reads"]) <= set(METHOD_OPTIONS), entry.name
    assert "lookahead_lr" in {o for e in method_entries() if e.name == "genseg" for o in e.meta["reads"]}
