"""Foot ulcer layout: FUSeg 2021."""

from __future__ import annotations

from pathlib import Path

from dgen_genseg.data.io import is_image_file
from dgen_genseg.data.layouts.base import Layout, Scan, ScanBuilder, child_dir, files_in, find_dirs

__all__ = ["FUSEG"]

_LABELLED_SPLITS = (("train",), ("validation", "val"))


def _split_dirs(folder: Path, names: tuple[str, ...]) -> tuple[Path, Path] | None:
    split = child_dir(folder, *names)
    if split is None:
        return None
    images, labels = child_dir(split, "images"), child_dir(split, "labels")
    return (images, labels) if images and labels else None


def scan_fuseg(root: Path) -> Scan | None:
    """``train/images/<n>.png`` + ``train/labels/<n>.png`` and the same under ``validation/``;
    ``test/`` has no labels and is not used. Stems are ``<split>_<n>``."""
    tops = find_dirs(root, lambda d: any(_split_dirs(d, names) for names in _LABELLED_SPLITS))
    if not tops:
        return None
    scan = ScanBuilder("fuseg", tops[0])
    images: dict[str, Path] = {}
    masks: dict[str, Path] = {}
    for names in _LABELLED_SPLITS:
        dirs = _split_dirs(tops[0], names)
        if dirs is None:
            continue
        prefix = names[0]
        for folder in dirs:
            scan.foreign(folder, is_image_file)
        images |= scan.index(files_in(dirs[0]), lambda p, s=prefix: f"{s}_{p.stem}", "image")
        masks |= scan.index(files_in(dirs[1]), lambda p, s=prefix: f"{s}_{p.stem}", "label")
    scan.match(images, {"label": masks})
    return scan.result()


FUSEG = Layout("fuseg", "train/images/*.png + train/labels/*.png (and validation/)", scan_fuseg)
