"""`Pair`: one image and its mask file(s), and reading it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from dgen.errors import DataError
from torch import Tensor

from dgen_genseg.data.io import image_array, mask_array

__all__ = ["Pair", "fit_image_to_mask", "load_pair", "pair_arrays", "pair_mask"]


@dataclass(frozen=True)
class Pair:
    """An image and the mask files that label it.

    Attributes:
        stem: identifier of the pair, unique within a dataset (e.g. ``ISIC_0000000``).
        image_path: the image file.
        mask_paths: one or more mask files; several are merged with logical OR
            (e.g. left and right lung).
        image_to_mask_size: the image is stored at an integer multiple of the mask's
            size and is area-averaged down to it (JSRT 2048 x 2048 images with SCR
            1024 x 1024 masks).
    """

    stem: str
    image_path: Path
    mask_paths: tuple[Path, ...]
    image_to_mask_size: bool = False

    def __post_init__(self) -> None:
        if not self.mask_paths:
            raise DataError(f"pair '{self.stem}' ({self.image_path}) has no mask path; give at least one mask file.")


def fit_image_to_mask(image: np.ndarray, mask_hw: tuple[int, int]) -> np.ndarray | None:
    """Area-average ``image`` ``(C, H, W)`` down to ``mask_hw`` when ``(H, W)`` is the same
    integer multiple of it on both axes; None when it is not."""
    (c, h, w), (mh, mw) = image.shape, mask_hw
    if h % mh or w % mw or h // mh != w // mw:
        return None
    f = h // mh
    return image if f == 1 else image.reshape(c, mh, f, mw, f).mean(axis=(2, 4))


def wxh(shape: tuple[int, ...]) -> str:
    """``"<W>x<H> (WxH)"`` of an array shape ``(..., H, W)``, for messages."""
    return f"{shape[-1]}x{shape[-2]} (WxH)"


def pair_mask(pair: Pair) -> np.ndarray:
    """The mask of a pair at its native size: bool ``(H, W)``, the OR of all its mask files.

    Raises:
        DataError: a file cannot be read, or the mask files differ in size.
    """
    mask = mask_array(pair.mask_paths[0])
    for path in pair.mask_paths[1:]:
        other = mask_array(path)
        if other.shape != mask.shape:
            raise DataError(
                f"{path}: mask is {wxh(other.shape)} but {pair.mask_paths[0].name} is {wxh(mask.shape)}; "
                f"masks of pair '{pair.stem}' must have one size."
            )
        mask |= other
    return mask


def pair_arrays(pair: Pair, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Read a pair at its native size (numpy).

    Returns:
        ``(image, mask)``: float32 ``(channels, H, W)`` in [0, 1] and bool ``(H, W)``
        (the OR of all mask files).

    Raises:
        DataError: a file cannot be read, or image and mask sizes differ.
    """
    mask = pair_mask(pair)
    image = image_array(pair.image_path, channels)
    fitted = fit_image_to_mask(image, mask.shape) if pair.image_to_mask_size else image
    if fitted is None or fitted.shape[-2:] != mask.shape:
        raise DataError(
            f"{pair.image_path}: image is {wxh(image.shape)} but its mask {pair.mask_paths[0]} is {wxh(mask.shape)}; "
            f"resize the mask to the image (nearest neighbour) or fix the pairing."
        )
    return fitted, mask


def load_pair(pair: Pair, channels: int) -> tuple[Tensor, Tensor]:
    """Read a pair at its native size: float32 tensors ``(channels, H, W)`` in [0, 1] and ``(1, H, W)`` in {0, 1}."""
    image, mask = pair_arrays(pair, channels)
    return torch.from_numpy(image), torch.from_numpy(mask[None].astype(np.float32))
