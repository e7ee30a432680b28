"""`CaseFolderTask`: one folder per case, ``<data_dir>/<case>/image.png`` + ``<data_dir>/<case>/label.png``.

Splits: a fixed in-domain test set ``test`` (``test_fraction`` of the cases, the same for every
seed), ``n_labeled`` labelled cases drawn with ``seed`` (80 % ``train``, 20 % ``val``), and one
complete test set per folder of ``ood_dirs`` (same layout), named after the folder.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import TensorDataset

from dgen.errors import ConfigError, DataError
from dgen.task import Splits, Task

__all__ = ["CaseFolderTask", "DEFAULT_DIR", "IMAGE_FILE", "LABEL_FILE"]

#: the data folder unless ``data_dir`` is given: ``<data root>/cases``, the data root being ``data_root``,
#: else ``$DGEN_DATA_ROOT``, else ``./data`` (as for GenSeg's tasks).
DEFAULT_DIR = "cases"
DATA_ROOT_ENV = "DGEN_DATA_ROOT"
IMAGE_FILE = "image.png"
LABEL_FILE = "label.png"
IN_DOMAIN_TEST = "test"
_SHOWN = 5


def _folder(path: str | Path, data_root: str | Path | None) -> Path:
    folder = Path(path).expanduser()
    if data_root is not None and not folder.is_absolute():
        folder = Path(data_root).expanduser() / folder
    if not folder.is_dir():
        raise DataError(
            f"case folder {folder} does not exist; pass --data-dir DIR with one sub-folder per case "
            f"(DIR/<case>/{IMAGE_FILE} + DIR/<case>/{LABEL_FILE}), or put them in <data root>/{DEFAULT_DIR}; "
            "relative paths start at --data-root when it is given."
        )
    return folder


def _cases(folder: Path) -> list[str]:
    """Sorted case names of ``folder``; DataError naming the cases that lack a file."""
    cases = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    incomplete = [c for c in cases if not all((folder / c / f).is_file() for f in (IMAGE_FILE, LABEL_FILE))]
    if incomplete:
        raise DataError(
            f"{len(incomplete)} case(s) in {folder} lack {IMAGE_FILE} or {LABEL_FILE} "
            f"({', '.join(incomplete[:_SHOWN])}); add the missing file or remove those folders."
        )
    if not cases:
        raise DataError(f"{folder} holds no case folders; expected {folder}/<case>/{IMAGE_FILE} + {LABEL_FILE}.")
    return cases


def _read_case(folder: Path, channels: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(image (C, S, S) float32 in [0, 1], mask (1, S, S) float32 in {0, 1})``."""
    with Image.open(folder / IMAGE_FILE) as img:
        image = img.convert("RGB" if channels == 3 else "L").resize((size, size), Image.Resampling.BILINEAR)
    with Image.open(folder / LABEL_FILE) as lab:
        label = lab.convert("L").resize((size, size), Image.Resampling.NEAREST)
    pixels = np.asarray(image, dtype=np.float32) / 255.0  # (S, S, C) or (S, S)
    pixels = pixels.reshape(size, size, channels).transpose(2, 0, 1)  # (C, S, S)
    return pixels, (np.asarray(label) > 0).astype(np.float32)[None]


class CaseFolderTask(Task):
    """Binary segmentation from case folders (``<case>/image.png`` + ``<case>/label.png``, label > 0 is foreground).

    Args:
        data_dir: the folder of cases (default: ``<data root>/cases``, the data root being ``data_root``, else
            ``$DGEN_DATA_ROOT``, else ``./data``).
        ood_dirs: folders of cases in the same layout, each a complete out-of-domain test set.
        data_root: when given, relative ``data_dir`` / ``ood_dirs`` start there (else at the current directory).
        n_labeled: labelled cases for train + val (80/20).
        image_size: side of the square images and masks.
        seed: chooses the labelled cases (not the test set).
        channels: 3 (RGB) or 1 (grey).
        test_fraction: share of the cases in the fixed in-domain test set.
    """

    metric_names = ("dice", "jaccard")

    def __init__(
        self,
        *,
        data_dir: str | Path | None = None,
        ood_dirs: Sequence[str | Path] = (),
        data_root: str | Path | None = None,
        n_labeled: int = 16,
        image_size: int = 64,
        seed: int = 0,
        channels: int = 3,
        test_fraction: float = 0.25,
    ) -> None:
        if channels not in (1, 3):
            raise ConfigError(f"channels={channels!r} is invalid; use 1 (grey) or 3 (RGB).")
        if not 0 < test_fraction < 1:
            raise ConfigError(f"test_fraction={test_fraction!r} is invalid; use a number strictly between 0 and 1.")
        if n_labeled < 2 or image_size < 4:
            raise ConfigError(f"n_labeled={n_labeled}, image_size={image_size}; use n_labeled >= 2, image_size >= 4.")
        self.channels, self.image_size = channels, image_size
        if isinstance(ood_dirs, (str, Path)):
            ood_dirs = [ood_dirs]
        root = data_root if data_root is not None else os.environ.get(DATA_ROOT_ENV, "data")
        in_domain = _folder(DEFAULT_DIR, root) if data_dir is None else _folder(data_dir, data_root)
        folders = [in_domain, *(_folder(d, data_root) for d in ood_dirs)]
        names = [IN_DOMAIN_TEST] + [f.name for f in folders[1:]]
        clash = sorted({n for n in names[1:] if names.count(n) > 1 or n in ("train", "val", IN_DOMAIN_TEST)})
        if clash:
            raise ConfigError(f"out-of-domain folders named {clash} clash with other test sets; rename those folders.")
        self._folders = dict(zip(names, folders))
        self._pools = {name: _cases(folder) for name, folder in self._folders.items()}
        cases = self._pools[IN_DOMAIN_TEST]
        n_test = max(1, round(test_fraction * len(cases)))
        shuffled = random.Random(0).sample(cases, len(cases))  # the test set does not depend on the seed
        test, rest = sorted(shuffled[:n_test]), sorted(shuffled[n_test:])
        if len(rest) < n_labeled:
            raise DataError(
                f"{folders[0]} has {len(cases)} cases: {n_test} are the test set and {len(rest)} remain, fewer than "
                f"n_labeled={n_labeled}; lower --n-labeled or add cases."
            )
        labelled = random.Random(seed).sample(rest, n_labeled)
        n_val = max(1, round(0.2 * n_labeled))
        self._plan = {"train": labelled[: n_labeled - n_val], "val": labelled[n_labeled - n_val :]}
        self._plan |= {IN_DOMAIN_TEST: test} | {name: self._pools[name] for name in names[1:]}

    def splits(self, saved: Mapping[str, list[str]] | None = None) -> Splits:
        """Read the cases of every split into memory; with ``saved`` (an earlier ``Splits.ids``), exactly those."""
        plan = self._plan if saved is None else {name: list(ids) for name, ids in saved.items()}
        if not {"train", "val"} <= set(plan):
            raise DataError(f"saved splits {sorted(plan)} lack 'train' or 'val'; resume from a run of this task.")
        data = {name: self._dataset(name, ids) for name, ids in plan.items()}
        tests = {name: ds for name, ds in data.items() if name not in ("train", "val")}
        ids = {name: list(cases) for name, cases in plan.items()}
        return Splits(data["train"], data["val"], tests, frozenset(tests) - {IN_DOMAIN_TEST}, ids)

    def _dataset(self, split: str, ids: list[str]) -> TensorDataset:
        pool_name = IN_DOMAIN_TEST if split in ("train", "val") else split
        if pool_name not in self._pools:
            raise DataError(
                f"saved split '{split}' is not a split of this task ({sorted(self._plan)}); "
                "resume with the folders of the saved run."
            )
        missing = sorted(set(ids) - set(self._pools[pool_name]))
        if missing:
            raise DataError(
                f"{len(missing)} saved '{split}' case(s) are not in {self._folders[pool_name]} "
                f"({', '.join(missing[:_SHOWN])}); restore them or start a new run."
            )
        read = [_read_case(self._folders[pool_name] / case, self.channels, self.image_size) for case in ids]
        images = torch.from_numpy(np.stack([r[0] for r in read]))  # (N, C, S, S)
        masks = torch.from_numpy(np.stack([r[1] for r in read]))  # (N, 1, S, S)
        return TensorDataset(images, masks)
