"""DiffAugment for the conditional discriminator: differentiable augmentation of its (mask, image) inputs.

Zhao et al. (2020), "Differentiable Augmentation for Data-Efficient GAN Training": the same kind of
random transform is applied to the real and the fake inputs of the discriminator, in both its
update and the generator's, so that D cannot memorise the 7-32 real pairs of a run while every
transform stays differentiable, so the generator still gets its gradient. The three ops and
their ranges are those of the paper's ``DiffAugment_pytorch.py``, in the tanh range [-1, 1]:

- ``color``: brightness ``x + (u - 0.5)``, saturation ``(x - mean_c) * 2u + mean_c``, contrast
  ``(x - mean_chw) * (u + 0.5) + mean_chw`` (u ~ U(0, 1) per sample; the image only);
- ``translation``: an integer shift of up to ``1/8`` of H and W per sample, uncovered pixels filled;
- ``cutout``: a ``H/2 x W/2`` square at a random place per sample is filled.

For pairs, the geometric ops (translation, cutout) move the mask and the image *together* (one
draw per pair), so they stay aligned; the mask is filled with -1 (background, so it stays in
{-1, 1}) and the image with 0 (as in DiffAugment). :meth:`DiffAugment.sample` draws the parameters
once, so a real and a fake pair can get the very same transform with :meth:`DiffAugment.apply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from dgen.errors import DataError
from dgen_genseg.choice_list import parse_choice_list

__all__ = ["DIFFAUGMENT_OPS", "DiffAugment", "DiffAugmentParams", "apply_params", "parse_policy"]

#: the ops of a policy, in the order they are applied
DIFFAUGMENT_OPS = ("color", "translation", "cutout")
_TRANSLATION_RATIO = 0.125
_CUTOUT_RATIO = 0.5
_MASK_FILL = -1.0
_IMAGE_FILL = 0.0


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation"`` -> ``("color", "translation")`` in :data:`DIFFAUGMENT_OPS` order; ``"none"``/``""`` -> ``()``.

    Raises:
        ConfigError: an unknown op (naming the closest) or a repeated one.
    """
    return parse_choice_list(policy, DIFFAUGMENT_OPS, what="diffaugment policy", item="op",
                             example="color,translation,cutout", allow_none=True)


@dataclass(frozen=True)
class DiffAugmentParams:
    """One draw of the random parameters for a batch of B pairs of size H x W (None: the op is off).

    Attributes:
        color: ``(B, 3)`` uniforms in [0, 1) for brightness, saturation and contrast.
        shift: ``(B, 2)`` integer shifts (rows, columns).
        cutout: ``(B, 2)`` integer centres (row, column) of the cut-out square.
    """

    color: Optional[Tensor]
    shift: Optional[Tensor]
    cutout: Optional[Tensor]


class DiffAugment:
    """The DiffAugment ``policy`` on (condition, image) pairs ``(B, C_c, H, W)``, ``(B, C_i, H, W)`` in [-1, 1].

    ``DiffAugment("none")`` is the identity (it returns its inputs). Every op is differentiable with
    respect to the image (and the condition): shifts and cut-outs select and fill pixels, colour ops
    are affine in the image.
    """

    def __init__(self, policy: str = "color,translation,cutout") -> None:
        self.ops = parse_policy(policy)

    @property
    def enabled(self) -> bool:
        return bool(self.ops)

    def __repr__(self) -> str:
        return f"DiffAugment({','.join(self.ops) or 'none'!r})"

    def sample(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> DiffAugmentParams:
        """Draw the parameters of ``batch`` pairs (on the generator's device; the CPU when None)."""
        device = generator.device if generator is not None else torch.device("cpu")

        def rand(*shape: int) -> Tensor:
            return torch.rand(*shape, generator=generator, device=device)

        color = rand(batch, 3) if "color" in self.ops else None
        shift = cutout = None
        if "translation" in self.ops:
            limit = torch.tensor([int(height * _TRANSLATION_RATIO + 0.5), int(width * _TRANSLATION_RATIO + 0.5)])
            shift = torch.floor(rand(batch, 2) * (2 * limit + 1)).long() - limit  # (B, 2) in [-limit, limit]
        if "cutout" in self.ops:
            size = torch.tensor([height, width])
            cutout = torch.floor(rand(batch, 2) * size).long()  # (B, 2) centres
        return DiffAugmentParams(color, shift, cutout)

    def apply(self, params: DiffAugmentParams, condition: Tensor, image: Tensor) -> tuple[Tensor, Tensor]:
        """Transform the pairs with ``params`` (see :func:`apply_params`)."""
        return apply_params(params, condition, image)

    def __call__(
        self, condition: Tensor, image: Tensor, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Draw parameters and apply them (the inputs themselves when the policy is empty)."""
        if not self.ops:
            return condition, image
        return self.apply(self.sample(image.shape[0], image.shape[2], image.shape[3], generator), condition, image)


def apply_params(params: DiffAugmentParams, condition: Tensor, image: Tensor) -> tuple[Tensor, Tensor]:
    """Transform pairs ``(B, C_c, H, W)``, ``(B, C_i, H, W)`` with one draw ``params``: the image gets the colour
    ops; both get the same geometry (mask filled with -1, image with 0)."""
    if condition.dim() != 4 or image.dim() != 4 or condition.shape[0] != image.shape[0] or condition.shape[2:] != image.shape[2:]:
        raise DataError(
            f"DiffAugment got condition {tuple(condition.shape)} and image {tuple(image.shape)}; expected "
            f"(B, C_c, H, W) and (B, C_i, H, W) with the same B, H, W."
        )
    if params.color is not None:
        image = _color(image, params.color.to(image.device, image.dtype))
    if params.shift is not None:
        shift = params.shift.to(image.device)
        condition, image = _translate(condition, shift, _MASK_FILL), _translate(image, shift, _IMAGE_FILL)
    if params.cutout is not None:
        keep = _cutout_keep(params.cutout.to(image.device), *image.shape[2:])  # (B, 1, H, W)
        condition = torch.where(keep, condition, torch.full_like(condition, _MASK_FILL))
        image = torch.where(keep, image, torch.full_like(image, _IMAGE_FILL))
    return condition, image


def _color(image: Tensor, u: Tensor) -> Tensor:
    """DiffAugment's brightness, saturation and contrast of ``image`` ``(B, C, H, W)`` with uniforms ``u`` ``(B, 3)``."""
    b, s, c = (u[:, i].view(-1, 1, 1, 1) for i in range(3))
    image = image + (b - 0.5)
    mean = image.mean(dim=1, keepdim=True)  # (B, 1, H, W)
    image = (image - mean) * (s * 2) + mean
    mean = image.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return (image - mean) * (c + 0.5) + mean


def _translate(x: Tensor, shift: Tensor, fill: float) -> Tensor:
    """``x`` ``(B, C, H, W)`` moved down/right by ``shift`` ``(B, 2)`` pixels; uncovered pixels = ``fill``."""
    batch, _, height, width = x.shape
    rows = torch.arange(height, device=x.device)[None, :] - shift[:, :1]  # (B, H) source row of each output row
    cols = torch.arange(width, device=x.device)[None, :] - shift[:, 1:]  # (B, W)
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]  # (B, H, W)
    index = torch.arange(batch, device=x.device)[:, None, None]
    moved = x[index, :, rows.clamp(0, height - 1)[:, :, None], cols.clamp(0, width - 1)[:, None, :]]  # (B, H, W, C)
    moved = moved.permute(0, 3, 1, 2)  # (B, C, H, W)
    return torch.where(inside[:, None], moved, torch.full_like(moved, fill))


def _cutout_keep(centres: Tensor, height: int, width: int) -> Tensor:
    """``(B, 1, H, W)`` True outside the ``H/2 x W/2`` square centred at ``centres`` ``(B, 2)``."""
    half_h, half_w = int(height * _CUTOUT_RATIO + 0.5) // 2, int(width * _CUTOUT_RATIO + 0.5) // 2
    rows = torch.arange(height, device=centres.device)[None, :]
    cols = torch.arange(width, device=centres.device)[None, :]
    in_rows = (rows >= centres[:, :1] - half_h) & (rows < centres[:, :1] + half_h)  # (B, H)
    in_cols = (cols >= centres[:, 1:] - half_w) & (cols < centres[:, 1:] + half_w)  # (B, W)
    return ~(in_rows[:, :, None] & in_cols[:, None, :])[:, None]
