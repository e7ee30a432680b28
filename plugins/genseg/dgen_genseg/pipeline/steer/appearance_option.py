"""The ``steer`` method's learnable appearance: its transforms (option ``appearance_transforms``), where its magnitudes
start (``appearance_initial``) and the images it augments (option ``appearance_on``)."""

from __future__ import annotations

from dgen.steer import APPEARANCE_TRANSFORMS
from dgen_genseg.choice_list import parse_choice_list

__all__ = ["APPEARANCE_TARGETS", "DEFAULT_APPEARANCE_INITIAL", "DEFAULT_APPEARANCE_TRANSFORMS", "parse_appearance_on",
           "parse_appearance_transforms"]

#: the option's default (``GenSegConfig.appearance_transforms``): every transform but blur. Blur is chosen by
#: naming it: with a live blur (the discrete Gaussian) the seed-0 screen lost on validation (notes.md, "Blur").
DEFAULT_APPEARANCE_TRANSFORMS = "brightness,contrast,gamma,bias_field,noise"

#: the option's default (``GenSegConfig.appearance_initial``): every magnitude starts at a tenth of its maximum.
DEFAULT_APPEARANCE_INITIAL = 0.1

#: synthetic: the generator's images; real: the real pairs the segmenter trains on (after ``real_augmenter``)
APPEARANCE_TARGETS = ("synthetic", "real")


def parse_appearance_transforms(value: str) -> tuple[str, ...]:
    """``"noise,gamma"`` -> ``("gamma", "noise")`` (in :data:`~dgen.steer.APPEARANCE_TRANSFORMS` order).

    Raises:
        ConfigError: empty, an unknown transform (naming the closest) or a repeated one.
    """
    return parse_choice_list(value, APPEARANCE_TRANSFORMS, what="appearance_transforms list", item="transform",
                             example=DEFAULT_APPEARANCE_TRANSFORMS, allow_none=False)


def parse_appearance_on(value: str) -> tuple[str, ...]:
    """``"real,synthetic"`` -> ``("synthetic", "real")`` (in :data:`APPEARANCE_TARGETS` order).

    Raises:
        ConfigError: empty, an unknown target (naming the closest) or a repeated one.
    """
    return parse_choice_list(value, APPEARANCE_TARGETS, what="appearance_on list", item="target",
                             example="synthetic,real", allow_none=False)
