"""Dataset layouts: recognise the official download layout of a folder and list its pairs.

Each layout (see ``docs/data.md``) is tried in the order of :data:`LAYOUTS`, the
most specific first and the generic ``images/`` + ``masks/`` last; the first that
recognises the folder wins.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from dgen.errors import DataError

from dgen_genseg.data.layouts.base import Layout, Scan, files_in, subdirs
from dgen_genseg.data.layouts.chest import JSRT, MONTGOMERY, SHENZHEN
from dgen_genseg.data.layouts.endoscopy import CVC_CLINICDB
from dgen_genseg.data.layouts.generic import GENERIC
from dgen_genseg.data.layouts.retina import CHASE_DB1, DRIVE
from dgen_genseg.data.layouts.skin import DERMIS, ISIC2018, PH2
from dgen_genseg.data.layouts.ultrasound import BUSI
from dgen_genseg.data.layouts.wound import FUSEG
from dgen_genseg.data.pair import Pair

__all__ = ["LAYOUTS", "Layout", "LayoutError", "Scan", "detect_layout", "find_pairs", "layout_names"]

#: every known layout, in detection order.
LAYOUTS: tuple[Layout, ...] = (
    ISIC2018, PH2, CVC_CLINICDB, JSRT, MONTGOMERY, SHENZHEN, BUSI, FUSEG, DRIVE, CHASE_DB1, DERMIS, GENERIC,
)


class LayoutError(DataError):
    """A folder cannot be scanned: ``kind`` is ``"missing"``, ``"empty_folder"`` or ``"no_layout"``."""

    def __init__(self, path: Path, kind: str, message: str) -> None:
        self.path, self.kind = Path(path), kind
        super().__init__(message)


def layout_names() -> list[str]:
    """Names of the known layouts, in detection order."""
    return [layout.name for layout in LAYOUTS]


def detect_layout(root: str | Path) -> Scan:
    """Scan ``root`` with the first layout that recognises it.

    Raises:
        LayoutError: ``root`` is missing, not a folder, empty, or in no known layout (the
            message lists the layouts and what was found).
    """
    root = Path(root)
    if not root.exists():
        raise LayoutError(root, "missing", f"dataset folder {root} does not exist; check the path.")
    if not root.is_dir():
        raise LayoutError(root, "missing", f"{root} is a file, not a dataset folder; give the folder that holds it.")
    if not any(root.iterdir()):
        raise LayoutError(root, "empty_folder", f"dataset folder {root} is empty; put the dataset's files in it.")
    for layout in LAYOUTS:
        scan = layout.scan(root)
        if scan is not None:
            return scan
    expected = "; ".join(f"{layout.name}: {layout.expects}" for layout in LAYOUTS)
    raise LayoutError(
        root, "no_layout",
        f"{root} is in no known dataset layout (found {_summary(root)}); expected one of — {expected}; "
        "rearrange it as images/ + masks/ with matching stems (see docs/data.md).",
    )


def _summary(root: Path, shown: int = 8) -> str:
    dirs = [d.name + "/" for d in subdirs(root)]
    files = files_in(root)
    suffixes = Counter(f.suffix.lower() or "(no suffix)" for f in files)
    parts = dirs[:shown] + ([f"... {len(dirs) - shown} more folders"] if len(dirs) > shown else [])
    parts += [f"{n} {suffix} files" for suffix, n in sorted(suffixes.items())]
    return ", ".join(parts) if parts else "nothing readable"


def find_pairs(root: str | Path) -> list[Pair]:
    """The sorted pairs of the dataset in ``root`` (any known layout).

    Raises:
        LayoutError: as :func:`detect_layout`.
        DataError: the layout was recognised but no complete pair was found.
    """
    scan = detect_layout(root)
    if not scan.pairs:
        first = next((str(p) for p in scan.problems if p.severity == "error"), "no image-mask pair")
        raise DataError(
            f"{scan.root} looks like the {scan.layout} layout but has no complete image-mask pair "
            f"(first problem: {first}); run `dgen data check {root}` for the full list."
        )
    return scan.pairs
