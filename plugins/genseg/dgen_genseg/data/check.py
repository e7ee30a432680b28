"""The data check: read every file of a dataset and report every problem found.

Unlike loading, which stops at the first bad file, the check goes through all of
them and returns the full list, so that a user can fix a dataset in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dgen_genseg.data.io import JPEG_SUFFIXES, ImageReadError, binarise_mask, image_array, read_mask_values
from dgen_genseg.data.layouts import LayoutError, detect_layout
from dgen_genseg.data.pair import Pair, fit_image_to_mask, wxh
from dgen_genseg.data.problem import Problem

__all__ = ["check_dir", "check_pairs"]

_SHOWN_VALUES = 6


def check_pairs(pairs: Sequence[Pair], *, channels: int, allow_empty_masks: bool) -> list[Problem]:
    """Read every image and mask of ``pairs`` and return all problems found.

    Checks: files exist and decode (not empty, not truncated, really images, pixel
    mode interpretable), image and mask sizes agree, lossless masks hold at most two
    values, merged masks are not empty (unless ``allow_empty_masks``), stems are unique.

    Args:
        pairs: the pairs to check.
        channels: channels the task reads images with (1 or 3).
        allow_empty_masks: whether a mask without foreground is acceptable.
    """
    if not pairs:
        return [Problem(Path("."), "empty_folder", "no image-mask pair to check; point to a folder with data")]
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for pair in pairs:
        if pair.stem in seen:
            problems.append(Problem(
                pair.image_path, "duplicate",
                f"stem '{pair.stem}' also used by {seen[pair.stem]}; stems must be unique, rename one",
            ))
        seen.setdefault(pair.stem, pair.image_path)
        problems += _check_pair(pair, channels, allow_empty_masks)
    return problems


def _check_pair(pair: Pair, channels: int, allow_empty_masks: bool) -> list[Problem]:
    problems: list[Problem] = []
    try:
        image = image_array(pair.image_path, channels)
    except ImageReadError as err:
        problems.append(Problem(err.path, err.kind, _strip_path(err)))
        image = None
    merged = None
    for path in pair.mask_paths:
        try:
            values, full_scale = read_mask_values(path)
        except ImageReadError as err:
            problems.append(Problem(err.path, err.kind, _strip_path(err)))
            continue
        if path.suffix.lower() not in JPEG_SUFFIXES:
            problems += _binary_problem(path, values)
        mask = binarise_mask(path, values, full_scale)
        if merged is not None and mask.shape != merged.shape:
            problems.append(Problem(
                path, "size_mismatch",
                f"mask is {wxh(mask.shape)} but {pair.mask_paths[0].name} is {wxh(merged.shape)}; "
                "masks of one pair must have one size",
            ))
            continue
        merged = mask if merged is None else merged | mask
    if image is not None and merged is not None:
        fitted = fit_image_to_mask(image, merged.shape) if pair.image_to_mask_size else image
        if fitted is None or fitted.shape[-2:] != merged.shape:
            problems.append(Problem(
                pair.image_path, "size_mismatch",
                f"image is {wxh(image.shape)} but its mask {pair.mask_paths[0].name} is {wxh(merged.shape)}; "
                "resize the mask to the image (nearest neighbour) or fix the pairing",
            ))
    if merged is not None and not allow_empty_masks and not merged.any():
        problems.append(Problem(
            pair.mask_paths[0], "empty_mask",
            f"mask of '{pair.stem}' has no foreground pixel; remove the pair, "
            "or allow empty masks if the task expects images without target",
        ))
    return problems


def _binary_problem(path: Path, values: np.ndarray) -> list[Problem]:
    found = np.unique(values)
    if (found != 0).sum() <= 1:
        return []
    shown = ", ".join(str(v) for v in found[:_SHOWN_VALUES].tolist())
    more = f", ... ({len(found)} distinct values)" if len(found) > _SHOWN_VALUES else ""
    return [Problem(
        path, "non_binary",
        f"mask is not binary: values {{{shown}{more}}}; it is read as foreground where > 0 — "
        "re-export it with two values (0 and 255) or threshold it",
    )]


def _strip_path(err: ImageReadError) -> str:
    text = str(err)
    prefix = f"{err.path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def check_dir(
    path: str | Path, *, channels: int = 3, allow_empty_masks: bool = False
) -> list[Problem]:
    """Check the dataset in folder ``path`` (any known layout): the layout's own problems
    (unpaired files, duplicate stems, foreign files) plus :func:`check_pairs` on its pairs.

    A missing, empty or unrecognised folder gives a single problem.
    """
    try:
        scan = detect_layout(path)
    except LayoutError as err:
        return [Problem(err.path, err.kind, str(err))]
    if not scan.pairs:
        message = f"no complete image-mask pair in this {scan.layout} folder; add the missing files"
        return [*scan.problems, Problem(scan.root, "empty_folder", message)]
    return scan.problems + check_pairs(scan.pairs, channels=channels, allow_empty_masks=allow_empty_masks)
