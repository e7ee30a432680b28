"""LearnableGeometry and GeometryDraw: identity, exact rotations and shifts, rigidity on non-square images, zoom,
images and targets moved together, gradients to every magnitude, errors; and its hypergradient through a
learner's real optimizer steps, alone and with an alpha-like level, against central finite differences."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dgen.errors import ConfigError, UnknownNameError
from dgen.mlo import Context, Problem, create_solver
from dgen.steer import GEOMETRY_MAX_MAGNITUDES, GEOMETRY_TRANSFORMS, GeometryDraw, LearnableGeometry
from tests.mlo.chains import OPTIMIZERS, FnLevel
from tests.mlo.real_steps import finite_difference


def _geometry(magnitudes: dict[str, float]) -> LearnableGeometry:
    """A float64 module whose magnitudes are exactly ``magnitudes`` (maxima twice them, ``initial`` 0.5)."""
    return LearnableGeometry(tuple(magnitudes), initial=0.5, maxima={k: 2 * v for k, v in magnitudes.items()}).double()


def _draw(batch: int, rotate: float = 0.0, scale: float = 0.0, translate: tuple[float, float] = (0.0, 0.0)) -> GeometryDraw:
    full = lambda value: torch.full((batch,), value, dtype=torch.float64)  # noqa: E731
    return GeometryDraw(full(rotate), full(scale), torch.tensor([translate] * batch, dtype=torch.float64))


def _centroid(mask: Tensor) -> Tensor:
    """``(x, y)`` of a ``(H, W)`` mask's centre of mass, in pixels from the image centre."""
    h, w = mask.shape
    y, x = torch.meshgrid(torch.arange(h, dtype=mask.dtype) - (h - 1) / 2, torch.arange(w, dtype=mask.dtype) - (w - 1) / 2,
                          indexing="ij")
    return torch.stack([(x * mask).sum(), (y * mask).sum()]) / mask.sum()


def _blob(h: int, w: int, x: float, y: float, radius: float) -> Tensor:
    """A disk of ``radius`` pixels at ``(x, y)`` from the centre, ``(1, 1, H, W)`` in {0, 1}."""
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64) - (h - 1) / 2,
                            torch.arange(w, dtype=torch.float64) - (w - 1) / 2, indexing="ij")
    return (((xx - x) ** 2 + (yy - y) ** 2) <= radius**2).double()[None, None]


def test_magnitudes_start_at_initial_times_the_maximum():
    geo = LearnableGeometry(("rotate", "translate"), initial=0.2)
    assert set(geo.magnitudes()) == {"rotate", "translate"} and len(list(geo.parameters())) == 2
    for name, value in geo.magnitudes().items():
        assert float(value.detach()) == pytest.approx(0.2 * GEOMETRY_MAX_MAGNITUDES[name])
    assert set(LearnableGeometry().magnitudes()) == set(GEOMETRY_TRANSFORMS)


def test_a_zero_draw_and_no_transforms_are_the_identity():
    images, masks = torch.rand(2, 3, 5, 7, dtype=torch.float64), torch.rand(2, 1, 5, 7, dtype=torch.float64)
    for geo, draw in ((LearnableGeometry(initial=0.9).double(), _draw(2)),
                      (LearnableGeometry((),).double(), GeometryDraw.sample(2, dtype=torch.float64))):
        out_images, out_masks = geo(images, masks, draw)
        torch.testing.assert_close(out_images, images, rtol=0, atol=1e-12)
        torch.testing.assert_close(out_masks, masks, rtol=0, atol=1e-12)


def test_a_quarter_turn_of_a_square_image_is_rot90_of_images_and_masks_alike():
    images, masks = torch.rand(2, 3, 6, 6, dtype=torch.float64), torch.rand(2, 1, 6, 6, dtype=torch.float64)
    out_images, out_masks = _geometry({"rotate": math.pi / 2})(images, masks, _draw(2, rotate=1.0))
    # content rotated by +90 degrees in pixels (x right, y down): the pixel right of the centre goes below it
    torch.testing.assert_close(out_images, torch.rot90(images, k=-1, dims=(2, 3)), rtol=0, atol=1e-10)
    torch.testing.assert_close(out_masks, torch.rot90(masks, k=-1, dims=(2, 3)), rtol=0, atol=1e-10)


def test_a_shift_of_one_pixel_moves_content_right_and_down_and_fills_zeros():
    images = torch.rand(1, 2, 4, 8, dtype=torch.float64)
    geo = LearnableGeometry(("translate",), initial=0.5, maxima={"translate": 2 / 8}).double()  # 1/8 of the width
    out, _ = geo(images, images[:, :1], _draw(1, translate=(1.0, 0.0)))
    torch.testing.assert_close(out[..., 1:], images[..., :-1], rtol=0, atol=1e-12)
    assert out[..., 0].abs().max() == 0
    geo = LearnableGeometry(("translate",), initial=0.5, maxima={"translate": 2 / 4}).double()  # 1/4 of the height
    out, _ = geo(images, images[:, :1], _draw(1, translate=(0.0, 1.0)))
    torch.testing.assert_close(out[..., 1:, :], images[..., :-1, :], rtol=0, atol=1e-12)


def test_rotation_is_rigid_in_pixels_on_a_non_square_image():
    blob = _blob(24, 48, x=6.0, y=0.0, radius=3.0)
    with torch.no_grad():
        _, out = _geometry({"rotate": math.pi / 2})(blob.repeat(1, 3, 1, 1), blob, _draw(1, rotate=1.0))
    x, y = _centroid(out[0, 0]).tolist()
    assert x == pytest.approx(0.0, abs=0.05) and y == pytest.approx(6.0, abs=0.05)  # 6 px below, not 3 or 12
    assert float(out.sum()) == pytest.approx(float(blob.sum()), rel=0.02)  # the area is kept


def test_zoom_scales_a_disk_s_area_by_the_square_of_the_factor():
    blob = _blob(40, 40, x=0.0, y=0.0, radius=6.0)
    for u, factor in ((1.0, 1.5), (-1.0, 1 / 1.5)):
        _, out = _geometry({"scale": math.log(1.5)})(blob, blob, _draw(1, scale=u))
        out = out.detach()
        assert float(out.sum()) / float(blob.sum()) == pytest.approx(factor**2, rel=0.05)


def test_every_magnitude_has_a_gradient_equal_to_finite_differences():
    gen = torch.Generator().manual_seed(0)
    images = F.avg_pool2d(torch.rand(2, 2, 12, 12, generator=gen, dtype=torch.float64), 3, 1, 1)  # smooth
    masks = torch.rand(2, 1, 12, 12, generator=gen, dtype=torch.float64)
    draw = GeometryDraw.sample(2, generator=gen, dtype=torch.float64)
    weights = torch.randn(2, 3, 12, 12, generator=gen, dtype=torch.float64)
    geo = LearnableGeometry(initial=0.3).double()

    def loss(*raw: Tensor) -> Tensor:
        state = {f"raw.{name}": value for name, value in zip(geo.transforms, raw)}
        out_images, out_masks = torch.func.functional_call(geo, state, (images, masks, draw))
        return (torch.cat([out_images, out_masks], dim=1) * weights).sum()

    raw = tuple(p.detach().clone().requires_grad_() for p in geo.raw.values())
    grads = torch.autograd.grad(loss(*raw), raw)
    for i, grad in enumerate(grads):
        assert abs(float(grad)) > 1e-3  # every transform moves the loss
        h = 1e-6
        up = [r.detach().clone() for r in raw]
        down = [r.detach().clone() for r in raw]
        up[i] += h
        down[i] -= h
        expected = (loss(*up) - loss(*down)) / (2 * h)
        torch.testing.assert_close(grad, expected.detach(), rtol=1e-6, atol=1e-9)


def test_bad_shapes_draws_and_names_fail_clearly():
    geo = LearnableGeometry()
    images, masks = torch.rand(2, 3, 8, 8), torch.rand(2, 1, 8, 8)
    with pytest.raises(ConfigError, match=r"geo\.draw\(B\)"):
        geo(images, masks, GeometryDraw.sample(3))
    with pytest.raises(ConfigError, match="targets"):
        geo(images, masks[:, :, :4], GeometryDraw.sample(2))
    with pytest.raises(ConfigError, match="targets"):
        geo(images, masks[0], GeometryDraw.sample(2))
    with pytest.raises(UnknownNameError, match="rotate"):
        LearnableGeometry(("rotat",))
    with pytest.raises(ConfigError, match="string"):
        LearnableGeometry("rotate")
    with pytest.raises(ConfigError, match="initial"):
        LearnableGeometry(initial=1.0)


def test_draws_repeat_with_a_seeded_generator_and_move_across_dtypes():
    a = GeometryDraw.sample(4, generator=torch.Generator().manual_seed(3))
    b = GeometryDraw.sample(4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.translate, b.translate) and a.batch == 4 and a.translate.shape == (4, 2)
    assert a.to(dtype=torch.float64).rotate.dtype == torch.float64
    assert float(a.rotate.abs().max()) <= 1 and float(a.scale.abs().max()) <= 1


# -- the hypergradient through a learner's real optimizer steps --------------------------------------------------

N, C, S = 3, 2, 8


class _Scene:
    """A float64 learner (3x3 conv -> mask logits) trained on generated pairs warped by a ``LearnableGeometry`` +
    real pairs; upper levels ``geometry`` (its magnitudes) and, with ``alpha``, an alpha-like mix of two renderings
    of the generated images; both ``direct=False`` with the learner's validation loss."""

    def __init__(self, uppers: tuple[str, ...], optimizer: str, steps: int) -> None:
        torch.manual_seed(0)  # the learner's initialisation
        gen = torch.Generator().manual_seed(0)
        smooth = lambda *shape: F.avg_pool2d(torch.rand(*shape, generator=gen, dtype=torch.float64), 3, 1, 1)  # noqa: E731
        self.real, self.val = smooth(N, C, S, S), smooth(N, C, S, S)
        self.real_masks, self.val_masks = smooth(N, 1, S, S), smooth(N, 1, S, S)
        # generated pairs with structure along x (the warp then changes what the 3x3 learner sees)
        ramp = torch.linspace(0.0, 1.0, S, dtype=torch.float64).expand(N, 1, S, S)
        self.base = 0.2 + 0.6 * ramp * torch.rand(N, C, S, S, generator=gen, dtype=torch.float64)
        self.masks = ramp * smooth(N, 1, S, S)
        self.alpha = nn.Parameter(0.5 * torch.randn(2, generator=gen, dtype=torch.float64))
        self.geometry = LearnableGeometry(initial=0.3).double()
        self.net = nn.Conv2d(C, 1, 3, padding=1).double()
        self.draw = self.geometry.draw(N, generator=gen, dtype=torch.float64)
        uppers_params = {"geometry": list(self.geometry.parameters()), "alpha": [self.alpha]}
        self.levels = [FnLevel(name, uppers_params[name], torch.optim.Adam(uppers_params[name], lr=0.01),
                               self.validation, lower=("learner",), direct=False) for name in uppers]
        params = list(self.net.parameters())
        self.learner = FnLevel("learner", params, OPTIMIZERS[optimizer](params), self.train_loss, upper=uppers,
                               unroll_steps=steps)
        self.problem = Problem([*self.levels, self.learner])

    def loss(self, ctx: Context, images: Tensor, masks: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(ctx.call(self.net, images), masks)

    def train_loss(self, ctx: Context, _: object) -> Tensor:
        mix = torch.softmax(ctx.param(self.alpha), dim=0)
        generated = mix[0] * self.base + mix[1] * self.base.sqrt()
        images, masks = ctx.call(self.geometry, generated, self.masks, self.draw)
        return self.loss(ctx, images, masks) + self.loss(ctx, self.real, self.real_masks)

    def validation(self, ctx: Context, _: object) -> Tensor:
        return self.loss(ctx, self.val, self.val_masks)

    def warm_up(self) -> None:
        for _ in range(3):  # an optimizer state from ordinary updates
            self.learner.optimizer.zero_grad()
            self.train_loss(Context(), None).backward()
            self.learner.optimizer.step()
        for p in [*self.geometry.parameters(), self.alpha, *self.net.parameters()]:
            p.grad = None


@pytest.mark.parametrize("optimizer, steps", [("sgd", 1), ("adam", 1), ("adam", 2)])
@pytest.mark.parametrize("uppers", [("geometry",), ("geometry", "alpha")], ids="+".join)
def test_the_geometry_hypergradient_matches_finite_differences_of_real_steps(uppers, optimizer, steps):
    scene = _Scene(uppers, optimizer, steps)
    scene.warm_up()
    grads = create_solver("unroll", scene.problem).hypergradients(None)
    for level in scene.levels:
        reference = finite_difference(scene.problem, level.name, None)
        for got, expected in zip(grads[level.name], reference, strict=True):
            assert expected.abs().max() > 1e-6  # a meaningful comparison
            torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-10)
