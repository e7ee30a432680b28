"""`Problem`: one defect found in a dataset, with the file and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["PROBLEM_KINDS", "Problem"]

#: what a problem can be about.
PROBLEM_KINDS = frozenset({
    "missing",        # a file of a pair does not exist
    "empty_file",     # a file has 0 bytes
    "not_image",      # a file with an image suffix is not an image
    "corrupt",        # a file cannot be decoded (corrupt or truncated)
    "unsupported",    # a pixel mode that cannot be interpreted (transparency, 32-bit, float range)
    "no_mask",        # an image has no mask
    "no_image",       # a mask has no image
    "duplicate",      # two files claim the same stem
    "size_mismatch",  # image and mask sizes differ
    "non_binary",     # a lossless mask has more than two values
    "empty_mask",     # a mask has no foreground where the task forbids it
    "foreign_file",   # a file in a dataset folder that is not an image or known metadata
    "empty_folder",   # a folder holds no files
    "no_layout",      # a folder matches no known dataset layout
})


@dataclass(frozen=True)
class Problem:
    """A defect in a dataset.

    Attributes:
        path: the file (or folder) concerned.
        kind: one of :data:`PROBLEM_KINDS`.
        message: one line: what is wrong (with values) and the fix.
        severity: ``"error"`` (the data cannot be used as is) or ``"warning"``
            (usable, but worth a look, e.g. unlabelled images that will be skipped).
    """

    path: Path
    kind: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"
