"""The strong classic augmentation: nnU-Net's spatial transforms (plus elastic and shift), then its intensity ones.

``strong()`` (registry name ``strong``) is the baseline a generative method has to beat: what a
practitioner would use on 10-50 labelled images. See docs/augmenters.md for the table of transforms,
probabilities and ranges.
"""

from __future__ import annotations

import difflib
import inspect
from typing import Any, final

import torch
from torch import Tensor

from dgen.augmenter import Augmenter
from dgen.errors import ConfigError
from dgen_genseg.augment.photometric import Photometric
from dgen_genseg.augment.spatial import Spatial

__all__ = ["Strong", "strong"]


@final
class Strong(Augmenter):
    """``spatial`` on mask and image alike, then ``photometric`` on the image only.

    The spatial parameters are drawn before the photometric ones, so a seeded call gives the same
    masks with or without an image.

    Args:
        spatial: the geometric part (default: :class:`Spatial` with nnU-Net's settings).
        photometric: the intensity part (default: :class:`Photometric` with nnU-Net's settings).
    """

    def __init__(self, spatial: Spatial | None = None, photometric: Photometric | None = None) -> None:
        self.spatial = spatial if spatial is not None else Spatial()
        self.photometric = photometric if photometric is not None else Photometric()

    def __call__(
        self, mask: Tensor, image: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Transform ``mask`` ``(B, 1, H, W)`` in {0, 1} and optionally ``image`` ``(B, C, H, W)`` in [0, 1]."""
        mask, image = self.spatial(mask, image, generator=generator)
        if image is not None:
            image = self.photometric(image, generator=generator)
        return mask, image

    def __repr__(self) -> str:
        return f"Strong({self.spatial!r}, {self.photometric!r})"


def _options(cls: type) -> list[str]:
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


def strong(**options: Any) -> Strong:
    """The strong augmenter; each keyword goes to :class:`Spatial` or :class:`Photometric`, e.g.
    ``strong(p_elastic=0, p_translate=0)`` for nnU-Net's defaults exactly."""
    parts = {cls: _options(cls) for cls in (Spatial, Photometric)}
    known = [name for names in parts.values() for name in names]
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"strong() has no option {name!r}; {hint}choose from {', '.join(known)}.")
    spatial, photometric = ({k: v for k, v in options.items() if k in names} for names in parts.values())
    return Strong(Spatial(**spatial), Photometric(**photometric))
