"""nnU-Net's spatial augmentation for 2-D batches: rotation, scaling, mirroring, elastic deformation, shift.

For every sample the output pixel at centred pixel position ``p`` (x right, y down, origin at the
image centre) reads the input at

    q = R(θ) · diag(s, s) · diag(f_x, f_y) · (p + d(p) - t)

with θ the rotation, ``s`` the scale of the *sampling grid* (nnU-Net's convention: ``s > 1`` shows more
of the image, so objects get smaller), ``f = ±1`` the mirrors, ``d`` an elastic displacement field and
``t`` a shift. Each part is drawn per sample with its own probability; a part not drawn is the
identity. Deformation comes first and rotation/scaling after it, as in batchgeneratorsv2's
``SpatialTransform``; mirroring is nnU-Net's last transform, folded in here so the batch is resampled
once (flipping a sample before or after its photometric changes gives the same distribution).

The elastic field is batchgenerators' ``elastic_deform_coordinates``: uniform noise in [-1, 1] per
axis, smoothed by a Gaussian of std ``sigma`` pixels (zero padding, cut at 4 sigma), times ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import final

import torch
from torch import Tensor

from dgen.augmenter import Augmenter
from dgen_genseg.augment.affine import bernoulli, check_probability, check_range, uniform
from dgen_genseg.augment.gaussian import gaussian_blur
from dgen_genseg.augment.warp import check_pair, resample, sampling_dtype

__all__ = ["Spatial"]

#: elastic noise is smoothed with kernels cut at this many sigmas (scipy's gaussian_filter default).
ELASTIC_TRUNCATE = 4.0


@final
class Spatial(Augmenter):
    """Rotate, scale, mirror, elastically deform and shift masks and images alike, nnU-Net style.

    Defaults are nnU-Net v2's 2-D training augmentation (``nnUNetTrainer.get_training_transforms``)
    where it has the transform; the elastic deformation (off in nnU-Net's defaults) uses batchgenerators'
    2-D ranges, and the shift (nnU-Net shifts only by cropping patches smaller than the image) is ours.

    Args:
        p_rotation: probability of a rotation (nnU-Net: 0.2).
        rotation: angle range in degrees, within [-180, 180] (nnU-Net for square 2-D patches: ±180).
        p_scaling: probability of a scaling (nnU-Net: 0.2).
        scaling: range of the sampling grid's scale ``s``, within (0, 10); the content is zoomed by
            ``1 / s`` (nnU-Net: 0.7-1.4, one factor for both axes).
        p_horizontal: probability of a left-right mirror (nnU-Net: 0.5 per axis).
        p_vertical: probability of a top-bottom mirror (nnU-Net: 0.5).
        p_elastic: probability of an elastic deformation (ours: 0.2, batchgenerators' ``p_eldef``).
        elastic_alpha: range of the displacement magnitude ``alpha`` (batchgenerators 2-D: 0-200).
        elastic_sigma: range of the smoothing std in pixels (batchgenerators: 9-13).
        p_translate: probability of a shift (ours: 0.2).
        translate: shift range as a fraction of W (x) and H (y), drawn independently, within [-1, 1]
            (ours: ±0.1, as ``combine``).
    """

    def __init__(
        self,
        *,
        p_rotation: float = 0.2,
        rotation: Sequence[float] = (-180.0, 180.0),
        p_scaling: float = 0.2,
        scaling: Sequence[float] = (0.7, 1.4),
        p_horizontal: float = 0.5,
        p_vertical: float = 0.5,
        p_elastic: float = 0.2,
        elastic_alpha: Sequence[float] = (0.0, 200.0),
        elastic_sigma: Sequence[float] = (9.0, 13.0),
        p_translate: float = 0.2,
        translate: Sequence[float] = (-0.1, 0.1),
    ) -> None:
        self.p_rotation = check_probability("p_rotation", p_rotation)
        self.rotation = check_range("rotation", rotation, lowest=-180.0, highest=180.0, example="(-180, 180)")
        self.p_scaling = check_probability("p_scaling", p_scaling)
        self.scaling = check_range("scaling", scaling, lowest=0.0, highest=10.0, open_bounds=True, example="(0.7, 1.4)")
        self.p_horizontal = check_probability("p_horizontal", p_horizontal)
        self.p_vertical = check_probability("p_vertical", p_vertical)
        self.p_elastic = check_probability("p_elastic", p_elastic)
        self.elastic_alpha = check_range("elastic_alpha", elastic_alpha, lowest=0.0, highest=1e4, example="(0, 200)")
        self.elastic_sigma = check_range(
            "elastic_sigma", elastic_sigma, lowest=0.0, highest=100.0, open_bounds=True, example="(9, 13)"
        )
        self.p_translate = check_probability("p_translate", p_translate)
        self.translate = check_range("translate", translate, lowest=-1.0, highest=1.0, example="(-0.1, 0.1)")

    def __call__(
        self, mask: Tensor, image: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Transform ``mask`` ``(B, 1, H, W)`` and optionally ``image`` ``(B, C, H, W)``; one draw per sample.

        When no sample of the batch draws any part, the inputs are returned as they are.
        """
        check_pair(mask, image)
        batch, _, height, width = mask.shape
        dtype = sampling_dtype(mask, image)
        grid = self.sample_grid(batch, height, width, generator, device=mask.device, dtype=dtype)
        if grid is None:
            return mask, image
        return resample(mask, image, grid)

    def sample_grid(
        self,
        batch: int,
        height: int,
        width: int,
        generator: torch.Generator | None,
        *,
        device: torch.device,
        dtype: torch.dtype,
    ) -> Tensor | None:
        """Draw the batch's sampling grids ``(B, H, W, 2)`` (``grid_sample``'s normalised x, y) on ``device``.

        Parameters are drawn in float64 on the generator's device, every one for every sample in a
        fixed order (the elastic noise, in float32, only for the samples that deform). Returns None
        when every sample drew the identity.
        """

        def fires(p: float) -> Tensor:  # (B,) bool
            return bernoulli(p, batch, generator)

        def draw(value_range: tuple[float, float]) -> Tensor:  # (B,) float64
            return uniform(*value_range, batch, generator)

        rotate, angle = fires(self.p_rotation), torch.deg2rad(draw(self.rotation))
        scale, factor = fires(self.p_scaling), draw(self.scaling)
        flip_x, flip_y = fires(self.p_horizontal), fires(self.p_vertical)
        shift, tx, ty = fires(self.p_translate), draw(self.translate), draw(self.translate)
        deform, alpha, sigma = fires(self.p_elastic), draw(self.elastic_alpha), draw(self.elastic_sigma)
        if not bool((rotate | scale | flip_x | flip_y | shift | deform).any()):
            return None

        angle, factor = torch.where(rotate, angle, 0.0), torch.where(scale, factor, 1.0)  # (B,)
        cos, sin = torch.cos(angle), torch.sin(angle)
        sign_x, sign_y = 1.0 - 2.0 * flip_x.double(), 1.0 - 2.0 * flip_y.double()
        # M = R(θ) diag(s, s) diag(f_x, f_y), as rows [[m00, m01], [m10, m11]]
        m = torch.stack([cos * sign_x, -sin * sign_y, sin * sign_x, cos * sign_y], -1) * factor[:, None]  # (B, 4)
        m = m.view(batch, 2, 2).to(device=device, dtype=dtype)  # (B, 2, 2)
        offset = torch.stack([torch.where(shift, tx, 0.0) * width, torch.where(shift, ty, 0.0) * height], -1)  # (B, 2)

        ys = torch.arange(height, device=device, dtype=dtype) + 0.5 - height / 2.0
        xs = torch.arange(width, device=device, dtype=dtype) + 0.5 - width / 2.0
        base = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1)  # (H, W, 2) centred pixels (x, y)
        points = base.expand(batch, height, width, 2) - offset.to(device=device, dtype=dtype)[:, None, None, :]
        if bool(deform.any()):
            points = points + self._displacements(deform, alpha, sigma, height, width, generator, device, dtype)
        sampled = torch.einsum("bij,bhwj->bhwi", m, points)  # (B, H, W, 2) centred pixels
        return sampled / torch.tensor([width / 2.0, height / 2.0], device=device, dtype=dtype)

    @staticmethod
    def _displacements(
        deform: Tensor,
        alpha: Tensor,
        sigma: Tensor,
        height: int,
        width: int,
        generator: torch.Generator | None,
        device: torch.device,
        dtype: torch.dtype,
    ) -> Tensor:
        """Elastic fields ``(B, H, W, 2)`` in pixels, zero for the samples with ``deform`` False."""
        chosen = deform.nonzero().flatten()  # (k,) on the generator's device
        count = chosen.numel()
        noise = torch.rand(count, 2, height, width, generator=generator, device=deform.device)  # float32
        noise = (2.0 * noise - 1.0).to(device=device, dtype=dtype).view(count * 2, height, width)  # (2k, H, W)
        sigmas = sigma[chosen].repeat_interleave(2).to(device=device, dtype=dtype)  # (2k,)
        smooth = gaussian_blur(noise, sigmas, sigmas, truncate=ELASTIC_TRUNCATE, padding="zeros")
        fields = smooth.view(count, 2, height, width) * alpha[chosen].to(device=device, dtype=dtype).view(count, 1, 1, 1)
        out = torch.zeros(deform.shape[0], height, width, 2, device=device, dtype=dtype)
        return out.index_copy(0, chosen.to(device), fields.permute(0, 2, 3, 1))

    def __repr__(self) -> str:
        return (
            f"Spatial(p_rotation={self.p_rotation}, rotation={self.rotation}, p_scaling={self.p_scaling}, "
            f"scaling={self.scaling}, p_horizontal={self.p_horizontal}, p_vertical={self.p_vertical}, "
            f"p_elastic={self.p_elastic}, elastic_alpha={self.elastic_alpha}, elastic_sigma={self.elastic_sigma}, "
            f"p_translate={self.p_translate}, translate={self.translate})"
        )
