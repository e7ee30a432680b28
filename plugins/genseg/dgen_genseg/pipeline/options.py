"""Checks of the GenSeg options that control the review's fixes (called by ``GenSegConfig.__post_init__``)."""

from __future__ import annotations

import math
from typing import Any

from dgen.errors import ConfigError
from dgen_genseg.gan.diffaugment import parse_policy

__all__ = ["PENDING_INTEGRATION", "check_new_options"]

#: options whose parts exist (and are tested) but are not yet called by the per-method trainers, with their
#: default: a run refuses another value rather than ignore it. Remove an entry when its call is wired in
#: (see docs/genseg.md, "Review fixes: state of integration").
PENDING_INTEGRATION: dict[str, Any] = {
    "search_space": "paper",
    "lookahead_lr": None,
    "diffaugment": "none",
    "gan_augment": False,
    "seg_batchnorm": "joint",
}


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
    for name, default in PENDING_INTEGRATION.items():
        if getattr(config, name) != default:
            raise ConfigError(
                f"{name}={getattr(config, name)!r} is not wired into the training methods yet (its parts are built and "
                f"tested, see docs/genseg.md); leave {name} at its default {default!r}."
            )
