"""Checks of the GenSeg options that are not numeric ranges (called by ``GenSegConfig.__post_init__``)."""

from __future__ import annotations

from typing import Any

from dgen_genseg.gan.diffaugment import parse_policy

__all__ = ["check_new_options"]


def check_new_options(config: Any) -> None:
    """Raise ``ConfigError`` (naming the op and the fix) for a bad ``diffaugment`` policy (ranges of numeric
    options: ``option_rules.py``)."""
    parse_policy(config.diffaugment)
