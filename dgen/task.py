"""The `Task` interface: a supervised problem with named data splits.

A task hands a pipeline its labelled training and validation sets and any number
of test sets, some of them out-of-domain. Items of every split are pairs
``(image, mask)``: ``image`` a float tensor ``(C, H, W)`` in ``[0, 1]`` and
``mask`` a float tensor ``(1, H, W)`` with values in ``{0, 1}``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from torch.utils.data import Dataset

__all__ = ["Splits", "Task"]


@dataclass(frozen=True)
class Splits:
    """The data of one run.

    Attributes:
        train: labelled pairs the models may train on.
        val: labelled pairs used for model selection (and, in MLO, the top-level loss).
        test: test sets by name, read once at the end of a run.
        out_of_domain: names in ``test`` that come from another domain than ``train``.
        ids: for each split name (``"train"``, ``"val"``, and every test name) the item
            identifiers in order, so that the split can be saved and reused on resume.
    """

    train: Dataset
    val: Dataset
    test: Mapping[str, Dataset]
    out_of_domain: frozenset[str] = frozenset()
    ids: Mapping[str, list[str]] = field(default_factory=dict)


class Task(ABC):
    """A supervised segmentation (or other dense prediction) problem.

    Subclasses set ``channels`` (image channels) and ``metric_names`` and implement
    :meth:`splits`. The constructor takes the task's options (data root, number of
    labelled pairs, image size, seed, ...) as keyword arguments.
    """

    #: number of image channels (1 for X-ray, 3 for RGB).
    channels: int = 3
    #: number of mask channels (binary segmentation: 1).
    mask_channels: int = 1
    #: the metrics reported on each test set.
    metric_names: tuple[str, ...] = ("dice", "jaccard")

    @abstractmethod
    def splits(self, saved: Mapping[str, list[str]] | None = None) -> Splits:
        """Build the splits of this run.

        Args:
            saved: split identifiers written by an earlier run (``Splits.ids``); when
                given, the same items must be used, else a ``DataError`` names what is missing.
        """
