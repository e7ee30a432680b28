"""`ShapesTask`: procedural lesion-like blobs, no files needed.

For tests, demos and quick experiments: deterministic, fast (well under a second
for a few hundred 64 x 64 items), learnable but not trivial (soft boundaries,
textures, faint lesion-coloured distractor spots outside the mask). Splits:
``train`` + ``val`` (``n_labeled`` pairs drawn with ``seed``), ``test["shapes"]``
(``n_test`` in-domain pairs, the same for every seed) and ``test["shapes_ood"]``
(``n_test`` pairs in another palette, lower contrast, finer texture, more noise).
See :mod:`dgen_genseg.tasks.shapes_render` for how items are drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from dgen.errors import ConfigError, DataError
from dgen.task import Splits, Task

from dgen_genseg.data.dataset import PairDataset
from dgen_genseg.data.io import to_channels
from dgen_genseg.tasks.options import check_common_options
from dgen_genseg.tasks.protocol import n_val
from dgen_genseg.tasks.shapes_render import IN_DOMAIN, OUT_OF_DOMAIN, Palette, render_shape

__all__ = ["ShapesTask"]

_PALETTES: dict[str, Palette] = {"shapes": IN_DOMAIN, "shapes_ood": OUT_OF_DOMAIN}
_DOMAIN_OF_SPLIT = {"train": "shapes", "val": "shapes", "shapes": "shapes", "shapes_ood": "shapes_ood"}


class ShapesTask(Task):
    """Synthetic lesion segmentation.

    Item ids are ``"<domain>:<key>"`` (``shapes:s0-0003`` labelled, ``shapes:test-0003``
    in-domain test, ``shapes_ood:0003`` out-of-domain test); an item is rendered from its id
    alone, so saved ids reproduce the same pixels.

    Args:
        data_root: accepted for a signature common to all tasks; unused (nothing is read).
        n_labeled: labelled pairs, split 80/20 into train and val.
        image_size: side of the square images.
        seed: chooses the labelled pairs (the test sets do not depend on it).
        n_test: pairs in each test set.
        channels: 3 (RGB) or 1 (BT.601 luma of the RGB rendering).
    """

    def __init__(
        self,
        *,
        data_root: str | Path | None = None,
        n_labeled: int = 40,
        image_size: int = 64,
        seed: int = 0,
        n_test: int = 64,
        channels: int = 3,
    ) -> None:
        check_common_options(n_labeled=n_labeled, image_size=image_size, seed=seed, channels=channels)
        if isinstance(n_test, bool) or not isinstance(n_test, int) or n_test < 1:
            raise ConfigError(f"n_test={n_test!r} is invalid; use an integer >= 1.")
        self.n_labeled, self.image_size, self.seed, self.n_test = n_labeled, image_size, seed, n_test
        self.channels = channels

    def plan(self) -> dict[str, list[str]]:
        """The item ids of each split (what :attr:`Splits.ids` will hold)."""
        labelled = [f"shapes:s{self.seed}-{i:04d}" for i in range(self.n_labeled)]
        k = n_val(self.n_labeled)
        return {
            "train": labelled[:-k],
            "val": labelled[-k:],
            "shapes": [f"shapes:test-{i:04d}" for i in range(self.n_test)],
            "shapes_ood": [f"shapes_ood:{i:04d}" for i in range(self.n_test)],
        }

    def splits(self, saved: Mapping[str, list[str]] | None = None) -> Splits:
        """Render the splits; with ``saved``, exactly those items."""
        plan = self.plan() if saved is None else _check_saved(saved)
        data = {name: self._render(ids) for name, ids in plan.items()}
        tests = {name: ds for name, ds in data.items() if name not in ("train", "val")}
        return Splits(data["train"], data["val"], tests, frozenset({"shapes_ood"}) & frozenset(tests), plan)

    def _render(self, ids: Sequence[str]) -> PairDataset:
        size = self.image_size
        images = torch.empty(len(ids), self.channels, size, size)
        masks = torch.empty(len(ids), 1, size, size)
        for i, item in enumerate(ids):
            image, masks[i] = render_shape(item, size, _PALETTES[item.split(":", 1)[0]])
            images[i] = to_channels(image, self.channels)
        return PairDataset(images, masks, ids)


def _check_saved(saved: Mapping[str, list[str]]) -> dict[str, list[str]]:
    if not {"train", "val"} <= set(saved) or not set(saved) <= set(_DOMAIN_OF_SPLIT):
        raise DataError(
            f"saved splits {sorted(saved)} do not fit the shapes task (splits {sorted(_DOMAIN_OF_SPLIT)}); "
            "resume with the task of the saved run."
        )
    for split, ids in saved.items():
        bad = [i for i in ids if i.split(":", 1)[0] != _DOMAIN_OF_SPLIT[split] or ":" not in i]
        if bad:
            raise DataError(
                f"saved '{split}' ids {bad[:5]} are not ids of the shapes task "
                f"(expected '{_DOMAIN_OF_SPLIT[split]}:<key>'); resume with the task of the saved run."
            )
    return {split: list(ids) for split, ids in saved.items()}
