"""Checks of the GenSeg options that control the review's fixes (called by ``GenSegConfig.__post_init__``)."""

from __future__ import annotations

import math
from typing import Any

from dgen.errors import ConfigError
from dgen_genseg.gan.diffaugment import parse_policy

__all__ = ["check_new_options"]


def _positive(name: str, value: Any, *, allow_zero: bool, example: str) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    low_ok = number and (value >= 0 if allow_zero else value > 0)
    if not number or not math.isfinite(value) or not low_ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name}={value!r} is invalid: expected a finite number {bound}; pass e.g. --set {name}={example}.")


def check_new_options(config: Any) -> None:
    """Raise ``ConfigError`` (naming the option and the fix) for a bad ``lambda_l1``, ``lookahead_lr`` or ``diffaugment``."""
    _positive("lambda_l1", config.lambda_l1, allow_zero=True, example="100")
    if config.lookahead_lr is not None:
        _positive("lookahead_lr", config.lookahead_lr, allow_zero=False, example="1e-3")
    parse_policy(config.diffaugment)
