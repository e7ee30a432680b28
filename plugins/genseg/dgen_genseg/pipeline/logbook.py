"""The CSV log of every loss, written row by row and truncated consistently on resume."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from dgen.rundir import ITERATION_COLUMN

__all__ = ["CsvLog"]


class CsvLog:
    """Appends one row per iteration to ``path`` with the columns ``iteration, *columns``
    (``iteration``: :data:`dgen.rundir.ITERATION_COLUMN`).

    On resume, rows past the checkpoint's iteration (written after the last checkpoint,
    before a crash) are dropped so that the log matches the resumed state.
    """

    def __init__(self, path: Path, columns: list[str], *, resume_from: int | None = None) -> None:
        self.path, self.columns = path, [ITERATION_COLUMN, *columns]
        kept: list[list[str]] = []
        if resume_from is not None and path.is_file():
            with path.open(newline="") as handle:
                rows = list(csv.reader(handle))
            if rows and rows[0] == self.columns:
                kept = [r for r in rows[1:] if r and int(r[0]) < resume_from]
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows([self.columns, *kept])

    def write(self, iteration: int, values: dict[str, float]) -> None:
        """Append ``iteration`` and ``values`` (missing columns are left empty, NaN written as 'nan')."""
        row = [str(iteration)] + [_cell(values.get(c)) for c in self.columns[1:]]
        with self.path.open("a", newline="") as handle:
            csv.writer(handle).writerow(row)


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return "nan" if isinstance(value, float) and math.isnan(value) else f"{value:.6g}"
