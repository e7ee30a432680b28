"""In-memory datasets of resized ``(image, mask)`` pairs.

Images are resized to ``size x size`` with Pillow's bilinear filter, which widens
its support when it shrinks (antialiased, like area averaging), masks with nearest
neighbour (pixel centres), so masks stay exactly binary. The aspect ratio is not
kept: every image is squashed to the square, as the GenSeg paper's 256 x 256 inputs
were; nothing is cropped and no padding is added, so a mask still covers its image.
Per-file work runs in numpy and Pillow and the result is stacked into one tensor,
which keeps loading fast on a busy machine (no per-image torch thread-pool calls).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from dgen.errors import ConfigError
from PIL import Image
from torch import Tensor
from torch.utils.data import TensorDataset

from dgen_genseg.data.pair import Pair, pair_arrays, pair_mask

__all__ = ["PairDataset", "load_dataset", "resize_image", "resize_mask"]


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    """float32 ``(C, H, W)`` -> ``(C, size, size)``, antialiased bilinear, clipped to [0, 1]."""
    if image.shape[-2:] == (size, size):
        return image
    channels = [
        np.asarray(Image.fromarray(channel, mode="F").resize((size, size), Image.Resampling.BILINEAR))
        for channel in image
    ]
    return np.clip(np.stack(channels), 0.0, 1.0)


def resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """bool ``(H, W)`` -> bool ``(size, size)``, nearest neighbour."""
    if mask.shape == (size, size):
        return mask
    return np.asarray(Image.fromarray(mask).resize((size, size), Image.Resampling.NEAREST))


class PairDataset(TensorDataset):
    """Images ``(N, C, S, S)`` and masks ``(N, 1, S, S)`` in memory; item ``i`` is
    ``(image (C, S, S), mask (1, S, S))`` and ``ids[i]`` its identifier.

    ``pairs`` (optional, one per item) are the files the items were read from; with them
    :meth:`native_mask` reads an item's mask back at its original size (for scoring at native
    resolution) without keeping every original mask in memory.
    """

    def __init__(
        self, images: Tensor, masks: Tensor, ids: Sequence[str], pairs: Sequence[Pair] | None = None
    ) -> None:
        if not (images.shape[0] == masks.shape[0] == len(ids)) or (pairs is not None and len(pairs) != len(ids)):
            counts = f"{images.shape[0]} images, {masks.shape[0]} masks"
            counts += f" and {len(ids)} ids" if pairs is None else f", {len(ids)} ids and {len(pairs)} pairs"
            raise ConfigError(f"PairDataset got {counts}; give one of each per item.")
        super().__init__(images, masks)
        self.images, self.masks, self.ids = images, masks, list(ids)
        self.pairs = None if pairs is None else list(pairs)

    def native_mask(self, i: int) -> np.ndarray:
        """Item ``i``'s mask at its original size, bool ``(H, W)`` (read from its files), or at the
        dataset's size ``(S, S)`` when the items were not read from files (e.g. rendered ones)."""
        if self.pairs is None:
            return self.masks[i, 0].cpu().numpy() > 0.5
        return pair_mask(self.pairs[i])


def load_dataset(pairs: Sequence[Pair], *, channels: int, size: int) -> PairDataset:
    """Read ``pairs`` (in order), resize them to ``size`` and stack them: float32 images
    ``(N, channels, size, size)`` in [0, 1] and masks ``(N, 1, size, size)`` in {0, 1}.

    Raises:
        DataError: a file cannot be read or an image and its mask differ in size.
    """
    images = np.empty((len(pairs), channels, size, size), dtype=np.float32)
    masks = np.empty((len(pairs), 1, size, size), dtype=np.float32)
    for i, pair in enumerate(pairs):
        image, mask = pair_arrays(pair, channels)
        images[i] = resize_image(image, size)
        masks[i, 0] = resize_mask(mask, size)
    return PairDataset(torch.from_numpy(images), torch.from_numpy(masks), [p.stem for p in pairs], pairs)
