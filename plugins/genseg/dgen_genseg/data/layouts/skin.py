"""Dermoscopy layouts: ISIC 2018 Task 1, PH2, DermIS."""

from __future__ import annotations

import re
from pathlib import Path

from dgen_genseg.data.layouts.base import (
    Layout,
    Scan,
    ScanBuilder,
    child_dir,
    files_in,
    find_dirs,
    strip_suffix,
    subdirs,
    walk,
)

__all__ = ["DERMIS", "ISIC2018", "PH2"]

_ISIC_INPUT = re.compile(r"ISIC2018_Task1-2_(Training|Validation|Test)_Input", re.IGNORECASE)
_ISIC_ID = re.compile(r"ISIC_\d+")


def _isic_image_stem(path: Path) -> str | None:
    return path.stem if _ISIC_ID.fullmatch(path.stem) else None


def _isic_mask_stem(path: Path) -> str | None:
    stem = strip_suffix(path.stem, "_segmentation")
    return stem if stem and _ISIC_ID.fullmatch(stem) else None


def scan_isic2018(root: Path) -> Scan | None:
    """``ISIC2018_Task1-2_<Split>_Input/ISIC_*.jpg`` + ``ISIC2018_Task1_<Split>_GroundTruth/ISIC_*_segmentation.png``
    for Split in Training, Validation, Test; a split without its ground-truth folder is skipped."""
    inputs = find_dirs(root, lambda d: bool(_ISIC_INPUT.fullmatch(d.name)))
    if not inputs:
        return None
    scan = ScanBuilder("isic2018", inputs[0].parent)
    image_files: list[Path] = []
    mask_files: list[Path] = []
    for folder in inputs:
        split = _ISIC_INPUT.fullmatch(folder.name).group(1).capitalize()
        truth = child_dir(folder.parent, f"ISIC2018_Task1_{split}_GroundTruth")
        if truth is None:
            scan.problem(
                folder, "no_mask",
                f"no ISIC2018_Task1_{split}_GroundTruth folder beside it; the {split} images are skipped "
                "(download the ground truth to use them)", "warning",
            )
            continue
        scan.foreign(folder, lambda p: _isic_image_stem(p) is not None)
        scan.foreign(truth, lambda p: _isic_mask_stem(p) is not None)
        image_files += files_in(folder)
        mask_files += files_in(truth)
    images = scan.index(image_files, _isic_image_stem, "image")
    masks = scan.index(mask_files, _isic_mask_stem, "mask")
    scan.match(images, {"mask": masks})
    return scan.result()


def scan_ph2(root: Path) -> Scan | None:
    """``PH2 Dataset images/IMDxxx/IMDxxx_Dermoscopic_Image/IMDxxx.bmp`` + ``IMDxxx_lesion/IMDxxx_lesion.bmp``."""
    tops = find_dirs(root, lambda d: d.name.lower() == "ph2 dataset images")
    if not tops:
        return None
    scan = ScanBuilder("ph2", tops[0])
    image_files: list[Path] = []
    mask_files: list[Path] = []
    for case in subdirs(tops[0]):
        for sub, into in ((f"{case.name}_Dermoscopic_Image", image_files), (f"{case.name}_lesion", mask_files)):
            folder = child_dir(case, sub)
            into += files_in(folder) if folder else []
    images = scan.index(image_files, lambda p: p.stem if p.parent.parent.name == p.stem else None, "image")
    masks = scan.index(mask_files, lambda p: strip_suffix(p.stem, "_lesion"), "mask")
    scan.match(images, {"lesion mask": masks})
    return scan.result()


def scan_dermis(root: Path) -> Scan | None:
    """``<name>_orig.jpg`` + ``<name>_contour.png`` anywhere below the folder (only below
    folders named ``dermIS`` when there are some, so a full Waterloo skin-cancer tree
    with its dermQuest part can be given)."""
    folders = list(walk(root, 4))
    named = [d for d in folders[1:] if d.name.lower() == "dermis"]  # not the folder itself (data root's dermis/)
    if named:
        folders = [d for top in named for d in walk(top, 3)]
    files = [f for d in folders for f in files_in(d)]
    if not any(strip_suffix(f.stem, "_orig") for f in files):
        return None
    scan = ScanBuilder("dermis", named[0] if len(named) == 1 else root)
    images = scan.index(files, lambda p: strip_suffix(p.stem, "_orig"), "image")
    masks = scan.index(files, lambda p: strip_suffix(p.stem, "_contour"), "mask")
    scan.match(images, {"contour mask": masks})
    return scan.result()


ISIC2018 = Layout(
    "isic2018",
    "ISIC2018_Task1-2_Training_Input/ISIC_*.jpg + ISIC2018_Task1_Training_GroundTruth/ISIC_*_segmentation.png",
    scan_isic2018,
)
PH2 = Layout(
    "ph2",
    "PH2 Dataset images/IMDxxx/IMDxxx_Dermoscopic_Image/IMDxxx.bmp + IMDxxx_lesion/IMDxxx_lesion.bmp",
    scan_ph2,
)
DERMIS = Layout("dermis", "*_orig.jpg + *_contour.png", scan_dermis)
