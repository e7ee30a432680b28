"""Colonoscopy layouts: CVC-ClinicDB (Kvasir-SEG is the generic ``images/`` + ``masks/`` layout)."""

from __future__ import annotations

from pathlib import Path

from dgen_genseg.data.io import is_image_file
from dgen_genseg.data.layouts.base import Layout, Scan, ScanBuilder, child_dir, files_in, find_dirs

__all__ = ["CVC_CLINICDB"]


def _has_cvc_pair(folder: Path) -> bool:
    return bool(child_dir(folder, "Original") and child_dir(folder, "Ground Truth", "GroundTruth"))


def scan_cvc_clinicdb(root: Path) -> Scan | None:
    """``Original/<n>.tif`` + ``Ground Truth/<n>.tif``, or the ``PNG/Original`` + ``PNG/Ground Truth``
    variant (preferred when both are present: Pillow cannot decode some of the original TIFFs)."""
    tops = find_dirs(root, _has_cvc_pair)
    if not tops:
        return None
    top = sorted(tops, key=lambda d: d.name.lower() != "png")[0]
    scan = ScanBuilder("cvc_clinicdb", top)
    original, truth = child_dir(top, "Original"), child_dir(top, "Ground Truth", "GroundTruth")
    for folder in (original, truth):
        scan.foreign(folder, is_image_file)
    images = scan.index(files_in(original), lambda p: p.stem, "image")
    masks = scan.index(files_in(truth), lambda p: p.stem, "mask")
    scan.match(images, {"mask": masks})
    return scan.result()


CVC_CLINICDB = Layout(
    "cvc_clinicdb", "Original/*.tif + Ground Truth/*.tif (or PNG/Original + PNG/Ground Truth)", scan_cvc_clinicdb
)
