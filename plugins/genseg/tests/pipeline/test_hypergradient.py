"""α, the generator's architecture, gets the exact hypergradient of the validation loss through the whole pipeline.

A tiny float64 :class:`GenSeg` method is built as the pipeline builds it (its Problem, its
optimisers: Adam with betas (0.5, 0.999) for G and α, the preset's segmenter optimiser) and takes
one ordinary iteration, so every optimiser has state (Adam's first step, ``lr * sign(g)``, is flat in
α and would make the check trivial). α's hypergradient from the trainer's solver is then compared
with finite differences of an independent re-implementation of the look-ahead (paper Eq. 5-8): deep
copies of the models and of the real ``torch.optim`` optimisers take K steps on the pix2pix loss (G,
given α and D), then K steps on the segmentation loss of synthetic pairs from the augmented masks
plus the real pairs (S, given G' and α), and the loss of S' on the validation pairs is read.

The finite differences are Richardson-extrapolated central differences (fourth order): in some α
directions the look-ahead is strongly curved (Adam's normalised step), so a plain central
difference needs a step so small that rounding dominates. The tiny segmenter is smooth (SiLU,
bilinear upsampling, no max-pooling): max-pooling over the piecewise-constant synthetic images has
exact ties whose tie-breaking flips under tiny perturbations, so finite differences through it are
meaningless (the registered ``unet`` is checked with a smooth encoder).

``higher``'s Adam is ``torch.optim.Adam`` with ``eps / sqrt(1 - beta2**t)`` and with bias
corrections computed from torch's float32 step tensor (a 3e-5 relative change of the step size at
t = 2); the reference mirrors both, so the ``higher`` backend is checked as tightly as ``func``.

Run with ``-s`` to see darts' cosine with the exact hypergradient.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dgen.errors import ConfigError, SolverError
from dgen.plugins import create
from dgen.segmenter import Segmenter
from dgen_genseg.gan import PatchDiscriminator, Pix2PixGenerator, from_tanh_range, generator_loss, to_tanh_range
from dgen_genseg.metrics import bce_dice_loss
from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
from dgen_genseg.pipeline.levels import GenSegBatch
from dgen_genseg.pipeline.sampler import PairSampler
from dgen_genseg.pipeline.methods import GenSeg
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs

SIZE = 16  # images SIZE x SIZE; the generator has 2 levels (4 x 4 bottleneck)
GENERATOR = {"ngf": 4, "num_downs": 2, "max_mult": 2}
#: learning rates large enough that the look-ahead moves visibly (the math does not depend on them)
RATES = {"gen_lr": 1e-2, "seg_lr": 1e-2, "arch_lr": 1e-2}
FD_STEP = 4e-6
CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: one thread (root conftest.py)


class TinySegmenter(Segmenter):
    """A smooth two-scale segmenter: images ``(B, 3, H, W)`` -> logits ``(B, 1, H, W)``, H and W even."""

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.SiLU())
        self.down = nn.Sequential(
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.SiLU()
        )
        self.head = nn.Conv2d(3 * width, 1, 3, padding=1)

    def forward(self, image: Tensor) -> Tensor:
        skip = self.stem(image)  # (B, w, H, W)
        deep = F.interpolate(self.down(skip), scale_factor=2.0, mode="bilinear", align_corners=False)  # (B, 2w, H, W)
        return self.head(torch.cat([skip, deep], dim=1))  # (B, 1, H, W)

    def check_input_size(self, height: int, width: int) -> None:
        if height % 2 or width % 2:
            raise ConfigError(f"TinySegmenter needs even H and W, got {height}x{width}; pad by one pixel.")


def _pairs(count: int, generator: torch.Generator) -> list[tuple[Tensor, Tensor]]:
    """``count`` pairs ``(image (3, S, S) in [0, 1], mask (1, S, S) in {0, 1})``, float64, blocky masks."""
    coarse = (torch.rand(count, 1, SIZE // 4, SIZE // 4, generator=generator) > 0.5).double()
    masks = F.interpolate(coarse, size=(SIZE, SIZE))  # (N, 1, S, S)
    images = 0.5 * masks + 0.3 * torch.rand(count, 3, SIZE, SIZE, generator=generator, dtype=torch.float64)
    return [(images[i], masks[i]) for i in range(count)]


def _trainer(preset: str, segmenter: nn.Module | None = None, **options) -> GenSeg:
    """The pipeline's trainer on tiny float64 models, after one ordinary iteration (D step + MLO step)."""
    torch.manual_seed(0)
    data = torch.Generator().manual_seed(0)
    config, _ = resolve_preset(
        GenSegConfig(preset=preset, image_size=SIZE, batch_size=2, ndf=2, warmup_iterations=0, **GENERATOR,
                     **RATES, **options),
        CPU,
    )  # fmt: skip
    generator = Pix2PixGenerator(in_channels=1, out_channels=3, dropout=0.0, **GENERATOR).double()
    discriminator = PatchDiscriminator(condition_channels=1, image_channels=3, ndf=2, n_layers=1).double()
    segmenter = (segmenter or TinySegmenter()).double()
    trainer = GenSeg(Pix2PixInputs(
        config, segmenter, bce_dice_loss, PairSampler(_pairs(4, data), CPU, 0), PairSampler(_pairs(2, data), CPU, 1),
        create("augmenters", "combine"), generator, discriminator,
    ))  # fmt: skip
    trainer.step(0)
    for optimizer in (trainer.mlo.arch_opt, trainer.gan.gen_opt, trainer.seg.optimizer):
        assert optimizer.state  # parameters no loss reads get none, as in ordinary training
    return trainer


def _batch(trainer: GenSeg) -> GenSegBatch:
    images, masks = trainer.data.train.images[:2], trainer.data.train.masks[:2]
    aug_masks, _ = trainer.data.conditions(masks, generator=torch.Generator().manual_seed(1))
    return GenSegBatch(images, masks, aug_masks, trainer.data.val.images, trainer.data.val.masks)


def _flat(tensors: list[Tensor]) -> Tensor:
    return torch.cat([t.detach().flatten() for t in tensors])


def _as_higher_adam(optimizer: torch.optim.Optimizer) -> None:
    """Set ``lr`` and ``eps`` of a torch Adam so its next step equals ``higher``'s differentiable Adam step
    (``p - lr sqrt(bc2) / bc1 * m / (sqrt(v) + eps)``, bias corrections from torch's step tensor)."""
    for group in optimizer.param_groups:
        group.setdefault("base", (group["lr"], group["eps"]))
        lr, eps = group["base"]
        step = optimizer.state[group["params"][0]]["step"] + 1  # a tensor, float32 by default
        beta1, beta2 = group["betas"]
        exact1, exact2 = 1 - beta1 ** float(step), 1 - beta2 ** float(step)
        group["eps"] = eps / math.sqrt(exact2)
        group["lr"] = lr * math.sqrt(float(1 - beta2**step)) / float(1 - beta1**step) * exact1 / math.sqrt(exact2)


def _lookahead_val_loss(
    trainer: GenSeg, batch: GenSegBatch, alpha: Tensor, steps: int, *, lookahead: str = "torch"
) -> Tensor:
    """Validation loss of S' after K real optimiser steps of G, then of S, at architecture ``alpha`` (flat).

    ``lookahead``: ``"torch"`` (the trainer's optimisers), ``"higher"`` (Adam as ``higher`` steps it) or
    ``"sgd"`` (plain SGD with each optimiser's learning rate, DARTS' look-ahead).
    """
    generator, discriminator, segmenter, gen_opt, seg_opt = copy.deepcopy(
        (trainer.gan.generator, trainer.gan.discriminator, trainer.seg.segmenter, trainer.gan.gen_opt, trainer.seg.optimizer)
    )
    if lookahead == "sgd":
        gen_opt = torch.optim.SGD(generator.weight_parameters(), lr=gen_opt.param_groups[0]["lr"])
        seg_opt = torch.optim.SGD(segmenter.parameters(), lr=seg_opt.param_groups[0]["lr"])
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(alpha, generator.arch_parameters())

    def step(optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
        if lookahead == "higher" and isinstance(optimizer, torch.optim.Adam):
            _as_higher_adam(optimizer)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    condition, real = to_tanh_range(batch.masks), to_tanh_range(batch.images)  # (B, 1 | 3, S, S)
    for _ in range(steps):  # Eq. 5: G' given α and D
        fake = generator(condition)
        step(gen_opt, generator_loss(discriminator(condition, fake), fake, real, lambda_l1=trainer.gan.lambda_l1))
    n = batch.aug_masks.shape[0]
    for _ in range(steps):  # Eq. 7: S' on synthetic pairs from G' (augmented masks) + γ · real pairs
        synthetic = from_tanh_range(generator(to_tanh_range(batch.aug_masks)))  # (B, 3, S, S)
        logits = segmenter(torch.cat([synthetic, batch.images]))  # (2B, 1, S, S), one batch as the pipeline does
        loss = trainer.seg.loss(logits[:n], batch.aug_masks) + trainer.seg.gamma * trainer.seg.loss(
            logits[n:], batch.masks
        )
        step(seg_opt, loss)
    with torch.no_grad():  # Eq. 3: S' on the validation pairs
        return trainer.seg.loss(segmenter(batch.val_images), batch.val_masks)


def _derivatives(f: Callable[[Tensor], Tensor], alpha: Tensor, directions: Tensor, h: float = FD_STEP) -> Tensor:
    """``(D,)`` directional derivatives of ``f`` at ``alpha`` along the rows of ``directions`` ``(D, n)``,
    by Richardson-extrapolated central differences ``(4 D(h/2) - D(h)) / 3``."""

    def central(v: Tensor, step: float) -> Tensor:
        return (f(alpha + step * v) - f(alpha - step * v)) / (2 * step)

    return torch.stack([(4 * central(v, h / 2) - central(v, h)) / 3 for v in directions])


def _hypergradient(trainer: GenSeg, batch: GenSegBatch, solver=None) -> list[Tensor]:
    return (solver or trainer.mlo.solver).hypergradients(batch)["arch"]


@pytest.mark.parametrize(
    ("preset", "backend", "steps"),
    [("cpu", "func", 1), ("cpu", "higher", 1), ("paper", "func", 1), ("paper", "higher", 1), ("cpu", "func", 2)],
)
def test_alpha_hypergradient_equals_finite_differences_of_the_validation_loss(preset, backend, steps):
    trainer = _trainer(preset, backend=backend, unroll_steps=steps)
    batch = _batch(trainer)
    grads = _hypergradient(trainer, batch)
    assert len(grads) == 2 * GENERATOR["num_downs"]  # every encoder and decoder cell is searched ...
    assert all(float(g.abs().min()) > 0 for g in grads)  # ... and each candidate's α receives a gradient
    alpha = _flat(trainer.gan.generator.arch_parameters())
    lookahead = "higher" if backend == "higher" else "torch"
    expected = _derivatives(
        lambda a: _lookahead_val_loss(trainer, batch, a, steps, lookahead=lookahead), alpha, torch.eye(alpha.numel())
    )
    torch.testing.assert_close(_flat(grads), expected, rtol=1e-6, atol=1e-6 * float(expected.abs().max()))


def test_alpha_hypergradient_with_the_registered_unet():
    segmenter = create(
        "segmenters", "unet", in_channels=3, classes=1, encoder="tu-tinynet_e", encoder_depth=3,
        decoder_channels=(8, 8, 8),
    )  # fmt: skip  # a smooth (SiLU) encoder without max-pooling
    trainer = _trainer("cpu", segmenter=segmenter)
    batch = _batch(trainer)
    grad = _flat(_hypergradient(trainer, batch))
    assert float(grad.abs().min()) > 0
    directions = torch.randn(2, grad.numel(), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    alpha = _flat(trainer.gan.generator.arch_parameters())
    expected = _derivatives(lambda a: _lookahead_val_loss(trainer, batch, a, 1), alpha, directions)
    torch.testing.assert_close(directions @ grad, expected, rtol=1e-6, atol=1e-6 * float(grad.norm()))


def test_darts_approximates_the_sgd_lookahead_to_its_order():
    """darts is the gradient of a plain-SGD look-ahead up to its finite-difference error, which vanishes
    with eps_scale; its cosine with the exact (Adam look-ahead) hypergradient is reported, not asserted.

    Measured error (max abs / max abs of the reference): 0.66 at eps_scale 1e-2, 1.2 at 1e-3, 0.11 at
    3e-4, 2.4e-7 at 1e-4 and 1e-5 (the reference's floor): perturbations of 1e-3 still cross the
    kinks of the generator's (Leaky)ReLUs on piecewise-constant masks, so the O(eps²) regime starts late.
    """
    trainer = _trainer("cpu", solver="darts")
    batch = _batch(trainer)
    alpha = _flat(trainer.gan.generator.arch_parameters())
    sgd = _derivatives(
        lambda a: _lookahead_val_loss(trainer, batch, a, 1, lookahead="sgd"), alpha, torch.eye(alpha.numel())
    )
    exact = _flat(_hypergradient(trainer, batch, create("solvers", "unroll", problem=trainer.mlo.problem)))
    errors = {}
    for eps_scale in (1e-2, 1e-3, 1e-4):
        darts = create("solvers", "darts", problem=trainer.mlo.problem, eps_scale=eps_scale)
        grad = _flat(_hypergradient(trainer, batch, darts))
        errors[eps_scale] = float((grad - sgd).abs().max() / sgd.abs().max())
        cosine = float(F.cosine_similarity(grad, exact, dim=0))
        print(f"darts eps_scale={eps_scale:g}: error {errors[eps_scale]:.2g}, cosine with exact unroll {cosine:.4f}")
    assert errors[1e-4] < 1e-5, errors
    assert errors[1e-4] < errors[1e-3], errors


def test_first_order_is_refused_because_alpha_would_get_exactly_zero_gradient():
    trainer = _trainer("cpu")
    with pytest.raises(SolverError, match=r"'arch'.*direct=False.*identically zero.*'unroll'"):
        create("solvers", "first_order", problem=trainer.mlo.problem)
    with pytest.raises(SolverError, match=r"'arch'.*identically zero.*'unroll'"):
        _trainer("cpu", solver="first_order")
