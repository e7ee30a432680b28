"""Learnable magnitudes of named random transforms: ``magnitude_t = max_t * sigmoid(raw_t)``, each in (0, max_t).

Shared by :class:`~dgen.steer.LearnableAppearance` and :class:`~dgen.steer.LearnableGeometry`: the names are
checked against the family's choices, every magnitude starts at ``initial * max_t`` and has one raw scalar
parameter ``raw[name]`` (a module's state dict holds ``raw.<name>``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real

import torch
from torch import Tensor, nn

from dgen.errors import ConfigError, UnknownNameError

__all__ = ["SigmoidMagnitudes"]


def _check_positive(value: object, what: str, *, below_one: bool = False) -> float:
    bound = "in (0, 1)" if below_one else "> 0"
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not math.isfinite(value)
        or value <= 0
        or (below_one and value >= 1)
    ):
        raise ConfigError(f"{what}={value!r}; expected a finite number {bound}, e.g. {what}=0.1.")
    return float(value)


class SigmoidMagnitudes:
    """The checked transform names, their largest magnitudes and their raw parameters.

    Args:
        family: what the transforms are, for messages (``"appearance transform"``).
        transforms: the names to learn, a subset of ``defaults``' keys.
        initial: every magnitude starts at ``initial * max_t``, ``initial`` in (0, 1).
        maxima: ``{name: largest magnitude}`` overriding ``defaults``.
        defaults: ``{name: largest magnitude}`` of every transform of the family, in its order.

    Raises:
        ConfigError: an unknown transform (the choices and the closest match are named), a duplicate, a
            string instead of a sequence, ``initial`` not in (0, 1), or a maximum not a finite number > 0.
    """

    def __init__(
        self, family: str, transforms: Sequence[str], initial: float, maxima: Mapping[str, float] | None,
        defaults: Mapping[str, float],
    ) -> None:
        choices = tuple(defaults)
        if isinstance(transforms, str):
            raise ConfigError(
                f"transforms={transforms!r} is a string; expected a tuple of transform names; write transforms=({transforms!r},)."
            )
        names = tuple(transforms)
        for name in (*names, *(maxima or {})):
            if name not in choices:
                raise UnknownNameError(family, str(name), choices)
        for name in names:
            if names.count(name) > 1:
                raise ConfigError(f"transforms lists '{name}' twice; list each transform once.")
        initial = _check_positive(initial, "initial", below_one=True)
        #: the learned transforms, as given
        self.names = names
        #: each learned transform's largest magnitude
        self.maxima = {name: _check_positive((maxima or {}).get(name, defaults[name]), f"maxima['{name}']")
                       for name in names}
        raw = math.log(initial / (1.0 - initial))  # sigmoid(raw) = initial
        #: one raw scalar per learned transform
        self.raw = nn.ParameterDict({name: nn.Parameter(torch.tensor(raw)) for name in names})

    def values(self, raw: nn.ParameterDict) -> dict[str, Tensor]:
        """``{name: max_t * sigmoid(raw_t)}`` of the module's ``raw`` (the module's own, so ``.to()`` and
        ``functional_call`` apply), each a ``()`` tensor differentiable in ``raw_t``."""
        return {name: self.maxima[name] * torch.sigmoid(raw[name]) for name in self.names}
