"""Tiny datasets written in each official download layout.

For tests and for trying the data commands without downloading anything; they
also document the layouts by example. Images are random noise, masks a filled
rectangle (values {0, 255}); file names, folders, formats and the distractors of
the real downloads (licence files, field-of-view masks, second observers,
unlabelled test folders) are as in the official archives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from dgen.errors import UnknownNameError
from PIL import Image

from dgen_genseg.data.io import JSRT_SIDE

__all__ = ["TREE_LAYOUTS", "write_tree"]

_SCR_SIDE = JSRT_SIDE // 2  # SCR masks are 1024 x 1024


class _Writer:
    """Writes random images and rectangle masks of one size with one random stream."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.rng = size, np.random.default_rng(seed)

    def image(self, path: Path, grey: bool = False) -> None:
        shape = (self.size, self.size) if grey else (self.size, self.size, 3)
        self._save(path, self.rng.integers(0, 256, shape, dtype=np.uint8))

    def mask(self, path: Path, side: int | None = None) -> None:
        side = side or self.size
        values = np.zeros((side, side), dtype=np.uint8)
        y, x = self.rng.integers(0, side // 2, 2)
        values[y : y + side // 2, x : x + side // 2] = 255
        self._save(path, values)

    def _save(self, path: Path, values: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(values).save(path)

    def jsrt(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        values = self.rng.integers(0, 4096, (JSRT_SIDE, JSRT_SIDE)).astype(">u2")
        values.tofile(path)


def _isic2018(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"ISIC_{i:07d}" for i in range(n)]
    for split, some in (("Training", stems[:-1]), ("Validation", stems[-1:])):
        for stem in some:
            w.image(root / f"ISIC2018_Task1-2_{split}_Input" / f"{stem}.jpg")
            w.mask(root / f"ISIC2018_Task1_{split}_GroundTruth" / f"{stem}_segmentation.png")
        (root / f"ISIC2018_Task1-2_{split}_Input" / "LICENSE.txt").write_text("CC BY-NC\n")
    w.image(root / "ISIC2018_Task1-2_Test_Input" / "ISIC_9999999.jpg")  # no ground truth: skipped
    return stems


def _ph2(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"IMD{i:03d}" for i in range(2, 2 + n)]
    for stem in stems:
        case = root / "PH2Dataset" / "PH2 Dataset images" / stem
        w.image(case / f"{stem}_Dermoscopic_Image" / f"{stem}.bmp")
        w.mask(case / f"{stem}_lesion" / f"{stem}_lesion.bmp")
        w.mask(case / f"{stem}_roi" / f"{stem}_R1_Label4.bmp")
    return stems


def _dermis(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"lesion{i}" for i in range(n)]
    for i, stem in enumerate(stems):
        folder = root / "skin_data" / ("melanoma" if i % 2 else "notmelanoma") / "dermIS"
        w.image(folder / f"{stem}_orig.jpg")
        w.mask(folder / f"{stem}_contour.png")
    w.image(root / "skin_data" / "melanoma" / "dermquest" / "other_orig.jpg")  # not DermIS: ignored
    w.mask(root / "skin_data" / "melanoma" / "dermquest" / "other_contour.png")
    return stems


def _kvasir_seg(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"cju{i:04d}abc" for i in range(n)]
    for stem in stems:
        w.image(root / "Kvasir-SEG" / "images" / f"{stem}.jpg")
        w.mask(root / "Kvasir-SEG" / "masks" / f"{stem}.jpg")
    (root / "Kvasir-SEG" / "kavsir_bboxes.json").write_text("{}\n")
    return stems


def _cvc_clinicdb(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [str(i) for i in range(1, n + 1)]
    for stem in stems:
        w.image(root / "CVC-ClinicDB" / "Original" / f"{stem}.tif")
        w.mask(root / "CVC-ClinicDB" / "Ground Truth" / f"{stem}.tif")
    return stems


def _cvc_clinicdb_png(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [str(i) for i in range(1, n + 1)]
    for stem in stems:
        w.image(root / "PNG" / "Original" / f"{stem}.png")
        w.mask(root / "PNG" / "Ground Truth" / f"{stem}.png")
    return stems


def _jsrt(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"JPCLN{i:03d}" for i in range(1, n + 1)]
    for i, stem in enumerate(stems):
        w.jsrt(root / "All247images" / f"{stem}.IMG")
        fold = root / "scr" / f"fold{i % 2 + 1}" / "masks"
        for part in ("left lung", "right lung", "heart"):
            w.mask(fold / part / f"{stem}.gif", side=_SCR_SIDE)
    return stems


def _lung_montgomery(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"MCUCXR_{i:04d}_{i % 2}" for i in range(1, n + 1)]
    for stem in stems:
        w.image(root / "MontgomerySet" / "CXR_png" / f"{stem}.png", grey=True)
        w.mask(root / "MontgomerySet" / "ManualMask" / "leftMask" / f"{stem}.png")
        w.mask(root / "MontgomerySet" / "ManualMask" / "rightMask" / f"{stem}.png")
    (root / "MontgomerySet" / "NLM-MontgomeryCXRSet-ReadMe.pdf").write_bytes(b"%PDF-1.4\n")
    return stems


def _lung_shenzhen(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"CHNCXR_{i:04d}_{i % 2}" for i in range(1, n + 1)]
    for stem in stems:
        w.image(root / "ChinaSet_AllFiles" / "CXR_png" / f"{stem}.png", grey=True)
        w.mask(root / "ChinaSet_AllFiles" / "mask" / f"{stem}_mask.png")
    w.image(root / "ChinaSet_AllFiles" / "CXR_png" / "CHNCXR_0999_1.png", grey=True)  # unlabelled, as upstream
    return stems


def _busi(w: _Writer, root: Path, n: int) -> list[str]:
    stems = []
    for i in range(n):
        cls = ("benign", "malignant", "normal")[i % 3]
        stem = f"{cls} ({i + 1})"
        folder = root / "Dataset_BUSI_with_GT" / cls
        w.image(folder / f"{stem}.png", grey=True)
        w.mask(folder / f"{stem}_mask.png")
        if i == 0:
            w.mask(folder / f"{stem}_mask_1.png")
        stems.append(stem)
    return sorted(stems)


def _fuseg(w: _Writer, root: Path, n: int) -> list[str]:
    top = root / "Foot Ulcer Segmentation Challenge"
    stems = []
    for i in range(n):
        split = "train" if i < n - 1 else "validation"
        w.image(top / split / "images" / f"{i:04d}.png")
        w.mask(top / split / "labels" / f"{i:04d}.png")
        stems.append(f"{split}_{i:04d}")
    w.image(top / "test" / "images" / "0000.png")  # unlabelled, as upstream
    return sorted(stems)


def _drive(w: _Writer, root: Path, n: int) -> list[str]:
    stems = []
    for i in range(n):
        split, number = ("training", 21 + i) if i < n - 1 else ("test", i)
        tag = "training" if split == "training" else "test"
        stem = f"{number:02d}_{tag}"
        w.image(root / "DRIVE" / split / "images" / f"{stem}.tif")
        w.mask(root / "DRIVE" / split / "1st_manual" / f"{number:02d}_manual1.gif")
        w.mask(root / "DRIVE" / split / "mask" / f"{stem}_mask.gif")  # field of view, not the label
        stems.append(stem)
    return sorted(stems)


def _chase_db1(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"Image_{i // 2 + 1:02d}{'LR'[i % 2]}" for i in range(n)]
    for stem in stems:
        w.image(root / "CHASEDB1" / f"{stem}.jpg")
        w.mask(root / "CHASEDB1" / f"{stem}_1stHO.png")
        w.mask(root / "CHASEDB1" / f"{stem}_2ndHO.png")
    return stems


def _generic(w: _Writer, root: Path, n: int) -> list[str]:
    stems = [f"case{i:03d}" for i in range(n)]
    for stem in stems:
        w.image(root / "images" / f"{stem}.png")
        w.mask(root / "masks" / f"{stem}.png")
    (root / "SOURCE.md").write_text("# tiny synthetic dataset\n")
    return stems


_WRITERS: dict[str, Callable[[_Writer, Path, int], list[str]]] = {
    "isic2018": _isic2018,
    "ph2": _ph2,
    "dermis": _dermis,
    "kvasir_seg": _kvasir_seg,
    "cvc_clinicdb": _cvc_clinicdb,
    "cvc_clinicdb_png": _cvc_clinicdb_png,
    "jsrt": _jsrt,
    "lung_montgomery": _lung_montgomery,
    "lung_shenzhen": _lung_shenzhen,
    "busi": _busi,
    "fuseg": _fuseg,
    "drive": _drive,
    "chase_db1": _chase_db1,
    "generic": _generic,
}
#: the trees :func:`write_tree` can write (official layouts and their variants).
TREE_LAYOUTS = tuple(_WRITERS)


def write_tree(layout: str, root: str | Path, *, n: int = 3, size: int = 16, seed: int = 0) -> list[str]:
    """Write ``n`` image-mask pairs of ``size x size`` pixels in ``layout`` under ``root``.

    JSRT images are always 2048 x 2048 (the raw format has no header) with 1024 x 1024 masks.

    Returns:
        the stems of the pairs written, sorted as the loader sorts them.
    """
    if layout not in _WRITERS:
        raise UnknownNameError("tree layout", layout, _WRITERS)
    return sorted(_WRITERS[layout](_Writer(size, seed), Path(root), n))
