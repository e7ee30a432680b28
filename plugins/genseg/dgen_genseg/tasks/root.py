"""Where datasets are: the data root and one subfolder per dataset.

The root is, in order: the ``data_root`` argument (``--data-root`` on the command
line), the environment variable ``DGEN_DATA_ROOT``, the default ``./data``.
"""

from __future__ import annotations

import os
from pathlib import Path

from dgen.errors import DataError

__all__ = ["DATA_ROOT_ENV", "DEFAULT_DATA_ROOT", "DataRoot", "resolve_data_root"]

DATA_ROOT_ENV = "DGEN_DATA_ROOT"
DEFAULT_DATA_ROOT = Path("data")


class DataRoot:
    """A resolved data root and where it came from (for messages)."""

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.source = path, source

    def dataset(self, name: str) -> Path:
        """The folder of dataset ``name``; DataError naming the path, the env var and ``--data-root`` if missing."""
        folder = self.path / name
        if not folder.is_dir():
            present = sorted(d.name for d in self.path.iterdir() if d.is_dir() and not d.name.startswith("."))
            raise DataError(
                f"dataset '{name}' not found: {folder} is not a folder (data root {self.path} from {self.source}; "
                f"it holds: {', '.join(present) or 'no folders'}); put the dataset there in any supported layout "
                f"(docs/data.md), or point {DATA_ROOT_ENV} or --data-root to the folder that holds '{name}/'."
            )
        return folder

    def has(self, name: str) -> bool:
        """Whether dataset folder ``name`` exists."""
        return (self.path / name).is_dir()


def resolve_data_root(data_root: str | Path | None) -> DataRoot:
    """Resolve the data root (argument, then ``$DGEN_DATA_ROOT``, then ``./data``) and check it exists."""
    if data_root is not None:
        root = DataRoot(Path(data_root).expanduser(), "the data_root argument")
    elif os.environ.get(DATA_ROOT_ENV):
        root = DataRoot(Path(os.environ[DATA_ROOT_ENV]).expanduser(), f"${DATA_ROOT_ENV}")
    else:
        root = DataRoot(DEFAULT_DATA_ROOT, "the default ./data")
    if not root.path.is_dir():
        raise DataError(
            f"data root {root.path.resolve()} (from {root.source}) is not a folder; create it with one subfolder "
            f"per dataset, or set {DATA_ROOT_ENV} or --data-root to the folder that holds your datasets."
        )
    return root
