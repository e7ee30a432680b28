"""Labels of option bundles: a sub-grid's ``"label"`` names the fixed options that set its runs apart.

Two sub-grids may run the same method with different fixed options (``method`` as a paper has it,
and ``method`` with a set of fixes). A ``"label"`` keeps them apart: the runs of the labelled
sub-grid live in ``<axes>-<label>-s<seed>`` and are compared as ``<value>@<label>`` (``method@fixes``),
so both appear in one table with paired differences. The label is kept in the run directory's
``bench.json`` (written when the run starts), from which the results are read back and against which a
rerun of the grid checks an existing run directory.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from dgen.errors import ConfigError, DataError
from dgen.rundir import BENCH_FILE

__all__ = ["LABEL_KEY", "check_label", "labelled", "read_label", "write_label"]

#: the grid key (and the key of ``bench.json``).
LABEL_KEY = "label"
_SAFE = re.compile(r"[A-Za-z0-9_.]+")


def check_label(raw: object, where: str) -> str:
    """``raw`` as a label: letters, digits, ``_`` and ``.`` only (it is part of directory names).

    Raises:
        ConfigError: naming ``where`` and the fix.
    """
    if not isinstance(raw, str) or not _SAFE.fullmatch(raw):
        raise ConfigError(
            f"{where}: label {raw!r} must be a non-empty word of letters, digits, '_' or '.', e.g. \"label\": \"fixes\"."
        )
    return raw


def labelled(value: str | None, label: str | None) -> str | None:
    """The compared value of a labelled run: ``method`` with label ``fixes`` is ``method@fixes``."""
    if label is None:
        return value
    return label if value is None else f"{value}@{label}"


def write_label(run_dir: Path, label: str | None) -> None:
    """Record ``label`` in ``run_dir/bench.json``; for an unlabelled run, remove a label left there by an earlier
    start of a labelled run of the same name (it would otherwise label this run)."""
    path = Path(run_dir) / BENCH_FILE
    if label is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(json.dumps({LABEL_KEY: label}) + "\n", encoding="utf-8")


def read_label(run_dir: Path) -> str | None:
    """The label recorded in ``run_dir/bench.json``, or None when the run has none.

    Raises:
        DataError: the file exists but does not hold a label (naming the file and the fix).
    """
    path = Path(run_dir) / BENCH_FILE
    if not path.is_file():
        return None
    try:
        label = json.loads(path.read_text(encoding="utf-8")).get(LABEL_KEY)
        return check_label(label, str(path))
    except (ValueError, AttributeError, ConfigError) as exc:
        raise DataError(f"{path} does not hold a label ({exc}); delete it, or write {{\"label\": \"fixes\"}}.") from exc
