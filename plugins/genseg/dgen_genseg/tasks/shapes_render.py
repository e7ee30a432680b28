"""Procedural lesion-like image-mask pairs.

A lesion is a perturbed ellipse (random centre, size, elongation, rotation and a
few low-order Fourier wobbles of its radius); the mask is its interior, exactly
{0, 1}. The image blends a textured background (smooth noise at two scales, a
colour cast and an illumination gradient) with a textured lesion through a soft
boundary of random width, adds one to four lesion-coloured but fainter (30-80 %)
distractor spots that are not in the mask, and pixel noise. Everything is drawn from a
``torch.Generator`` seeded by the item id, so an item is the same wherever it is
rendered, and is rendered in continuous coordinates, so at any size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from dgen_genseg.tasks.protocol import stable_seed

__all__ = ["IN_DOMAIN", "OUT_OF_DOMAIN", "Palette", "render_shape"]


@dataclass(frozen=True)
class Palette:
    """The look of a domain.

    Attributes:
        background: mean background colour (RGB in [0, 1]).
        lesion: mean lesion colour.
        jitter: per-item uniform colour jitter (+-jitter/2 per channel).
        texture: amplitude of the smooth texture of background and lesion.
        grain: number of noise cells across the image for the fine texture.
        contrast: range ``(low, high)`` of the lesion's contrast against the background (1 = full).
        noise: standard deviation of the pixel noise.
    """

    background: tuple[float, float, float]
    lesion: tuple[float, float, float]
    jitter: float
    texture: float
    grain: int
    contrast: tuple[float, float]
    noise: float


#: skin-like: beige background, brown lesion.
IN_DOMAIN = Palette((0.85, 0.66, 0.56), (0.42, 0.25, 0.17), 0.16, 0.22, 12, (0.35, 0.9), 0.05)
#: another domain: grey-blue background, purple lesion, lower contrast, finer grain, more noise.
OUT_OF_DOMAIN = Palette((0.60, 0.68, 0.80), (0.36, 0.26, 0.46), 0.16, 0.18, 24, (0.3, 0.7), 0.07)


def _smooth(g: torch.Generator, channels: int, cells: int, size: int) -> Tensor:
    """Smooth noise ``(channels, size, size)`` in about [-0.5, 0.5] (bicubic upsampling of ``cells`` x ``cells``)."""
    coarse = torch.rand(1, channels, cells, cells, generator=g) - 0.5
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0]


def _blob(g: torch.Generator, xx: Tensor, yy: Tensor, centre_range: float, radius: tuple[float, float]) -> Tensor:
    """Signed normalised distance ``rho / r(theta) - 1`` ``(S, S)`` to a random perturbed ellipse (< 0 inside)."""
    u = torch.rand(8, generator=g).tolist()
    cx, cy = (u[0] - 0.5) * 2 * centre_range, (u[1] - 0.5) * 2 * centre_range
    r0 = radius[0] + (radius[1] - radius[0]) * u[2]
    aspect, angle = 0.55 + 0.45 * u[3], 2 * math.pi * u[4]
    dx, dy = xx - cx, yy - cy
    x = math.cos(angle) * dx + math.sin(angle) * dy
    y = (-math.sin(angle) * dx + math.cos(angle) * dy) / aspect
    rho, theta = torch.sqrt(x**2 + y**2), torch.atan2(y, x)
    wobble = torch.ones_like(theta)
    amps, phases = torch.rand(4, generator=g) * 2 - 1, torch.rand(4, generator=g) * 2 * math.pi
    for k, (a, phi) in enumerate(zip(amps.tolist(), phases.tolist(), strict=True), start=2):
        wobble = wobble + (0.3 / k) * a * torch.cos(k * theta + phi)
    return rho / (r0 * wobble) - 1.0


def render_shape(item_id: str, size: int, palette: Palette) -> tuple[Tensor, Tensor]:
    """Render item ``item_id``.

    Returns:
        ``(image, mask)``: float32 ``(3, size, size)`` in [0, 1] and float32 ``(1, size, size)`` in {0, 1}.
    """
    g = torch.Generator().manual_seed(stable_seed(item_id))
    centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1  # pixel centres in (-1, 1)
    yy, xx = torch.meshgrid(centres, centres, indexing="ij")  # (S, S)

    def colour(mean: tuple[float, float, float]) -> Tensor:
        return (torch.tensor(mean) + palette.jitter * (torch.rand(3, generator=g) - 0.5)).view(3, 1, 1)

    # texture mostly in brightness, a little in hue
    background = colour(palette.background) + palette.texture * (
        _smooth(g, 1, 4, size) + 0.3 * _smooth(g, 3, 4, size) + 0.5 * _smooth(g, 1, palette.grain, size)
    )
    tilt = (torch.rand(2, generator=g) - 0.5) * 0.3
    background = background * (1 + tilt[0] * xx + tilt[1] * yy)  # illumination gradient

    lo, hi = palette.contrast
    contrast = lo + (hi - lo) * torch.rand(1, generator=g).item()
    lesion_colour = colour(palette.lesion) + palette.texture * (_smooth(g, 1, 6, size) + 0.3 * _smooth(g, 3, 6, size))
    lesion = background + contrast * (lesion_colour - background)

    distance = _blob(g, xx, yy, 0.35, (0.3, 0.55))  # (S, S)
    softness = 0.04 + 0.16 * torch.rand(1, generator=g).item()
    image = background + torch.sigmoid(-distance / softness) * (lesion - background)
    n_spots = 1 + int(torch.randint(0, 4, (1,), generator=g))
    for _ in range(n_spots):
        spot = torch.sigmoid(-_blob(g, xx, yy, 0.8, (0.06, 0.16)) / 0.15)
        strength = 0.3 + 0.5 * torch.rand(1, generator=g).item()
        image = image + strength * spot * (lesion - background)
    image = image + palette.noise * torch.randn(3, size, size, generator=g)
    mask = (distance < 0).to(torch.float32).unsqueeze(0)
    return image.clamp(0.0, 1.0), mask
