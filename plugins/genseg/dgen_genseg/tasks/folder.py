"""`FolderTask`: any dataset folder (any known layout), with optional out-of-domain folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dgen.errors import DataError

from dgen_genseg.tasks.files import DatasetSource, FileTask

__all__ = ["FolderTask"]


def _folder(path: str | Path, data_root: str | Path | None, what: str) -> DatasetSource:
    folder = Path(path).expanduser()
    if data_root is not None and not folder.is_absolute():
        folder = Path(data_root).expanduser() / folder
    if not folder.is_dir():
        raise DataError(
            f"{what} {folder} is not a folder; give an existing dataset folder "
            "(relative paths are taken from the current directory, or from --data-root when it is given)."
        )
    return DatasetSource(folder.resolve().name, folder)


class FolderTask(FileTask):
    """A task on your own data: ``data_dir`` gives the labelled pairs and the in-domain test set,
    each of ``ood_dirs`` (a folder or a list of folders) a complete out-of-domain test set; test sets
    are named after their folders.

    Relative paths are taken from the current directory, or from ``data_root`` when it is given.
    """

    def __init__(
        self,
        *,
        data_dir: str | Path,
        ood_dirs: Sequence[str | Path] = (),
        data_root: str | Path | None = None,
        channels: int = 3,
        n_labeled: int = 40,
        image_size: int = 64,
        seed: int = 0,
        test_fraction: float = 0.5,
        allow_empty_masks: bool = False,
    ) -> None:
        if isinstance(ood_dirs, (str, Path)):
            ood_dirs = [ood_dirs]
        super().__init__(
            in_domain=_folder(data_dir, data_root, "data_dir"),
            out_of_domain=[_folder(d, data_root, "out-of-domain folder") for d in ood_dirs],
            channels=channels, n_labeled=n_labeled, image_size=image_size, seed=seed,
            test_fraction=test_fraction, allow_empty_masks=allow_empty_masks,
        )
