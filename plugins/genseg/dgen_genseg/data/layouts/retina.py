"""Fundus layouts: DRIVE, CHASE_DB1."""

from __future__ import annotations

from pathlib import Path

from dgen_genseg.data.io import is_image_file
from dgen_genseg.data.layouts.base import Layout, Scan, ScanBuilder, child_dir, files_in, find_dirs, strip_suffix

__all__ = ["CHASE_DB1", "DRIVE"]

_DRIVE_SPLITS = (("training",), ("test", "testing"))


def _drive_split(folder: Path, names: tuple[str, ...]) -> tuple[Path, Path] | None:
    split = child_dir(folder, *names)
    if split is None:
        return None
    images, manual = child_dir(split, "images"), child_dir(split, "1st_manual")
    return (images, manual) if images and manual else None


def scan_drive(root: Path) -> Scan | None:
    """``training/images/21_training.tif`` + ``training/1st_manual/21_manual1.gif`` and
    ``test/images/01_test.tif`` + ``test/1st_manual/01_manual1.gif``. The ``mask/`` folders hold
    the field-of-view masks, not the vessel labels, and are not used; a split without
    ``1st_manual`` (the test set of some distributions) is skipped."""
    tops = find_dirs(root, lambda d: any(_drive_split(d, names) for names in _DRIVE_SPLITS), 2)
    if not tops:
        return None
    scan = ScanBuilder("drive", tops[0])
    images: dict[str, Path] = {}
    masks: dict[str, Path] = {}
    for names in _DRIVE_SPLITS:
        dirs = _drive_split(tops[0], names)
        if dirs is None:
            continue
        for folder in dirs:
            scan.foreign(folder, is_image_file)
        split_images = scan.index(files_in(dirs[0]), lambda p: p.stem, "image")
        by_number = {stem.split("_")[0]: stem for stem in split_images}

        def mask_stem(path: Path, by_number: dict[str, str] = by_number) -> str | None:
            number = strip_suffix(path.stem, "_manual1")
            return None if number is None else by_number.get(number, path.stem)

        images |= split_images
        masks |= scan.index(files_in(dirs[1]), mask_stem, "manual segmentation")
    scan.match(images, {"1st_manual": masks})
    return scan.result()


def _chase_mask_stem(path: Path) -> str | None:
    return strip_suffix(path.stem, "_1stHO")


def _chase_image_stem(path: Path) -> str | None:
    return None if path.stem.lower().endswith(("_1stho", "_2ndho")) else path.stem


def scan_chase_db1(root: Path) -> Scan | None:
    """``Image_01L.jpg`` + ``Image_01L_1stHO.png`` in one folder (the second observer's ``_2ndHO``
    is not used)."""
    tops = find_dirs(root, lambda d: any(_chase_mask_stem(f) for f in files_in(d) if is_image_file(f)), 2)
    if not tops:
        return None
    scan = ScanBuilder("chase_db1", tops[0])
    files = files_in(tops[0])
    scan.foreign(tops[0], is_image_file)
    images = scan.index(files, _chase_image_stem, "image")
    masks = scan.index(files, _chase_mask_stem, "1stHO mask")
    scan.match(images, {"1stHO mask": masks})
    return scan.result()


DRIVE = Layout("drive", "training/images/*_training.tif + training/1st_manual/*_manual1.gif (and test/)", scan_drive)
CHASE_DB1 = Layout("chase_db1", "Image_*.jpg + Image_*_1stHO.png", scan_chase_db1)
