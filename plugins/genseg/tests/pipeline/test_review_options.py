"""The options of the review's fixes: checked when the config is built; the paper preset's warm-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from dgen.config import build_config
from dgen.errors import ConfigError, UnknownNameError
from dgen_genseg.pipeline.config import PRESETS, GenSegConfig, resolve_preset


@pytest.mark.parametrize(
    "options, message",
    [
        ({"lambda_l1": -1.0}, "lambda_l1=-1.0 must be >= 0 (weight of the generator's L1 loss; pix2pix uses 100); give e.g. --set lambda_l1=100"),
        ({"lambda_l1": float("nan")}, "lambda_l1=nan is not a finite number"),
        ({"lookahead_lr": 0.0}, "lookahead_lr=0.0 must be > 0"),
        ({"diffaugment": "colour"}, "Did you mean 'color'"),
    ],
)
def test_bad_values_are_refused_with_the_fix(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        GenSegConfig(**options)


@pytest.mark.parametrize("name, value", [("search_space", "functional"), ("lookahead_lr", 1e-3),
                                         ("diffaugment", "color,cutout"), ("gan_augment", True),
                                         ("seg_batchnorm", "separate"), ("sample_mode", "eval")])
def test_the_fixes_options_are_accepted(name: str, value) -> None:
    """Every fix is wired into the methods (tests/pipeline/test_fixes_wired.py shows each changes training)."""
    assert getattr(GenSegConfig(**{name: value}), name) == value


def test_lambda_l1_zero_is_allowed_and_defaults_are_the_paper() -> None:
    config = GenSegConfig(lambda_l1=0.0)
    assert config.lambda_l1 == 0.0
    default = GenSegConfig()
    assert (default.lambda_l1, default.search_space, default.lookahead_lr, default.diffaugment) == (100.0, "paper", None, "none")
    assert (default.gan_augment, default.seg_batchnorm, default.sample_mode) == (False, "joint", None)


def test_paper_preset_warms_the_generator_up() -> None:
    """100 pix2pix epochs of the 32 training pairs of ISIC-40 at the preset's batch size 2 (the official runs: 100-200)."""
    config, name = resolve_preset(GenSegConfig(preset="paper"), torch.device("cpu"))
    assert name == "paper"
    assert config.warmup_iterations == 1600 == 100 * 32 // config.batch_size


def test_sample_mode_takes_train_eval_or_none_and_names_the_closest() -> None:
    assert [build_config(GenSegConfig, {"sample_mode": v}).sample_mode for v in ("train", "eval", "none")] == [
        "train", "eval", None]
    with pytest.raises(UnknownNameError, match="Did you mean 'eval'"):
        build_config(GenSegConfig, {"sample_mode": "evl"})


def test_the_documented_genseg_plus_fixes_line_is_a_valid_run() -> None:
    """The recipe in docs/genseg.md ("genseg + fixes") parses into the options it names."""
    docs = (Path(__file__).resolve().parents[4] / "docs" / "genseg.md").read_text()
    recipe = docs.split("### genseg + fixes: the recipe", 1)[1]
    line = next(l for l in recipe.splitlines() if l.startswith("dgen run genseg "))
    values = dict(arg.split("=", 1) for arg in re.findall(r"--set (\S+)", line))
    config = build_config(GenSegConfig, {"n_labeled": 40, **values})
    assert (config.seg_batchnorm, config.diffaugment, config.gan_augment, config.sample_mode) == (
        "separate", "color,translation,cutout", True, "eval")
    assert config.lookahead_lr == PRESETS["cpu"]["seg_lr"] and "--preset cpu" in line
    assert config.real_augmenter == "strong" and config.search_space == "paper"
