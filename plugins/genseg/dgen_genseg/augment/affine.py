"""The base of every GenSeg augmenter: draw one affine map per sample, then :func:`~.warp.warp` once.

Random parameters are drawn on the device of the ``torch.Generator`` passed in (the CPU default
generator when none is), in float64, so a seeded CPU generator gives the same transforms whether the
data lives on the CPU or a GPU. Only the resampling runs on the data's device.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence

import torch
from torch import Tensor

from dgen.augmenter import Augmenter
from dgen.errors import ConfigError
from dgen_genseg.augment.warp import check_pair, warp

__all__ = ["AffineAugmenter", "affine_matrices", "check_range", "check_probability", "uniform", "bernoulli"]


class AffineAugmenter(Augmenter):
    """An augmenter whose transform is one affine map per sample (see :mod:`dgen_genseg.augment.warp`)."""

    @abstractmethod
    def sample_transforms(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> Tensor:
        """Draw ``batch`` forward maps ``(B, 3, 3)`` (float64, centred pixel coordinates, on the generator's device)."""

    def __call__(
        self, mask: Tensor, image: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Transform ``mask`` ``(B, 1, H, W)`` and optionally ``image`` ``(B, C, H, W)`` with one map per sample."""
        check_pair(mask, image)
        batch, _, height, width = mask.shape
        return warp(mask, image, self.sample_transforms(batch, height, width, generator))


def _draw_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def uniform(low: float, high: float, n: int, generator: torch.Generator | None) -> Tensor:
    """``n`` float64 draws from U(low, high) ``(n,)`` on the generator's device."""
    u = torch.rand(n, generator=generator, device=_draw_device(generator), dtype=torch.float64)
    return low + (high - low) * u


def bernoulli(p: float, n: int, generator: torch.Generator | None) -> Tensor:
    """``n`` boolean draws ``(n,)``, each True with probability ``p``, on the generator's device."""
    return torch.rand(n, generator=generator, device=_draw_device(generator), dtype=torch.float64) < p


def affine_matrices(a: Tensor, b: Tensor, c: Tensor, d: Tensor, tx: Tensor, ty: Tensor) -> Tensor:
    """Stack coefficients ``(B,)`` into forward maps ``(B, 3, 3)``: ``[[a, b, tx], [c, d, ty], [0, 0, 1]]``."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    rows = [torch.stack([a, b, tx], -1), torch.stack([c, d, ty], -1), torch.stack([zero, zero, one], -1)]
    return torch.stack(rows, dim=-2)  # (B, 3, 3)


def check_range(
    name: str,
    value: Sequence[float],
    *,
    lowest: float,
    highest: float,
    open_bounds: bool = False,
    example: str,
) -> tuple[float, float]:
    """Validate a ``(low, high)`` range inside ``[lowest, highest]`` (open interval if ``open_bounds``).

    Returns it as a tuple of floats; raises ``ConfigError`` with an example of a valid value.
    """
    bounds = f"({lowest}, {highest})" if open_bounds else f"[{lowest}, {highest}]"
    fix = f"pass {name}={example} (low <= high, both within {bounds})"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ConfigError(f"{name}={value!r} is not a (low, high) pair; {fix}.")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise ConfigError(f"{name}={value!r} must hold two finite numbers; {fix}.")
    low, high = float(value[0]), float(value[1])
    inside = (lambda v: lowest < v < highest) if open_bounds else (lambda v: lowest <= v <= highest)
    if low > high or not (inside(low) and inside(high)):
        raise ConfigError(f"{name}={value!r} is invalid; {fix}.")
    return low, high


def check_probability(name: str, value: float) -> float:
    """Validate a probability in ``[0, 1]``; raises ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name}={value!r} is not a probability; pass a number in [0, 1], e.g. {name}=0.5.")
    return float(value)
