"""The variables the ``steer`` method's upper-level loss can steer (option ``steer``)."""

from __future__ import annotations

from dgen_genseg.choice_list import parse_choice_list

__all__ = ["STEER_VARIABLES", "parse_steer"]

#: appearance: a learnable photometric augmentation of the synthetic images; weights: a learned weight per
#: synthetic pair of a pool; generator: the generator's weights; arch: the generator's alpha.
STEER_VARIABLES = ("appearance", "weights", "generator", "arch")


def parse_steer(value: str) -> tuple[str, ...]:
    """``"weights,appearance"`` -> ``("appearance", "weights")`` (in :data:`STEER_VARIABLES` order).

    Raises:
        ConfigError: empty, an unknown variable (naming the closest) or a repeated one.
    """
    return parse_choice_list(value, STEER_VARIABLES, what="steer list", item="variable",
                             example="appearance,weights", allow_none=False)
