"""The ``steer`` method's learnable geometry (``steer=geometry``): its transforms (option ``geometry_transforms``)."""

from __future__ import annotations

from dgen.steer import GEOMETRY_TRANSFORMS
from dgen_genseg.choice_list import parse_choice_list

__all__ = ["DEFAULT_GEOMETRY_TRANSFORMS", "parse_geometry_transforms"]

#: the option's default (``GenSegConfig.geometry_transforms``): rotation, zoom and shift
DEFAULT_GEOMETRY_TRANSFORMS = ",".join(GEOMETRY_TRANSFORMS)


def parse_geometry_transforms(value: str) -> tuple[str, ...]:
    """``"translate,rotate"`` -> ``("rotate", "translate")`` (in :data:`~dgen.steer.GEOMETRY_TRANSFORMS` order).

    Raises:
        ConfigError: empty, an unknown transform (naming the closest) or a repeated one.
    """
    return parse_choice_list(value, GEOMETRY_TRANSFORMS, what="geometry_transforms list", item="transform",
                             example=DEFAULT_GEOMETRY_TRANSFORMS, allow_none=False)
