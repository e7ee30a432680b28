"""Image artifacts of a run: ``samples.png`` and ``predictions.png``, labelled figures for people to read,
and the plain tensor grids of the same images that TensorBoard shows at each validation.

``samples.png``: per row, (GenSeg) a real training image with its mask's outline, an augmented mask, the
image generated from it and that image with the mask's outline; (wgan) a generated mask, its image and
the overlay. ``predictions.png``: per test case, image, ground truth, prediction with its Dice, and the
image with both outlines (ground truth cyan, prediction magenta).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torchvision.utils import make_grid

from dgen_genseg.metrics import dice_per_image
from dgen_genseg.pipeline.figures import Column, save_figure, tile_grid

__all__ = [
    "PREDICTION_COLOUR", "TRUTH_COLOUR", "predictions_figure", "predictions_grid", "samples_figure", "samples_grid",
    "save_predictions", "save_samples",
]

#: outline colours, visible on skin, X-ray and endoscopy images alike (and to red-green colour-blind readers).
TRUTH_COLOUR, PREDICTION_COLOUR = "#00e5ff", "#ff00ff"


def _rgb(x: Tensor) -> Tensor:
    """``(B, 1 or 3, H, W)`` in [0, 1] -> ``(B, 3, H, W)``."""
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def samples_grid(masks: Tensor, images: Tensor, *, max_rows: int = 8) -> Tensor:
    """``(3, H', W')`` grid, one row per pair: augmented mask ``(B, 1, H, W)`` beside the generated image
    ``(B, C, H, W)`` in [0, 1]."""
    n = min(max_rows, masks.shape[0])
    tiles = torch.stack([_rgb(masks[:n]), _rgb(images[:n])], dim=1).flatten(0, 1)  # (2n, 3, H, W)
    return make_grid(tiles.detach().float().cpu().clamp(0, 1), nrow=2, padding=2, pad_value=1.0)


def samples_figure(
    masks: Tensor, images: Tensor, *, real_images: Tensor | None = None, real_masks: Tensor | None = None,
    mask_title: str = "augmented mask", max_rows: int = 8,
) -> Any:
    """The labelled figure of ``samples.png`` (a matplotlib ``Figure``).

    Args:
        masks: the masks ``(B, 1, H, W)`` in {0, 1} the images were generated from (or with, for wgan).
        images: the generated images ``(B, C, H, W)`` in [0, 1].
        real_images, real_masks: the real training pairs the masks were augmented from, shown first.
        mask_title: the title of the mask column.
    """
    columns = []
    if real_images is not None:
        outline = ((real_masks, TRUTH_COLOUR),) if real_masks is not None else ()
        columns.append(Column("real image + its mask", real_images, outlines=outline))
    columns += [
        Column(mask_title, masks),
        Column("generated image", images),
        Column("overlay", images, outlines=((masks, TRUTH_COLOUR),)),
    ]
    return tile_grid(columns, header=f"overlay: the outline of the {mask_title} on the generated image",
                     max_rows=max_rows)


def save_samples(path: Path, masks: Tensor, images: Tensor, **options: Any) -> None:
    """Write :func:`samples_figure` (same arguments) to ``path`` (PNG)."""
    save_figure(samples_figure(masks, images, **options), path)


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


def predictions_figure(panels: dict[str, tuple[Tensor, Tensor, Tensor]], *, max_rows: int = 4) -> Any:
    """The labelled figure of ``predictions.png`` (a matplotlib ``Figure``): per test set, up to ``max_rows``
    cases of image | ground truth | prediction (with its Dice) | overlay, each row named ``<test set> #<k>``.

    Args:
        panels: ``{test set: (images (B, C, H, W), truths (B, 1, H, W), predictions (B, 1, H, W))}``, in [0, 1],
            the masks binary; every test set's images have the same size.
    """
    images, truths, predictions, labels = [], [], [], []
    for name, (image, truth, prediction) in panels.items():
        n = min(max_rows, image.shape[0])
        images.append(image[:n])
        truths.append(truth[:n])
        predictions.append(prediction[:n])
        labels += [f"{name} #{k + 1}" for k in range(n)]
    image, truth, prediction = (torch.cat(t).detach().float().cpu() for t in (images, truths, predictions))
    dice = dice_per_image(prediction, truth, from_logits=False).tolist()
    columns = [
        Column("image", image),
        Column("ground truth", truth),
        Column("prediction", prediction, notes=[f"Dice {d:.3f}" for d in dice]),
        Column("overlay", image, outlines=((truth, TRUTH_COLOUR), (prediction, PREDICTION_COLOUR))),
    ]
    return tile_grid(columns, row_labels=labels, header="overlay: ground truth in cyan, prediction in magenta")


def save_predictions(path: Path, panels: dict[str, tuple[Tensor, Tensor, Tensor]], *, max_rows: int = 4) -> None:
    """Write :func:`predictions_figure` (one group of rows per test set) to ``path`` (PNG)."""
    save_figure(predictions_figure(panels, max_rows=max_rows), path)
