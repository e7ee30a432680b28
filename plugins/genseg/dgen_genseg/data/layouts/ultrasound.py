"""Breast ultrasound layout: BUSI (and BUID, distributed the same way)."""

from __future__ import annotations

import re
from pathlib import Path

from dgen_genseg.data.layouts.base import Layout, Scan, ScanBuilder, child_dir, files_in, find_dirs

__all__ = ["BUSI"]

_CLASSES = ("benign", "malignant", "normal")
_MASK = re.compile(r"(?P<stem>.+)_mask(?:_\d+)?", re.IGNORECASE)


def _class_dirs(folder: Path) -> list[Path]:
    return [d for d in (child_dir(folder, c) for c in _CLASSES) if d is not None]


def _is_mask(path: Path) -> bool:
    return _MASK.fullmatch(path.stem) is not None


def scan_busi(root: Path) -> Scan | None:
    """``<class>/<class> (n).png`` + ``<class> (n)_mask.png`` (+ ``_mask_1.png``, ... merged) for
    class folders benign / malignant / normal."""
    tops = find_dirs(root, lambda d: any(_is_mask(f) for c in _class_dirs(d) for f in files_in(c)), 2)
    if not tops:
        return None
    scan = ScanBuilder("busi", tops[0])
    files = [f for c in _class_dirs(tops[0]) for f in files_in(c)]
    images = scan.index(files, lambda p: None if _is_mask(p) else p.stem, "image")
    grouped: dict[str, list[Path]] = {}
    for path in files:
        match = _MASK.fullmatch(path.stem)
        if match:
            grouped.setdefault(match["stem"], []).append(path)
    scan.match(images, {"mask": {stem: tuple(paths) for stem, paths in grouped.items()}})
    return scan.result()


BUSI = Layout("busi", "benign|malignant|normal/<class> (n).png + <class> (n)_mask[_k].png", scan_busi)
