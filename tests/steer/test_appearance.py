"""LearnableAppearance and AppearanceDraw: identity, range, shapes, the direction of each transform,
gradients to every magnitude, reproducible draws, and errors."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch.func import functional_call

from dgen.errors import ConfigError, UnknownNameError
from dgen.mlo import Context
from dgen.steer import (
    APPEARANCE_TRANSFORMS,
    BIAS_FIELD_TERMS,
    BLUR_KERNEL,
    MAX_MAGNITUDES,
    AppearanceDraw,
    LearnableAppearance,
    bias_field_basis,
)

B, C, H, W = 3, 2, 6, 7


def _images(low: float = 0.2, high: float = 0.6, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(B, C, H, W, generator=gen, dtype=torch.float64)


def _app(*transforms: str, initial: float = 0.5) -> LearnableAppearance:
    return LearnableAppearance(transforms, initial=initial).double()


def _draw(**fields: float | list[float]) -> AppearanceDraw:
    """A draw of zeros except the given fields, each set to a constant (or, for bias_field, coefficients);
    ``noise`` given keeps its N(0, 1) draw."""
    draw = AppearanceDraw.sample(B, C, H, W, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    values = {f.name: torch.zeros_like(getattr(draw, f.name)) for f in dataclasses.fields(draw)}
    for name, value in fields.items():
        values[name] = draw.noise if name == "noise" else values[name] + torch.tensor(value, dtype=torch.float64)
    return AppearanceDraw(**values)


def test_magnitudes_start_at_initial_times_the_maximum_and_only_listed_transforms_have_parameters():
    app = LearnableAppearance(("brightness", "blur"), initial=0.2)
    assert set(app.magnitudes()) == {"brightness", "blur"} and len(list(app.parameters())) == 2
    for name, value in app.magnitudes().items():
        assert value.shape == () and math.isclose(float(value.detach()), 0.2 * MAX_MAGNITUDES[name], rel_tol=1e-6)
    noise = LearnableAppearance(maxima={"noise": 0.05}, initial=0.5).magnitudes()["noise"]
    assert float(noise.detach()) == pytest.approx(0.025)


def test_no_transforms_is_the_identity_and_tiny_magnitudes_nearly_so():
    images = _images()
    draw = AppearanceDraw.sample(B, C, H, W, dtype=torch.float64)
    torch.testing.assert_close(_app()(images, draw), images, rtol=0, atol=0)
    assert list(_app().parameters()) == []
    tiny = LearnableAppearance(initial=1e-9).double()
    out = tiny(images, draw)
    assert out.shape == (B, C, H, W)
    torch.testing.assert_close(out, images, rtol=0, atol=1e-8)


def test_output_stays_in_the_unit_interval_at_the_largest_magnitudes():
    images = _images(0.0, 1.0)
    app = LearnableAppearance(initial=0.999).double()
    with torch.no_grad():
        out = app(images, app.draw(B, C, H, W, generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    assert out.shape == images.shape and float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert float(out.min()) == 0.0 or float(out.max()) == 1.0  # the extremes were reached and clamped


def test_each_transform_moves_the_image_the_expected_way():
    x = _images()
    m = {name: 0.5 * MAX_MAGNITUDES[name] for name in APPEARANCE_TRANSFORMS}
    torch.testing.assert_close(_app("brightness")(x, _draw(brightness=1.0)), x + m["brightness"])
    torch.testing.assert_close(_app("brightness")(x, _draw(brightness=-1.0)), x - m["brightness"])
    stretched = _app("contrast")(x, _draw(contrast=1.0))
    torch.testing.assert_close(stretched.std(dim=(1, 2, 3)), x.std(dim=(1, 2, 3)) * math.exp(m["contrast"]))
    torch.testing.assert_close(stretched.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)))
    darker = _app("gamma")(x, _draw(gamma=1.0))
    torch.testing.assert_close(darker, x ** math.exp(m["gamma"]))
    assert bool((darker < x).all())
    field = _app("bias_field")(x, _draw(bias_field=[1.0, 0.0, 0.0, 0.0, 0.0]))  # the x basis function
    ratio = field / x
    torch.testing.assert_close(ratio[..., 0, :], ratio[..., -1, :])  # constant along y
    assert bool((ratio[..., -1] > 1).all()) and bool((ratio[..., 0] < 1).all())  # brighter to the right
    noisy_draw = _draw(noise=0.0)
    torch.testing.assert_close(_app("noise")(x, noisy_draw), x + m["noise"] * noisy_draw.noise)


def test_blur_smooths_keeps_constants_and_is_the_identity_at_zero_variance():
    x = _images()
    blurred = _app("blur", initial=0.9)(x, _draw(blur=1.0))

    def variation(t: torch.Tensor) -> torch.Tensor:
        return (t[..., 1:] - t[..., :-1]).abs().sum() + (t[..., 1:, :] - t[..., :-1, :]).abs().sum()

    assert float(variation(blurred.detach())) < 0.5 * float(variation(x))
    constant = torch.full((B, C, H, W), 0.4, dtype=torch.float64)
    torch.testing.assert_close(_app("blur", initial=0.9)(constant, _draw(blur=1.0)), constant)
    torch.testing.assert_close(_app("blur", initial=0.9)(x, _draw(blur=0.0)), x, rtol=0, atol=1e-12)


def test_blur_kernel_is_the_discrete_gaussian_of_its_variance():
    from dgen.steer.transforms import _discrete_gaussian  # the kernel itself, against torch's I_0 and I_1

    variance = torch.tensor([[0.0], [0.2], [1.0], [2.25]], dtype=torch.float64)
    kernel = _discrete_gaussian(variance)
    assert kernel.shape == (4, BLUR_KERNEL)
    torch.testing.assert_close(kernel.sum(dim=1), torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(kernel, kernel.flip(1))
    torch.testing.assert_close(kernel[0], torch.eye(BLUR_KERNEL, dtype=torch.float64)[BLUR_KERNEL // 2])
    centre = BLUR_KERNEL // 2
    ratio = kernel[1:, centre + 1] / kernel[1:, centre]  # I_1(t) / I_0(t)
    flat = variance[1:, 0]
    torch.testing.assert_close(ratio, torch.special.i1(flat) / torch.special.i0(flat))
    taps = torch.arange(BLUR_KERNEL, dtype=torch.float64) - centre
    spread = (kernel * taps**2).sum(dim=1)
    torch.testing.assert_close(spread, variance[:, 0], rtol=2e-2, atol=0)  # 11 taps: the cut tails hold < 2 %


def test_every_transform_changes_the_image_and_has_a_gradient_at_the_default_start():
    """Guards the dead blur we once had: a sampled Gaussian of std 0.15 px moved pixels by 1e-9 with a
    derivative of 2e-7, so its magnitude never learned."""
    x = _images(0.1, 0.9)
    app = LearnableAppearance(initial=0.1).double()
    draw = app.draw(B, C, H, W, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    for name in APPEARANCE_TRANSFORMS:
        single = LearnableAppearance((name,), initial=0.1).double()
        raw = single.raw[name].detach().clone().requires_grad_()
        out = functional_call(single, {f"raw.{name}": raw}, (x, draw))
        (derivative,) = torch.autograd.grad(out, raw, torch.sign(out - x).detach())  # sum |d out / d raw|, roughly
        assert float((out - x).detach().abs().mean()) > 1e-3, name
        assert float(derivative.abs()) / out.numel() > 1e-3, name


def test_bias_field_basis_is_zero_mean_and_unit_rms():
    basis = bias_field_basis(H, W, dtype=torch.float64)
    assert basis.shape == (BIAS_FIELD_TERMS, H, W)
    torch.testing.assert_close(basis.mean(dim=(1, 2)), torch.zeros(BIAS_FIELD_TERMS, dtype=torch.float64))
    torch.testing.assert_close(basis.pow(2).mean(dim=(1, 2)), torch.ones(BIAS_FIELD_TERMS, dtype=torch.float64))


def test_every_magnitude_gets_the_exact_gradient():
    app = LearnableAppearance(initial=0.2).double()
    x = _images(0.3, 0.5)
    draw = app.draw(B, C, H, W, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    out = app(x, draw).detach()
    assert 0 < float(out.min()) and float(out.max()) < 1  # away from the clamp
    names = [f"raw.{name}" for name in APPEARANCE_TRANSFORMS]
    raws = tuple(app.raw[name].detach().clone().requires_grad_() for name in APPEARANCE_TRANSFORMS)
    weights = torch.randn(B, C, H, W, generator=torch.Generator().manual_seed(4), dtype=torch.float64)

    def objective(*values: torch.Tensor) -> torch.Tensor:
        return (functional_call(app, dict(zip(names, values)), (x, draw)) * weights).sum()

    assert torch.autograd.gradcheck(objective, raws, eps=1e-6, atol=1e-8, rtol=1e-6)
    grads = torch.autograd.grad(objective(*raws), raws)
    assert all(float(g.abs()) > 1e-6 for g in grads)  # every magnitude is reached


def test_a_context_substitutes_the_magnitudes():
    app, x = LearnableAppearance(initial=0.3).double(), _images()
    draw = app.draw(B, C, H, W, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    changed = Context({app.raw["brightness"]: app.raw["brightness"].detach() + 1.0}).call(app, x, draw)
    with torch.no_grad():
        app.raw["brightness"] += 1.0
    torch.testing.assert_close(changed, app(x, draw), rtol=0, atol=0)


def test_draws_are_reproducible_from_a_generator_and_have_the_documented_shapes():
    def draw(seed: int) -> AppearanceDraw:
        return AppearanceDraw.sample(B, C, H, W, generator=torch.Generator().manual_seed(seed))

    first, again, other = draw(7), draw(7), draw(8)
    for field in dataclasses.fields(AppearanceDraw):
        assert torch.equal(getattr(first, field.name), getattr(again, field.name))
        assert not torch.equal(getattr(first, field.name), getattr(other, field.name))
    assert first.brightness.shape == first.contrast.shape == first.gamma.shape == first.blur.shape == (B, 1, 1, 1)
    assert first.bias_field.shape == (B, BIAS_FIELD_TERMS) and first.noise.shape == (B, C, H, W) == first.shape
    assert float(first.brightness.abs().max()) <= 1 and float(first.blur.min()) >= 0
    assert first.to(dtype=torch.float64).noise.dtype == torch.float64
    app = LearnableAppearance(("noise",))
    torch.manual_seed(0)
    via_module = app.draw(B, C, H, W, generator=torch.Generator().manual_seed(7))
    assert torch.equal(via_module.noise, first.noise)


def test_bad_arguments_are_refused_with_the_fix():
    with pytest.raises(UnknownNameError, match="unknown appearance transform 'brightnes'.*Did you mean 'brightness'"):
        LearnableAppearance(("brightnes",))
    with pytest.raises(ConfigError, match="is a string; expected a tuple"):
        LearnableAppearance("blur")
    with pytest.raises(ConfigError, match="lists 'blur' twice"):
        LearnableAppearance(("blur", "blur"))
    for initial in (0, 1, -0.1, 1.5, float("nan"), True, "0.1"):
        with pytest.raises(ConfigError, match=r"initial=.*expected a finite number in \(0, 1\)"):
            LearnableAppearance(initial=initial)
    with pytest.raises(ConfigError, match=r"maxima\['noise'\]=-1.*expected a finite number > 0"):
        LearnableAppearance(maxima={"noise": -1})
    with pytest.raises(UnknownNameError, match="Did you mean 'gamma'"):
        LearnableAppearance(maxima={"gama": 0.3})
    app = LearnableAppearance()
    with pytest.raises(ConfigError, match=r"images of shape \(3, 2, 6, 7\) and a draw for \(2, 2, 6, 7\)"):
        app(_images().float(), app.draw(2, C, H, W))
