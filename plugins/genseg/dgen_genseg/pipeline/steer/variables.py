"""The variables the ``steer`` method's upper-level loss can steer (option ``steer``)."""

from __future__ import annotations

from dgen.errors import ConfigError
from dgen_genseg.choice_list import parse_choice_list

__all__ = ["STEER_VARIABLES", "DEFAULT_STEER", "parse_steer", "steer_variables"]

#: appearance: a learnable photometric augmentation of the synthetic images; geometry: a learnable random
#: similarity warp of the synthetic pairs (image and mask together); weights: a learned weight per
#: synthetic pair of a pool; weightnet: the pool's pairs weighed by a small network of their features instead;
#: generator: the generator's weights; arch: the generator's alpha.
STEER_VARIABLES = ("appearance", "geometry", "weights", "weightnet", "generator", "arch")
#: the option's default (``GenSegConfig.steer``): all three variables that shape the data, the best of the
#: seed-0 screen by validation Dice (docs/results.md)
DEFAULT_STEER = "appearance,weights,generator"


def parse_steer(value: str) -> tuple[str, ...]:
    """``"weights,appearance"`` -> ``("appearance", "weights")`` (in :data:`STEER_VARIABLES` order).

    Raises:
        ConfigError: empty, an unknown variable (naming the closest), a repeated one, or both weights and weightnet.
    """
    return _one_weighing(parse_choice_list(value, STEER_VARIABLES, what="steer list", item="variable",
                                           example="appearance,weights", allow_none=False), f"steer={value!r}")


def _one_weighing(variables: tuple[str, ...], source: str) -> tuple[str, ...]:
    """``variables`` unchanged unless they name both ways of weighing the pool.

    Raises:
        ConfigError: both ``weights`` and ``weightnet``.
    """
    if "weights" in variables and "weightnet" in variables:
        raise ConfigError(f"{source} names both weights and weightnet: two ways of weighing one pool (a logit per pair, "
                          f"or a network of each pair's features); keep one.")
    return variables


def steer_variables(method: str, option: str) -> tuple[str, ...]:
    """The variables of a run of ``method``: a member of the ``steer`` family names them (``steer:appearance+arch``);
    the bare ``steer`` takes the option ``steer`` (``option``).

    Raises:
        ConfigError: a bad list, or both a member's variables and a non-default option.
    """
    *head, last = method.split(":")
    if not head or head[-1] != "steer":
        return parse_steer(option)
    if option != DEFAULT_STEER:
        raise ConfigError(f"method {method!r} names its variables, and steer={option!r} names others; drop --set "
                          f"steer=... or use --method steer --set steer={option}.")
    return _one_weighing(parse_choice_list(last.replace("+", ","), STEER_VARIABLES, what=f"method {method!r}",
                                           item="variable", example="appearance+weights", allow_none=False),
                         f"method {method!r}")
