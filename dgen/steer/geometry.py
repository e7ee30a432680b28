"""A learnable geometric augmentation: a random similarity warp of images and their dense targets, whose
magnitudes are upper-level variables.

    geo = LearnableGeometry(transforms=GEOMETRY_TRANSFORMS, initial=0.1)
    draw = geo.draw(B, generator=g)                        # once per iteration, put it in the batch
    images, masks = ctx.call(geo, images, masks, draw)     # (B, C, H, W), (B, K, H, W): both warped alike

| transform | effect (about the image centre, in pixels) | largest magnitude |
| --- | --- | --- |
| ``rotate`` | rotation by ``m u`` radians, u ~ U(-1, 1) | pi / 4 (45 degrees) |
| ``scale`` | zoom by ``exp(m u)``, u ~ U(-1, 1) | ln 1.5 |
| ``translate`` | shift by ``m (u_x W, u_y H)``, u ~ U(-1, 1)² | 0.25 (a quarter of the image) |

The warp is one ``grid_sample`` (bilinear, zeros outside the image) of images and targets together, so a pixel and
its label move together; a binary mask comes back soft (in [0, 1]) at its edges, which any loss on probabilities
accepts. At ``m = 0`` the warp is the identity (every sample lands on a pixel centre), and it has a derivative in
every magnitude from 0 up (the image gradient times the displacement field). Rotation is rigid in pixels for
any ``H``, ``W``: the normalised coordinates of ``affine_grid`` are rescaled by the image's aspect.

Resampling smooths: a sub-pixel bilinear warp averages neighbouring pixels. Measured on 64 Kvasir-SEG images at
64² with every magnitude at 0.1 of its maximum, the images' Laplacian energy falls to 0.49x (a shift alone: 0.48x;
bicubic sampling would keep 0.81x; the appearance's blur at the same fraction 0.71x):
benchmarks/resampling_smoothing.py. Where the pairs come from a generator, warping its *conditions* and rendering
the image from them resamples no image (the GenSeg plugin's ``geometry_on=conditions``).

Through a learner's look-ahead the hypergradient needs only first derivatives of ``grid_sample`` (the learner's
gradient depends on the magnitudes through the warped inputs): float64 tests against finite differences in
tests/steer/test_geometry.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dgen.errors import ConfigError
from dgen.steer.geometry_draw import GeometryDraw
from dgen.steer.magnitudes import SigmoidMagnitudes

__all__ = ["GEOMETRY_TRANSFORMS", "GEOMETRY_MAX_MAGNITUDES", "LearnableGeometry"]

#: the default largest magnitude of each geometric transform (a magnitude is ``max * sigmoid(raw)``)
GEOMETRY_MAX_MAGNITUDES: dict[str, float] = {"rotate": math.pi / 4, "scale": math.log(1.5), "translate": 0.25}

#: every geometric transform's name
GEOMETRY_TRANSFORMS = tuple(GEOMETRY_MAX_MAGNITUDES)


class LearnableGeometry(nn.Module):
    """A random similarity warp (rotation, zoom, shift) whose magnitudes are learnable: ``max_t * sigmoid(raw_t)``.

    Args:
        transforms: the transforms to apply (names from ``GEOMETRY_TRANSFORMS``); each has one raw scalar
            parameter ``raw[name]``; one not listed is not applied and has no parameter.
        initial: every magnitude starts at ``initial * max_t``, ``initial`` in (0, 1).
        maxima: ``{name: largest magnitude}`` overriding :data:`GEOMETRY_MAX_MAGNITUDES`.

    Raises:
        ConfigError: an unknown transform (the choices and the closest match are named), a duplicate,
            ``initial`` not in (0, 1), or a maximum that is not a finite number > 0.
    """

    def __init__(
        self,
        transforms: Sequence[str] = GEOMETRY_TRANSFORMS,
        *,
        initial: float = 0.1,
        maxima: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        learned = SigmoidMagnitudes("geometric transform", transforms, initial, maxima, GEOMETRY_MAX_MAGNITUDES)
        self.transforms, self.maxima, self._magnitudes = learned.names, learned.maxima, learned
        self.raw = learned.raw

    def magnitudes(self) -> dict[str, Tensor]:
        """``{name: max_t * sigmoid(raw_t)}``, each a ``()`` tensor differentiable in ``raw_t``."""
        return self._magnitudes.values(self.raw)

    #: ``geo.draw(batch, *, generator=None, device=None, dtype=None) -> GeometryDraw``: the standardized random
    #: numbers of ``batch`` warps; draw once per iteration and pass the same draw to every call
    draw = staticmethod(GeometryDraw.sample)

    def forward(self, images: Tensor, targets: Tensor, draw: GeometryDraw) -> tuple[Tensor, Tensor]:
        """``images`` ``(B, C, H, W)`` and their dense ``targets`` ``(B, K, H, W)`` (e.g. masks in [0, 1]) -> both
        warped by the same random similarity, ``(B, C, H, W)`` and ``(B, K, H, W)``, zeros where the warp reaches
        outside the image.

        Raises:
            ConfigError: ``images`` or ``targets`` not 4-D, their batch or spatial sizes differ, or ``draw`` was
                drawn for another batch size.
        """
        if images.dim() != 4 or targets.dim() != 4 or images.shape[0] != targets.shape[0] \
                or images.shape[2:] != targets.shape[2:] or draw.batch != images.shape[0]:
            raise ConfigError(
                f"LearnableGeometry got images {tuple(images.shape)}, targets {tuple(targets.shape)} and a draw for "
                f"{draw.batch} warps; give (B, C, H, W) images, (B, K, H, W) targets and geo.draw(B)."
            )
        if not self.transforms:
            return images, targets
        draw = draw.to(images.device, images.dtype)
        batch, channels, height, width = images.shape
        grid = F.affine_grid(self.theta(draw, height, width), [batch, 1, height, width], align_corners=False)
        both = torch.cat([images, targets.to(images.dtype)], dim=1)  # (B, C + K, H, W): one warp for both
        warped = F.grid_sample(both, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return warped[:, :channels], warped[:, channels:]

    def theta(self, draw: GeometryDraw, height: int, width: int) -> Tensor:
        """The ``(B, 2, 3)`` matrices of ``affine_grid`` (output -> input, normalised coordinates) of the warps
        ``content -> shift + zoom * rotate(content)`` in pixels about the centre."""
        magnitudes = self.magnitudes()
        zero = torch.zeros_like(draw.rotate)
        angle = magnitudes["rotate"] * draw.rotate if "rotate" in magnitudes else zero  # (B,)
        log_zoom = magnitudes["scale"] * draw.scale if "scale" in magnitudes else zero  # (B,)
        shift = magnitudes["translate"] * draw.translate if "translate" in magnitudes else torch.zeros_like(draw.translate)
        cos, sin, inverse_zoom = torch.cos(angle), torch.sin(angle), torch.exp(-log_zoom)
        # the inverse map in pixels, rotate(-angle) / zoom, written in affine_grid's coordinates x / (W/2), y / (H/2)
        aspect = height / width
        linear = torch.stack([
            torch.stack([cos, sin * aspect], dim=-1),
            torch.stack([-sin / aspect, cos], dim=-1),
        ], dim=-2) * inverse_zoom[:, None, None]  # (B, 2, 2)
        offset = -torch.einsum("bij,bj->bi", linear, 2 * shift)  # a shift of s (fraction of the extent) is 2s
        return torch.cat([linear, offset.unsqueeze(-1)], dim=-1)

    def extra_repr(self) -> str:
        return f"transforms={self.transforms}"
