"""`Dihedral`: a random symmetry of the square per sample — exact pixel permutations, so masks stay binary."""

from __future__ import annotations

import torch
from torch import Tensor

from dgen.augmenter import Augmenter
from dgen.errors import DataError

__all__ = ["Dihedral", "dihedral_transform"]

#: the 8 elements: k = 0..3 rotate by k x 90° (counter-clockwise on screen), k = 4..7 also mirror left-right.
N_ELEMENTS = 8
#: the elements that keep a non-square H x W shape: identity, 180°, and the two mirrors.
SHAPE_KEEPING = (0, 2, 4, 6)


def dihedral_transform(x: Tensor, k: int) -> Tensor:
    """Element ``k`` (0-7) of the dihedral group applied to ``x`` ``(..., H, W)``."""
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


class Dihedral(Augmenter):
    """Each sample gets one of the 8 symmetries of the square (rotations by multiples of 90°, optionally
    mirrored), uniformly; non-square inputs draw from the 4 that keep their shape. No interpolation: the
    output pixels are the input pixels moved, so masks stay exactly binary and images are not blurred."""

    def __call__(
        self, mask: Tensor, image: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """``mask`` ``(B, 1, H, W)`` and optional ``image`` ``(B, C, H, W)`` -> the same shapes, transformed alike."""
        if mask.dim() != 4 or mask.shape[1] != 1:
            raise DataError(f"Dihedral got a mask of shape {tuple(mask.shape)}; expected (B, 1, H, W).")
        batch, _, height, width = mask.shape
        if image is not None and (image.dim() != 4 or image.shape[0] != batch or image.shape[2:] != mask.shape[2:]):
            raise DataError(
                f"Dihedral got an image of shape {tuple(image.shape)} for masks {tuple(mask.shape)}; "
                "expected (B, C, H, W) with the masks' B, H and W."
            )
        elements = torch.arange(N_ELEMENTS) if height == width else torch.tensor(SHAPE_KEEPING)
        picks = elements[torch.randint(len(elements), (batch,), generator=generator)]  # (B,) on the CPU
        out_mask = torch.empty_like(mask)
        out_image = None if image is None else torch.empty_like(image)
        for k in picks.unique().tolist():
            index = (picks == k).nonzero().squeeze(1).to(mask.device)  # samples that drew element k
            out_mask[index] = dihedral_transform(mask[index], k)
            if out_image is not None and image is not None:
                out_image[index] = dihedral_transform(image[index], k)
        return out_mask, out_image

    def __repr__(self) -> str:
        return "Dihedral()"
