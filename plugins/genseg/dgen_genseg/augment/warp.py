"""Resample an aligned mask-image batch with one affine transform per sample.

Transforms are 3 x 3 matrices in *centred pixel coordinates*: x to the right and y downwards, in
pixels, with the origin at the image centre. A matrix maps where content is to where it goes (the
forward map); :func:`warp` inverts it and samples with ``affine_grid`` / ``grid_sample``
(``align_corners=False``), so everything runs on the device of the inputs.

Masks are resampled bilinearly and re-binarised at 0.5 (``> 0.5`` is 1): the result is exactly
``{0, 1}``, its edges are smoother than nearest-neighbour sampling under rotation, and it is the
same as thresholding the bilinearly warped image, so a mask and an image equal to it stay aligned
to the pixel. Content moved in from outside the frame is 0 (background mask, black image).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dgen.errors import DataError

__all__ = ["check_pair", "warp", "resample", "sampling_dtype", "MASK_THRESHOLD"]

#: bilinearly resampled mask values strictly above this become 1, the rest 0.
MASK_THRESHOLD = 0.5


def check_pair(mask: Tensor, image: Tensor | None) -> None:
    """Raise ``DataError`` unless ``mask`` is ``(B, 1, H, W)`` and ``image`` (if any) a float ``(B, C, H, W)`` beside it."""
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise DataError(
            f"augmenter got a mask of shape {tuple(mask.shape)}; expected (B, 1, H, W); "
            f"add the batch/channel axes with mask.view(B, 1, H, W)."
        )
    if image is None:
        return
    if image.dim() != 4 or image.shape[0] != mask.shape[0] or image.shape[2:] != mask.shape[2:]:
        raise DataError(
            f"augmenter got an image of shape {tuple(image.shape)} for a mask of shape {tuple(mask.shape)}; "
            f"expected (B, C, H, W) with the mask's B={mask.shape[0]}, H={mask.shape[2]}, W={mask.shape[3]}; "
            f"pass the image that belongs to each mask."
        )
    if not image.is_floating_point():
        raise DataError(
            f"augmenter got an image of dtype {image.dtype}; expected a float image in [0, 1]; call image.float() / 255."
        )
    if image.device != mask.device:
        raise DataError(
            f"augmenter got the mask on {mask.device} and the image on {image.device}; move both to one device."
        )


def _sampling_theta(forward: Tensor, height: int, width: int) -> Tensor:
    """Forward maps ``(B, 3, 3)`` in centred pixels -> ``affine_grid`` thetas ``(B, 2, 3)`` (output -> input, normalised)."""
    to_pixels = torch.diag(forward.new_tensor([width / 2.0, height / 2.0, 1.0]))  # normalised -> centred pixels
    to_normalised = torch.diag(forward.new_tensor([2.0 / width, 2.0 / height, 1.0]))
    theta = to_normalised @ torch.linalg.inv(forward) @ to_pixels  # (B, 3, 3)
    return theta[:, :2, :]  # (B, 2, 3)


def warp(mask: Tensor, image: Tensor | None, forward: Tensor) -> tuple[Tensor, Tensor | None]:
    """Apply the forward maps ``forward`` ``(B, 3, 3)`` to ``mask`` ``(B, 1, H, W)`` and ``image`` ``(B, C, H, W)``.

    ``forward`` may live on another device or dtype (parameters are drawn where the random generator
    lives); it is moved to the inputs. Returns ``(mask, image)`` with the input dtypes; the mask is
    exactly binary, the image bilinearly resampled (differentiable with respect to ``image``).
    """
    check_pair(mask, image)
    batch, _, height, width = mask.shape
    dtype = sampling_dtype(mask, image)
    theta = _sampling_theta(forward.to(torch.float64), height, width).to(device=mask.device, dtype=dtype)
    grid = F.affine_grid(theta, [batch, 1, height, width], align_corners=False)  # (B, H, W, 2)
    return resample(mask, image, grid)


def sampling_dtype(mask: Tensor, image: Tensor | None) -> torch.dtype:
    """The float dtype the sampling grid and the resampling use: the image's, else the mask's (float32 for integer masks)."""
    if image is not None:
        return image.dtype
    return mask.dtype if mask.is_floating_point() else torch.float32


def resample(mask: Tensor, image: Tensor | None, grid: Tensor) -> tuple[Tensor, Tensor | None]:
    """Sample ``mask`` ``(B, 1, H, W)`` and ``image`` ``(B, C, H, W)`` at ``grid`` ``(B, H, W, 2)``.

    ``grid`` holds, for every output pixel, the (x, y) position to read in ``grid_sample``'s normalised
    coordinates (``align_corners=False``), in :func:`sampling_dtype` on the inputs' device. The mask is
    sampled bilinearly and re-binarised (``> MASK_THRESHOLD``, keeping its dtype), the image bilinearly;
    positions outside the frame read 0.
    """
    sampled = F.grid_sample(mask.to(grid.dtype), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    new_mask = (sampled > MASK_THRESHOLD).to(mask.dtype)  # (B, 1, H, W), exactly {0, 1}
    new_image = None
    if image is not None:
        new_image = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return new_mask, new_image
