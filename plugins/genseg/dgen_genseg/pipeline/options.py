"""Checks of the GenSeg options that are not numeric ranges (called by ``GenSegConfig.__post_init__``)."""

from __future__ import annotations

from typing import Any

from dgen.errors import ConfigError
from dgen_genseg.gan.diffaugment import parse_policy
from dgen_genseg.pipeline.steer.appearance_option import parse_appearance_on, parse_appearance_transforms
from dgen_genseg.pipeline.steer.geometry_option import parse_geometry_transforms
from dgen_genseg.pipeline.steer.variables import parse_steer

__all__ = ["check_new_options"]


def check_new_options(config: Any) -> None:
    """Raise ``ConfigError`` (naming the value and the fix) for a bad ``diffaugment`` policy, ``steer`` list,
    ``appearance_transforms``, ``appearance_on`` or ``geometry_transforms`` list, or a ``synthetic_filter_drop``
    without a filter (ranges of numeric options: ``option_rules.py``)."""
    parse_policy(config.diffaugment)
    parse_steer(config.steer)
    parse_appearance_transforms(config.appearance_transforms)
    parse_appearance_on(config.appearance_on)
    parse_geometry_transforms(config.geometry_transforms)
    if config.synthetic_filter == 0 and config.synthetic_filter_drop != "worst":
        raise ConfigError(
            f"synthetic_filter_drop={config.synthetic_filter_drop!r} is read only with synthetic_filter > 0, and it is 0; "
            "give e.g. --set synthetic_filter=0.25 or drop --set synthetic_filter_drop=..."
        )
