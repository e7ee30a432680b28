"""Chest X-ray layouts: JSRT with SCR masks, NLM Montgomery, NLM Shenzhen."""

from __future__ import annotations

from pathlib import Path

from dgen_genseg.data.io import is_image_file
from dgen_genseg.data.layouts.base import (
    Layout,
    Scan,
    ScanBuilder,
    child_dir,
    files_in,
    find_dirs,
    strip_suffix,
    walk,
)

__all__ = ["JSRT", "MONTGOMERY", "SHENZHEN"]


def scan_jsrt(root: Path) -> Scan | None:
    """JSRT raw ``*.IMG`` (2048 x 2048) anywhere below + SCR ``.../left lung/<stem>.gif`` and
    ``.../right lung/<stem>.gif`` (1024 x 1024, any fold), merged."""
    folders = list(walk(root, 5))
    raw = [f for d in folders for f in files_in(d) if f.suffix.lower() == ".img"]
    lungs = {
        side: [f for d in folders if d.name.lower() == f"{side} lung" for f in files_in(d)]
        for side in ("left", "right")
    }
    if not raw or not (lungs["left"] or lungs["right"]):
        return None
    scan = ScanBuilder("jsrt", root)
    images = scan.index(raw, lambda p: p.stem, "image")
    masks = {
        f"{side} lung mask": scan.index(files, lambda p: p.stem, f"{side} lung mask") for side, files in lungs.items()
    }
    scan.match(images, masks, image_to_mask_size=True)
    return scan.result()


def scan_montgomery(root: Path) -> Scan | None:
    """``CXR_png/<stem>.png`` + ``ManualMask/leftMask/<stem>.png`` + ``ManualMask/rightMask/<stem>.png``, merged."""
    tops = find_dirs(root, lambda d: bool(child_dir(d, "CXR_png") and child_dir(d, "ManualMask")), 2)
    if not tops:
        return None
    scan = ScanBuilder("lung_montgomery", tops[0])
    cxr, manual = child_dir(tops[0], "CXR_png"), child_dir(tops[0], "ManualMask")
    scan.foreign(cxr, is_image_file)
    images = scan.index(files_in(cxr), lambda p: p.stem, "image")
    masks = {}
    for side in ("left", "right"):
        folder = child_dir(manual, f"{side}Mask")
        if folder is None:
            scan.problem(manual, "no_mask", f"no {side}Mask folder in ManualMask; restore it from the download")
        masks[f"{side} lung mask"] = scan.index(files_in(folder), lambda p: p.stem, f"{side} mask") if folder else {}
    scan.match(images, masks)
    return scan.result()


def scan_shenzhen(root: Path) -> Scan | None:
    """``CXR_png/<stem>.png`` + ``mask/<stem>_mask.png`` (or ``masks/``; ``<stem>.png`` also accepted).
    The official set has more images than masks: unmasked images are skipped with a warning."""
    tops = find_dirs(root, lambda d: bool(child_dir(d, "CXR_png") and child_dir(d, "mask", "masks")), 2)
    if not tops:
        return None
    scan = ScanBuilder("lung_shenzhen", tops[0])
    cxr, mask_dir = child_dir(tops[0], "CXR_png"), child_dir(tops[0], "mask", "masks")
    scan.foreign(cxr, is_image_file)
    scan.foreign(mask_dir, is_image_file)
    images = scan.index(files_in(cxr), lambda p: p.stem, "image")
    masks = scan.index(files_in(mask_dir), lambda p: strip_suffix(p.stem, "_mask") or p.stem, "mask")
    scan.match(images, {"mask": masks}, unlabelled="warning")
    return scan.result()


JSRT = Layout("jsrt", "JSRT *.IMG + SCR masks/left lung/*.gif + masks/right lung/*.gif", scan_jsrt)
MONTGOMERY = Layout(
    "lung_montgomery", "CXR_png/*.png + ManualMask/leftMask/*.png + ManualMask/rightMask/*.png", scan_montgomery
)
SHENZHEN = Layout("lung_shenzhen", "CXR_png/CHNCXR_*.png + mask(s)/CHNCXR_*_mask.png", scan_shenzhen)
