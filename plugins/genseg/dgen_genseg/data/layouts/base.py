"""Building blocks of dataset layouts: folder walking, stem indexing, pairing.

A layout is a named function that looks at a folder and either returns a
:class:`Scan` (the pairs it found and the problems met on the way: unpaired files,
duplicate stems, foreign files) or ``None`` when the folder is not in that layout.
Scanning only lists folders; no pixel is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dgen_genseg.data.io import is_image_file
from dgen_genseg.data.pair import Pair
from dgen_genseg.data.problem import Problem

__all__ = [
    "METADATA_SUFFIXES",
    "Layout",
    "Scan",
    "ScanBuilder",
    "child_dir",
    "files_in",
    "find_dirs",
    "strip_suffix",
    "subdirs",
    "walk",
]

#: files with these suffixes are dataset metadata (licences, readmes, split lists) and are ignored.
METADATA_SUFFIXES = frozenset({
    ".txt", ".md", ".rst", ".csv", ".tsv", ".json", ".xml", ".yaml", ".yml",
    ".xls", ".xlsx", ".pdf", ".doc", ".docx", ".html", ".htm", ".db", ".ini",
})
_SKIPPED_DIRS = {"__macosx"}


@dataclass(frozen=True)
class Scan:
    """What a layout found in a folder.

    Attributes:
        layout: the layout's name.
        root: the folder the layout was found in (may lie below the folder scanned).
        pairs: the complete pairs, sorted by stem.
        problems: unpaired files, duplicate stems and foreign files met while scanning.
    """

    layout: str
    root: Path
    pairs: list[Pair]
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    """A dataset layout: ``name``, a short description of the expected files, and the scanner."""

    name: str
    expects: str
    scan: Callable[[Path], Scan | None]


def subdirs(folder: Path) -> list[Path]:
    """Visible subfolders of ``folder``, sorted (macOS ``__MACOSX`` debris skipped)."""
    return sorted(
        p for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name.lower() not in _SKIPPED_DIRS
    )


def files_in(folder: Path) -> list[Path]:
    """Visible regular files of ``folder``, sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def walk(root: Path, max_depth: int) -> Iterator[Path]:
    """``root`` and its subfolders down to ``max_depth`` levels, breadth first."""
    level = [root]
    for depth in range(max_depth + 1):
        yield from level
        if depth < max_depth:
            level = [d for folder in level for d in subdirs(folder)]


def find_dirs(root: Path, predicate: Callable[[Path], bool], max_depth: int = 3) -> list[Path]:
    """Folders at most ``max_depth`` levels below ``root`` (``root`` included) satisfying ``predicate``."""
    return [d for d in walk(root, max_depth) if predicate(d)]


def child_dir(folder: Path, *names: str) -> Path | None:
    """The first subfolder of ``folder`` whose name equals one of ``names`` (case-insensitive)."""
    by_name = {d.name.lower(): d for d in subdirs(folder)}
    for name in names:
        if name.lower() in by_name:
            return by_name[name.lower()]
    return None


class ScanBuilder:
    """Collects the pairs and problems of one layout scan."""

    def __init__(self, layout: str, root: Path) -> None:
        self.layout, self.root = layout, root
        self.pairs: list[Pair] = []
        self.problems: list[Problem] = []

    def problem(self, path: Path, kind: str, message: str, severity: Literal["error", "warning"] = "error") -> None:
        self.problems.append(Problem(path, kind, message, severity))

    def index(self, paths: Iterable[Path], stem_of: Callable[[Path], str | None], what: str) -> dict[str, Path]:
        """Map stem -> file for the image files of ``paths`` whose ``stem_of`` is not None.

        Two files with one stem are reported (``duplicate``) and the first is kept.
        """
        found: dict[str, Path] = {}
        for path in paths:
            stem = stem_of(path) if is_image_file(path) else None
            if stem is None:
                continue
            if stem in found:
                self.problem(
                    path, "duplicate",
                    f"{what} '{stem}' also given by {found[stem]}; keep one file per {what} (delete or rename one)",
                )
                continue
            found[stem] = path
        return found

    def foreign(self, folder: Path, known: Callable[[Path], bool]) -> None:
        """Warn about files of ``folder`` that are neither ``known`` to the layout nor metadata."""
        for path in files_in(folder):
            if known(path) or path.suffix.lower() in METADATA_SUFFIXES or path.name == "Thumbs.db":
                continue
            hint = "an image the layout does not expect" if is_image_file(path) else "not an image file"
            self.problem(
                path, "foreign_file",
                f"{hint} in a {self.layout} folder; it is ignored (move it out, or convert it to PNG if it is data)",
                "warning",
            )

    def match(
        self,
        images: Mapping[str, Path],
        masks: Mapping[str, Mapping[str, Path | tuple[Path, ...]]],
        *,
        image_to_mask_size: bool = False,
        unlabelled: Literal["error", "warning"] = "error",
    ) -> None:
        """Pair images with masks by stem.

        Args:
            images: stem -> image file.
            masks: for each mask kind (e.g. ``"mask"``, or ``"left lung mask"`` and ``"right lung mask"``),
                stem -> mask file (or files); a pair needs a mask of every kind; all are merged with OR.
            image_to_mask_size: see :class:`Pair`.
            unlabelled: severity of an image without mask (``"warning"`` where the official
                download has unlabelled images).
        """
        for stem, image in images.items():
            missing = [kind for kind, by_stem in masks.items() if stem not in by_stem]
            if missing:
                self.problem(
                    image, "no_mask",
                    f"image '{stem}' has no {' / '.join(missing)} file; add it, or remove the image "
                    "(it is skipped)", unlabelled,
                )
                continue
            mask_paths = tuple(path for by_stem in masks.values() for path in _as_tuple(by_stem[stem]))
            self.pairs.append(Pair(stem, image, mask_paths, image_to_mask_size))
        for kind, by_stem in masks.items():
            for stem, paths in by_stem.items():
                if stem not in images:
                    for path in _as_tuple(paths):
                        message = f"{kind} '{stem}' has no image; add the image or remove the {kind}"
                        self.problem(path, "no_image", message)

    def result(self) -> Scan:
        return Scan(self.layout, self.root, sorted(self.pairs, key=lambda p: p.stem), self.problems)


def strip_suffix(text: str, suffix: str) -> str | None:
    """``text`` without ``suffix`` (case-insensitive), or None when it does not end with it."""
    return text[: -len(suffix)] if text.lower().endswith(suffix.lower()) and len(text) > len(suffix) else None


def _as_tuple(paths: Path | tuple[Path, ...]) -> tuple[Path, ...]:
    return paths if isinstance(paths, tuple) else (paths,)
