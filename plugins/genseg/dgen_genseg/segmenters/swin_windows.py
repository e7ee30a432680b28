"""Stage resolutions and attention-window choice of a Swin U-Net.

With patch size ``p`` and ``n`` stages, stage ``i`` works on a ``(H / (p 2^i), W / (p 2^i))`` token
grid, so ``H`` and ``W`` must be multiples of ``p 2^(n-1)``. A window ``w`` *tiles* the stages when every
stage side is a multiple of ``w`` or at most ``w``; in the latter case one window covers the whole
stage and its blocks do not shift (timm clamps the window, as the paper's 224 model does at its
7x7 bottleneck). The automatic window is the largest ``w <= 8`` that tiles, which keeps attention
as local as the paper's window 7:

====== ================ ======
input  stages (p = 4)   window
====== ================ ======
224    56, 28, 14, 7    7
256    64, 32, 16, 8    8
128    32, 16, 8, 4     8
64     16, 8, 4, 2      8
====== ================ ======
"""

from __future__ import annotations

from dgen.errors import ConfigError
from dgen_genseg.segmenters.sizes import check_multiple, format_size

__all__ = ["AUTO_WINDOW_MAX", "stage_resolutions", "tiles", "resolve_window"]

#: the automatic window is the largest tiling window up to this size.
AUTO_WINDOW_MAX = 8


def stage_resolutions(
    img_size: tuple[int, int], patch_size: int, num_stages: int, *, subject: str = "swinunet img_size"
) -> list[tuple[int, int]]:
    """The token grid ``(h_i, w_i)`` of each stage; ``ConfigError`` (starting with ``subject``) unless
    ``img_size`` is a multiple of ``patch_size * 2^(num_stages - 1)``.

    Example: ``((256, 256), 4, 4)`` -> ``[(64, 64), (32, 32), (16, 16), (8, 8)]``.
    """
    multiple = patch_size * 2 ** (num_stages - 1)
    why = f"patch {patch_size} x 2^{num_stages - 1} patch merges"
    check_multiple(*img_size, multiple=multiple, why=why, subject=subject)
    return [(img_size[0] // (patch_size * 2**i), img_size[1] // (patch_size * 2**i)) for i in range(num_stages)]


def tiles(window: int, resolutions: list[tuple[int, int]]) -> bool:
    """Whether ``window`` tiles every stage (each side a multiple of it, or at most it)."""
    return all(side % window == 0 or side <= window for grid in resolutions for side in grid)


def resolve_window(window_size: int | None, resolutions: list[tuple[int, int]], img_size: tuple[int, int]) -> int:
    """``window_size`` if it tiles the stages, the automatic choice if None, else ``ConfigError`` naming valid ones."""
    auto = max(w for w in range(1, AUTO_WINDOW_MAX + 1) if tiles(w, resolutions))
    if window_size is None:
        return auto
    if window_size >= 1 and tiles(window_size, resolutions):
        return window_size
    largest = max(max(grid) for grid in resolutions)
    valid = [w for w in range(1, largest + 1) if tiles(w, resolutions)]
    grids = ", ".join(format_size(g) for g in resolutions)
    raise ConfigError(
        f"window_size {window_size} does not tile the Swin stage grids {grids} of a {format_size(img_size)} input "
        f"(each side must be a multiple of the window or at most the window); use window_size "
        f"{', '.join(map(str, valid))}, or window_size=None for {auto}."
    )
