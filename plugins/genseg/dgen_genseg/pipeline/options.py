"""Checks of the GenSeg options that control the review's fixes (called by ``GenSegConfig.__post_init__``)."""

from __future__ import annotations

from typing import Any

from dgen.errors import ConfigError
from dgen_genseg.gan.diffaugment import parse_policy

__all__ = ["PENDING_INTEGRATION", "check_new_options"]

#: options whose parts exist (and are tested) but are not yet called by the method classes, with their
#: default: a run refuses another value rather than ignore it. Remove an entry when its call is wired in
#: (see docs/genseg.md, "Review fixes: state of integration").
PENDING_INTEGRATION: dict[str, Any] = {
    "search_space": "paper",
    "lookahead_lr": None,
    "diffaugment": "none",
    "gan_augment": False,
    "seg_batchnorm": "joint",
}


def check_new_options(config: Any) -> None:
    """Raise ``ConfigError`` (naming the option and the fix) for a bad ``diffaugment`` policy or a review fix that
    is not wired in yet (ranges of numeric options: ``option_rules.py``)."""
    parse_policy(config.diffaugment)
    for name, default in PENDING_INTEGRATION.items():
        if getattr(config, name) != default:
            raise ConfigError(
                f"{name}={getattr(config, name)!r} is not wired into the training methods yet (its parts are built and "
                f"tested, see docs/genseg.md); leave {name} at its default {default!r}."
            )
