"""A learnable appearance augmentation: differentiable transforms whose magnitudes are upper-level variables.

    app = LearnableAppearance(transforms=APPEARANCE_TRANSFORMS, initial=0.1)
    draw = app.draw(B, C, H, W, generator=g)      # once per iteration, put it in the batch
    out = ctx.call(app, images, draw)             # (B, C, H, W) in [0, 1] -> (B, C, H, W) in [0, 1]

A level over ``app.parameters()`` with ``lower=("learner",)`` and ``direct=False`` then learns how
strongly to augment from the learner's validation loss through its look-ahead (tests:
tests/steer/test_hypergradients.py). The transforms and their largest magnitudes are listed in
:mod:`dgen.steer.transforms`.

Why our own torch code rather than kornia: the look-ahead evaluates the learner's loss several
times per iteration and needs the *same* random transform each time, with the magnitude as a
differentiable factor of a stored standardized draw (``shift = m * u``), under
``torch.func.functional_call``. kornia's classic random augmentations sample their factors inside
a parameter generator from ranges fixed at construction (kornia issue #673: gradients of ColorJitter's
parameters were None); kornia has since made ranges trainable (PR #633) and its AutoAugment-style
operations (``kornia.augmentation.auto``, PR #2181) differentiable with respect to magnitude and
probability, but without a smooth bias field or a per-sample blur whose size has a gradient down to zero in that family,
and not as a draw one can store and replay across evaluations. Six small transforms in plain torch
give exactly that, checked in float64 against finite differences, without a new dependency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor, nn

from dgen.errors import ConfigError
from dgen.steer.draw import AppearanceDraw
from dgen.steer.magnitudes import SigmoidMagnitudes
from dgen.steer.transforms import APPEARANCE_TRANSFORMS, MAX_MAGNITUDES, TRANSFORMS

__all__ = ["LearnableAppearance"]


class LearnableAppearance(nn.Module):
    """Random appearance changes whose magnitudes are learnable: ``magnitude_t = max_t * sigmoid(raw_t)``.

    Args:
        transforms: the transforms to apply (names from ``APPEARANCE_TRANSFORMS``); each has one raw
            scalar parameter ``raw[name]``; a transform not listed is not applied and has no parameter.
        initial: every magnitude starts at ``initial * max_t``, ``initial`` in (0, 1).
        maxima: ``{name: largest magnitude}`` overriding :data:`~dgen.steer.transforms.MAX_MAGNITUDES`.

    Raises:
        ConfigError: an unknown transform (the choices and the closest match are named), a duplicate,
            ``initial`` not in (0, 1), or a maximum that is not a finite number > 0.
    """

    def __init__(
        self,
        transforms: Sequence[str] = APPEARANCE_TRANSFORMS,
        *,
        initial: float = 0.1,
        maxima: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        learned = SigmoidMagnitudes("appearance transform", transforms, initial, maxima, MAX_MAGNITUDES)
        self.transforms, self.maxima, self._magnitudes = learned.names, learned.maxima, learned
        self.raw = learned.raw

    def magnitudes(self) -> dict[str, Tensor]:
        """``{name: max_t * sigmoid(raw_t)}``, each a ``()`` tensor differentiable in ``raw_t``."""
        return self._magnitudes.values(self.raw)

    #: ``app.draw(batch, channels, height, width, *, generator=None, device=None, dtype=None) -> AppearanceDraw``:
    #: the standardized random numbers for images ``(batch, channels, height, width)``; draw once per iteration
    #: and pass the same draw to every call (:meth:`AppearanceDraw.sample`)
    draw = staticmethod(AppearanceDraw.sample)

    def forward(self, images: Tensor, draw: AppearanceDraw) -> Tensor:
        """``images`` ``(B, C, H, W)`` in [0, 1] -> the transformed images ``(B, C, H, W)``, clamped to [0, 1].

        Raises:
            ConfigError: ``images`` is not 4-D, or ``draw`` was drawn for another shape.
        """
        if images.dim() != 4 or tuple(images.shape) != draw.shape:
            raise ConfigError(
                f"LearnableAppearance got images of shape {tuple(images.shape)} and a draw for {draw.shape}; "
                f"draw for the images' (B, C, H, W), e.g. app.draw(*images.shape)."
            )
        draw = draw.to(images.device, images.dtype)
        magnitudes = self.magnitudes()
        out = images
        for name, transform in TRANSFORMS.items():
            if name in magnitudes:
                out = transform(out, magnitudes[name], draw)
        return out.clamp(0.0, 1.0)

    def extra_repr(self) -> str:
        return f"transforms={self.transforms}"
