"""Labelled grids of image tiles for the PNG files of a run (matplotlib, Agg canvas, no pyplot state).

A grid has a title over each column, a label beside each row, an optional note under each tile
(e.g. its Dice) and mask outlines drawn over tiles. Every tile is at least :data:`MIN_TILE_PX`
pixels on a side, whatever the image size, so that 64 x 64 images are big enough to read:
small images are enlarged without smoothing, so each image pixel stays a visible square.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

__all__ = ["Column", "MIN_TILE_PX", "DPI", "tile_grid", "save_figure"]

MIN_TILE_PX = 200  # pixels per tile side, at least
DPI = 100
_FONT = 12  # points: about 17 px at DPI 100
_GAP, _TITLE, _NOTE, _LABEL, _HEADER = 0.12, 0.45, 0.35, 0.45, 0.5  # inches


@dataclass(frozen=True)
class Column:
    """One column of a :func:`tile_grid`.

    Attributes:
        title: shown above the column.
        images: ``(N, C, H, W)`` in [0, 1], C = 1 (grey) or 3 (RGB); one tile per row.
        outlines: ``(masks (N, 1, H, W) in {0, 1}, colour)`` pairs; each mask's outline is drawn on its tile.
        notes: one text per row, under the tile (empty: none).
    """

    title: str
    images: Tensor
    outlines: tuple[tuple[Tensor, str], ...] = ()
    notes: Sequence[str] = field(default_factory=tuple)


def _pixels(image: Tensor) -> np.ndarray:
    """``(C, H, W)`` in [0, 1] -> ``(H, W)`` or ``(H, W, 3)`` float array."""
    array = image.detach().float().cpu().clamp(0, 1).numpy()
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


def _draw_tile(ax: Any, image: Tensor, outlines: Sequence[tuple[Tensor, str]]) -> None:
    from matplotlib import patheffects

    pixels = _pixels(image)
    ax.imshow(pixels, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    halo = [patheffects.withStroke(linewidth=4.0, foreground="black")]  # visible on light and dark images
    for mask, colour in outlines:
        plane = np.pad(mask.detach().float().cpu().numpy()[0], 1)  # (H + 2, W + 2): outlines close at the border
        if plane.max() > 0.5:
            rows, cols = np.arange(-1, plane.shape[0] - 1), np.arange(-1, plane.shape[1] - 1)
            contours = ax.contour(cols, rows, plane, levels=[0.5], colors=[colour], linewidths=2.0)
            contours.set(path_effects=halo)
    ax.set_xlim(-0.5, pixels.shape[1] - 0.5)
    ax.set_ylim(pixels.shape[0] - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])


def tile_grid(
    columns: Sequence[Column], *, row_labels: Sequence[str] = (), header: str = "", max_rows: int | None = None
) -> Any:
    """A ``matplotlib.figure.Figure`` with one row per image and one column per :class:`Column`.

    Args:
        columns: the columns, left to right; all hold the same number of images of the same size.
        row_labels: one label per row, left of the row (empty: none).
        header: a line above the column titles (e.g. what the outline colours mean).
        max_rows: show at most this many rows.
    """
    from matplotlib.figure import Figure  # imported here: `dgen` starts faster for the commands that do not draw

    rows = min(c.images.shape[0] for c in columns)
    rows = rows if max_rows is None else min(rows, max_rows)
    h, w = columns[0].images.shape[-2:]
    scale = max(MIN_TILE_PX / h, MIN_TILE_PX / w, 1.0) / DPI  # inches per image pixel
    tile_h, tile_w = h * scale, w * scale
    note = _NOTE if any(c.notes for c in columns) else 0.0
    left = _LABEL if row_labels else _GAP
    top = _TITLE + (_HEADER if header else 0.0)
    width = left + len(columns) * (tile_w + _GAP)
    height = top + rows * (tile_h + note + _GAP)
    fig = Figure(figsize=(width, height), dpi=DPI)
    if header:
        fig.text(0.5, 1 - 0.3 / height, header, ha="center", va="center", fontsize=_FONT)
    for r in range(rows):
        for c, column in enumerate(columns):
            x = left + c * (tile_w + _GAP)
            y = height - top - r * (tile_h + note + _GAP) - tile_h
            ax = fig.add_axes((x / width, y / height, tile_w / width, tile_h / height))
            _draw_tile(ax, column.images[r], [(m[r], colour) for m, colour in column.outlines])
            if r == 0:
                ax.set_title(column.title, fontsize=_FONT)
            if column.notes:
                ax.set_xlabel(column.notes[r], fontsize=_FONT)
            if c == 0 and row_labels:
                ax.set_ylabel(row_labels[r], fontsize=_FONT)
    return fig


def save_figure(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path`` as a PNG at :data:`DPI` (its size in pixels is its size in inches x DPI)."""
    fig.savefig(str(path), dpi=DPI, format="png")
