"""The built-in ``toy`` task: the toy problem's vector pairs exposed through the `Task` interface."""

from __future__ import annotations

from collections.abc import Mapping

from torch.utils.data import TensorDataset

from dgen.errors import DataError
from dgen.task import Splits, Task
from dgen.toy.problem import build_toy_problem

__all__ = ["ToyTask"]


class ToyTask(Task):
    """Pairs ``(image (6,), mask (3,))`` of the toy process ``x = tanh(W m + b) + noise``.

    Args:
        n_labeled: labelled pairs, split 50/50 into train and val (the toy's default 16 + 16).
        seed: seeds the data.
    """

    channels = 6
    mask_channels = 3
    metric_names = ("mse",)

    def __init__(self, *, n_labeled: int = 32, seed: int = 0) -> None:
        if n_labeled < 4:
            raise DataError(f"toy task n_labeled={n_labeled}: needs at least 4 pairs (2 train + 2 val).")
        self.n_labeled, self.seed = n_labeled, seed

    def splits(self, saved: Mapping[str, list[str]] | None = None) -> Splits:
        n_train = self.n_labeled // 2
        _, data = build_toy_problem(self.seed, n_train=n_train, n_val=self.n_labeled - n_train)
        sets = {s: TensorDataset(data.images[s], data.masks[s]) for s in ("train", "val", "test")}
        ids = {s: [f"{s}-{i}" for i in range(len(ds))] for s, ds in sets.items()}
        if saved is not None and dict(saved) != ids:
            raise DataError("the saved toy split does not match this toy task's split; start a new run.")
        return Splits(train=sets["train"], val=sets["val"], test={"toy": sets["test"]}, ids=ids)
