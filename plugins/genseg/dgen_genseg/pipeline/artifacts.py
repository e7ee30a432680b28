"""Image artifacts of a run, ``samples.png`` and ``predictions.png``, and their grids (also shown in TensorBoard)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import make_grid, save_image

__all__ = ["predictions_grid", "samples_grid", "save_predictions", "save_samples"]


def _rgb(x: Tensor) -> Tensor:
    """``(B, 1 or 3, H, W)`` in [0, 1] -> ``(B, 3, H, W)``."""
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def samples_grid(masks: Tensor, images: Tensor, *, max_rows: int = 8) -> Tensor:
    """``(3, H', W')`` grid, one row per pair: augmented mask ``(B, 1, H, W)`` beside the generated image
    ``(B, C, H, W)`` in [0, 1]."""
    n = min(max_rows, masks.shape[0])
    tiles = torch.stack([_rgb(masks[:n]), _rgb(images[:n])], dim=1).flatten(0, 1)  # (2n, 3, H, W)
    return make_grid(tiles.detach().float().cpu().clamp(0, 1), nrow=2, padding=2, pad_value=1.0)


def save_samples(path: Path, masks: Tensor, images: Tensor, *, max_rows: int = 8) -> None:
    """Write :func:`samples_grid` to ``path`` (PNG)."""
    save_image(samples_grid(masks, images, max_rows=max_rows), str(path))


def predictions_grid(panels: dict[str, tuple[Tensor, Tensor, Tensor]], *, max_rows: int = 4) -> Tensor:
    """``(3, H', W')`` grid: per panel, rows of image | truth | prediction.

    Args:
        panels: ``{name: (images (B, C, H, W), truths (B, 1, H, W), predictions (B, 1, H, W))}``, all in [0, 1].
    """
    rows = []
    for images, truths, predictions in panels.values():
        n = min(max_rows, images.shape[0])
        rows.append(torch.stack([_rgb(images[:n]), _rgb(truths[:n]), _rgb(predictions[:n])], dim=1).flatten(0, 1))
    tiles = torch.cat(rows).detach().float().cpu().clamp(0, 1)  # (3 x rows, 3, H, W)
    return make_grid(tiles, nrow=3, padding=2, pad_value=1.0)


def save_predictions(path: Path, panels: dict[str, tuple[Tensor, Tensor, Tensor]], *, max_rows: int = 4) -> None:
    """Write :func:`predictions_grid` (one panel per test set) to ``path`` (PNG)."""
    save_image(predictions_grid(panels, max_rows=max_rows), str(path))
