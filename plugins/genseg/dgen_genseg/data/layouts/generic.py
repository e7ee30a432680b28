"""The generic layout: ``images/<stem>.<ext>`` + ``masks/<stem>.<ext>`` (also Kvasir-SEG's)."""

from __future__ import annotations

from pathlib import Path

from dgen_genseg.data.io import is_image_file
from dgen_genseg.data.layouts.base import Layout, Scan, ScanBuilder, child_dir, files_in, find_dirs

__all__ = ["GENERIC"]


def scan_generic(root: Path) -> Scan | None:
    """``images/<stem>.*`` + ``masks/<stem>.*`` with matching stems, any image suffix
    (found in the folder or up to two levels below, e.g. ``Kvasir-SEG/images``)."""
    tops = find_dirs(root, lambda d: bool(child_dir(d, "images") and child_dir(d, "masks")), 2)
    if not tops:
        return None
    scan = ScanBuilder("generic", tops[0])
    image_dir, mask_dir = child_dir(tops[0], "images"), child_dir(tops[0], "masks")
    for folder in (image_dir, mask_dir):
        scan.foreign(folder, is_image_file)
    images = scan.index(files_in(image_dir), lambda p: p.stem, "image")
    masks = scan.index(files_in(mask_dir), lambda p: p.stem, "mask")
    scan.match(images, {"mask": masks})
    return scan.result()


GENERIC = Layout("generic", "images/<stem>.* + masks/<stem>.* (also Kvasir-SEG)", scan_generic)
