"""`FileTask`: a segmentation task read from dataset folders (any known layout).

The in-domain dataset gives the labelled pairs and the in-domain test set (see
:mod:`dgen_genseg.tasks.protocol`); every out-of-domain dataset is a complete test
set. Folders are scanned at construction (names only), so a missing dataset or too
few pairs fail at once; pixels are read by :meth:`FileTask.splits`, all into memory.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dgen.errors import ConfigError, DataError
from dgen.task import Splits, Task

from dgen_genseg.data.check import check_dir
from dgen_genseg.data.dataset import load_dataset
from dgen_genseg.data.layouts import find_pairs
from dgen_genseg.data.pair import Pair
from dgen_genseg.data.problem import Problem
from dgen_genseg.tasks.options import check_common_options
from dgen_genseg.tasks.protocol import draw_labelled, split_test
from dgen_genseg.tasks.root import DataRoot

__all__ = ["DatasetSource", "FileTask", "optional_sources"]

log = logging.getLogger(__name__)
_SHOWN_MISSING = 5


@dataclass(frozen=True)
class DatasetSource:
    """A dataset: the name its test set is reported under, and its folder."""

    name: str
    path: Path


class FileTask(Task):
    """Base of the file-backed tasks; subclasses choose the datasets in their constructor.

    Splits: ``train`` and ``val`` (labelled pairs), ``test[<in-domain name>]`` (the fixed
    in-domain test set), ``test[<ood name>]`` for each out-of-domain dataset (complete).
    Items are ``(image (C, S, S), mask (1, S, S))`` with ``S = image_size``.

    Args:
        in_domain: the dataset of the labelled pairs and of the in-domain test set.
        out_of_domain: datasets used whole as out-of-domain test sets.
        channels: 1 (greyscale) or 3 (RGB); images are converted to it.
        n_labeled: labelled pairs drawn for train + val (split 80/20).
        image_size: side of the square images and masks.
        seed: chooses the labelled pairs (not the test set).
        test_fraction: share of the in-domain pairs in the fixed test set.
        allow_empty_masks: whether :meth:`check` accepts masks without foreground.
    """

    def __init__(
        self,
        *,
        in_domain: DatasetSource,
        out_of_domain: Sequence[DatasetSource] = (),
        channels: int,
        n_labeled: int,
        image_size: int,
        seed: int,
        test_fraction: float,
        allow_empty_masks: bool,
    ) -> None:
        check_common_options(n_labeled=n_labeled, image_size=image_size, seed=seed, channels=channels)
        if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
            raise ConfigError(f"test_fraction={test_fraction!r} is invalid; use a number strictly between 0 and 1.")
        names = [in_domain.name, *(s.name for s in out_of_domain)]
        clash = sorted({n for n in names if names.count(n) > 1 or n in ("train", "val")})
        if clash:
            raise ConfigError(
                f"dataset names {clash} clash (with each other or with 'train'/'val'); give each dataset its own name."
            )
        self.channels, self.allow_empty_masks = channels, allow_empty_masks
        self.n_labeled, self.image_size, self.seed, self.test_fraction = n_labeled, image_size, seed, test_fraction
        self.in_domain, self.out_of_domain = in_domain, tuple(out_of_domain)
        self._pools: dict[str, dict[str, Pair]] = {
            src.name: {p.stem: p for p in find_pairs(src.path)} for src in (in_domain, *out_of_domain)
        }
        pool = self._pools[in_domain.name]
        self._test_ids, self._labelled_pool = split_test(pool, test_fraction)
        if not self._test_ids or len(self._labelled_pool) < n_labeled:
            raise DataError(
                f"dataset '{in_domain.name}' ({in_domain.path}) has {len(pool)} pairs: {len(self._test_ids)} form the "
                f"fixed test set (test_fraction={test_fraction}) and {len(self._labelled_pool)} remain, but "
                f"n_labeled={n_labeled} needs {n_labeled} remaining and at least 1 test pair; lower n_labeled "
                "or test_fraction, or add data."
            )

    def plan(self) -> dict[str, list[str]]:
        """The item ids of each split of this run (what :attr:`Splits.ids` will hold)."""
        train, val = draw_labelled(self._labelled_pool, self.n_labeled, self.seed)
        plan = {"train": train, "val": val, self.in_domain.name: self._test_ids}
        plan |= {src.name: sorted(self._pools[src.name]) for src in self.out_of_domain}
        return plan

    def splits(self, saved: Mapping[str, list[str]] | None = None) -> Splits:
        """Load the splits (all pixels into memory); with ``saved``, exactly those items."""
        plan = self.plan() if saved is None else self._reuse(saved)
        data = {
            name: load_dataset(self._pairs(name, ids), channels=self.channels, size=self.image_size)
            for name, ids in plan.items()
        }
        tests = {name: ds for name, ds in data.items() if name not in ("train", "val")}
        ood = frozenset(s.name for s in self.out_of_domain) & frozenset(tests)
        return Splits(data["train"], data["val"], tests, ood, {name: list(ids) for name, ids in plan.items()})

    def _pool_name(self, split: str) -> str:
        return self.in_domain.name if split in ("train", "val") else split

    def _pairs(self, split: str, ids: Sequence[str]) -> list[Pair]:
        pool = self._pools[self._pool_name(split)]
        return [pool[i] for i in ids]

    def _reuse(self, saved: Mapping[str, list[str]]) -> dict[str, list[str]]:
        known = ["train", "val", *self._pools]
        unknown = sorted(set(saved) - set(known))
        if unknown or not {"train", "val"} <= set(saved):
            raise DataError(
                f"saved splits {sorted(saved)} do not fit this task (splits {known}); resume with the task "
                "and datasets of the saved run."
            )
        test = set(self._test_ids)
        for split, ids in saved.items():
            pool = self._pools[self._pool_name(split)]
            missing = [i for i in ids if i not in pool]
            if missing:
                shown = ", ".join(missing[:_SHOWN_MISSING]) + (" ..." if len(missing) > _SHOWN_MISSING else "")
                raise DataError(
                    f"{len(missing)} saved '{split}' items are not in dataset '{self._pool_name(split)}' "
                    f"({shown}); restore those files or start a new run."
                )
            leaked = [i for i in ids if split in ("train", "val") and i in test]
            if leaked:
                raise DataError(
                    f"saved '{split}' items {leaked[:_SHOWN_MISSING]} are in this task's fixed test set "
                    f"(test_fraction={self.test_fraction}); resume with the test_fraction of the saved run."
                )
        return {split: list(ids) for split, ids in saved.items()}

    def check(self) -> list[Problem]:
        """Read every file of every dataset of the task and return all problems (see ``check_dir``)."""
        return [
            problem
            for src in (self.in_domain, *self.out_of_domain)
            for problem in check_dir(src.path, channels=self.channels, allow_empty_masks=self.allow_empty_masks)
        ]


def optional_sources(root: DataRoot, names: Sequence[str]) -> list[DatasetSource]:
    """Sources for the dataset folders among ``names`` that exist under ``root``;
    each absent one is logged as a warning."""
    sources = []
    for name in names:
        if root.has(name):
            sources.append(DatasetSource(name, root.dataset(name)))
        else:
            log.warning("out-of-domain test set '%s' skipped: %s does not exist", name, root.path / name)
    return sources
