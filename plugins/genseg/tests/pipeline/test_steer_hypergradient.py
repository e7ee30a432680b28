"""The ``steer`` method's hypergradients through the whole pipeline, against finite differences in float64.

A tiny float64 :class:`Steer` method is built as the pipeline builds it and takes one iteration (so every
optimiser has state). One more iteration's batch is captured; the solver's hypergradients of the ``steer``
level (appearance and geometry magnitudes, pool weights or the weighting network, α) and of the ``gen`` level (the generator's weights: its pix2pix
loss + ``steer_beta`` x the upper loss) are then compared with Richardson-extrapolated central differences of
an independent re-implementation of the look-ahead: deep copies of the models and of the real ``torch.optim``
segmenter optimiser (its lr replaced by the fixed look-ahead step) take one step on the weighted synthetic +
γ·real loss, and the validation loss of S' is read (see test_hypergradient.py for the tiny networks).
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import Tensor

from dgen.plugins import create
from dgen_genseg.gan import PatchDiscriminator, Pix2PixGenerator, from_tanh_range, to_tanh_range
from dgen_genseg.metrics import bce_dice_loss
from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
from dgen_genseg.pipeline.levels import pix2pix_generator_loss
from dgen_genseg.pipeline.methods import Steer
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs
from dgen_genseg.pipeline.sampler import PairSampler
from dgen_genseg.pipeline.steer.levels import SteerBatch
from dgen_genseg.pipeline.steer.variables import steer_variables
from dgen.mlo import Context
from test_hypergradient import CPU, GENERATOR, RATES, SIZE, TinySegmenter, _derivatives, _flat, _pairs

pytestmark = pytest.mark.usefixtures("one_thread")


def _steer(steer: str, **options: str) -> tuple[Steer, SteerBatch]:
    """A tiny float64 steer method after one iteration, and the batch of its next iteration (captured)."""
    torch.manual_seed(0)
    data = torch.Generator().manual_seed(0)
    config, _ = resolve_preset(GenSegConfig(
        preset="cpu", method="steer", steer=steer, image_size=SIZE, batch_size=2, ndf=2, warmup_iterations=0,
        pool_size=4, appearance_lr=0.05, geometry_lr=0.05, weights_lr=0.1, real_augmenter="none", hyper_start=0,
        hyper_every=1, **GENERATOR, **RATES,
        **options,
    ), CPU)  # fmt: skip
    generator = Pix2PixGenerator(in_channels=1, out_channels=3, dropout=0.0, **GENERATOR).double()
    discriminator = PatchDiscriminator(condition_channels=1, image_channels=3, ndf=2, n_layers=1).double()
    method = Steer(Pix2PixInputs(
        config, TinySegmenter().double(), bce_dice_loss, PairSampler(_pairs(4, data), CPU, 0),
        PairSampler(_pairs(2, data), CPU, 1), create("augmenters", "combine"), generator, discriminator,
    ), steer_variables("steer", steer))  # fmt: skip
    for module in (method.appearance, method.geometry, method.pool):
        if module is not None:
            module.double()
    method.step(0)
    captured = []
    step = method.mlo.step
    method.mlo.step = lambda batch: captured.append(batch) or step(batch)
    method.step(1)
    return method, captured[0]


def _lookahead_val_loss(method: Steer, batch: SteerBatch, *, upper: list[Tensor], values: Tensor,
                        with_gan: bool = False) -> Tensor:
    """Upper loss after one real optimiser step of S with the ``upper`` tensors set to ``values`` (flat); with
    ``with_gan`` plus the generator's own pix2pix loss over ``steer_beta`` (the ``gen`` level's objective / beta)."""
    copies = copy.deepcopy({"m": method})["m"]  # one deepcopy: shared modules stay shared
    index = {id(p): i for i, p in enumerate(_all_params(method))}
    targets = [_all_params(copies)[index[id(p)]] for p in upper]
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(values, targets)
    seg, optimizer = copies.seg.segmenter, copies.seg.optimizer
    for group in optimizer.param_groups:
        group["lr"] = copies.config.lookahead_lr or copies.config.seg_lr
    pairs = batch.pairs
    masks = pairs.aug_masks
    warp = batch.geometry_draw is not None
    if warp and copies.config.geometry_on == "conditions":  # the mask warped, the image rendered from it
        masks, _ = copies.geometry(masks, masks[:, :0], batch.geometry_draw)
    if batch.rendered is not None:
        synthetic = batch.rendered
    else:
        copies.gan.generator.train(copies.sample_mode == "train")
        synthetic = from_tanh_range(copies.gan.generator(to_tanh_range(masks)))
        copies.gan.generator.train()
    real, real_masks = pairs.real_pairs()
    if batch.draw is not None:
        synthetic = copies.appearance(synthetic, batch.draw)
    if warp and copies.config.geometry_on == "pairs":  # the rendered image and its mask warped together
        synthetic, masks = copies.geometry(synthetic, masks, batch.geometry_draw)
    if batch.real_draw is not None:
        real = copies.appearance(real, batch.real_draw)
    n = synthetic.shape[0]
    logits = seg(torch.cat([synthetic, real]))  # (2B, 1, S, S): one batch, seg_batchnorm=joint
    each = torch.stack([bce_dice_loss(logits[i : i + 1], masks[i : i + 1]) for i in range(n)])
    if copies.pool is None:
        weights = torch.ones_like(each)
    else:  # a logit per pair, or the network's weights of the features captured before the look-ahead
        weights = copies.pool.weights(batch.index if copies.pool.per_pair else batch.features)
    loss = (weights * each).mean() + copies.seg.gamma * bce_dice_loss(logits[n:], real_masks)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        value = bce_dice_loss(seg(pairs.val_images), pairs.val_masks)
        if with_gan:
            gan = copies.gan
            value = value + pix2pix_generator_loss(Context(), gan.generator, gan.discriminator, gan.lambda_l1,
                                                   pairs) / copies.config.steer_beta
    return value


def _all_params(method: Steer) -> list[Tensor]:
    modules = [method.seg.segmenter, method.gan.generator, method.gan.discriminator, method.appearance, method.geometry,
               method.pool]
    return [p for m in modules if m is not None for p in m.parameters()]


@pytest.mark.parametrize("options", [{}, {"appearance_on": "synthetic,real", "appearance_transforms": "gamma,blur"},
                                     {"appearance_on": "real"}])
def test_appearance_and_weights_hypergradient_equals_finite_differences(options):
    method, batch = _steer("appearance,weights", **options)
    assert (batch.draw is None, batch.real_draw is None) == (
        "synthetic" not in method.appearance_on, "real" not in method.appearance_on)
    upper = method.mlo.problem.level("steer").params
    grad = _flat(method.mlo.solver.hypergradients(batch)["steer"])
    n_app = len(method.appearance.transforms)
    assert grad.numel() == n_app + 4 and float(grad[:n_app].abs().min()) > 0
    values = _flat(upper)
    expected = _derivatives(lambda v: _lookahead_val_loss(method, batch, upper=upper, values=v), values,
                            torch.eye(values.numel(), dtype=torch.float64))
    weights_used = set(batch.index.tolist())
    assert all(float(expected[n_app + i]) == 0.0 for i in range(4) if i not in weights_used), "unused pairs get none"
    torch.testing.assert_close(grad, expected, rtol=1e-6, atol=1e-6 * float(expected.abs().max()))


@pytest.mark.parametrize("geometry_on", ["pairs", "conditions"])
def test_geometry_hypergradient_alone_and_with_appearance_and_weights_equals_finite_differences(geometry_on):
    for steer in ("geometry", "appearance,geometry,weights"):
        method, batch = _steer(steer, geometry_on=geometry_on)
        assert batch.geometry_draw is not None and (batch.rendered is None) == (geometry_on == "conditions")
        upper = method.mlo.problem.level("steer").params
        grad = _flat(method.mlo.solver.hypergradients(batch)["steer"])
        n_app = len(method.appearance.transforms) if method.appearance is not None else 0
        n_geo = len(method.geometry.transforms)
        assert float(grad[n_app : n_app + n_geo].abs().min()) > 0, "every warp magnitude gets a hypergradient"
        values = _flat(upper)
        expected = _derivatives(lambda v: _lookahead_val_loss(method, batch, upper=upper, values=v), values,
                                torch.eye(values.numel(), dtype=torch.float64))
        torch.testing.assert_close(grad, expected, rtol=1e-6, atol=1e-6 * float(expected.abs().max()))


@pytest.mark.parametrize("steer", ["generator", "appearance,generator,arch"])
def test_generator_and_alpha_hypergradients_equal_finite_differences(steer):
    method, batch = _steer(steer)
    hypers = method.mlo.solver.hypergradients(batch)
    directions = torch.Generator().manual_seed(3)
    for level in method.mlo.problem.hypergradient_levels:
        params = method.mlo.problem.level(level).params
        grad, values = _flat(hypers[level]), _flat(params)
        v = torch.randn(2, values.numel(), generator=directions, dtype=torch.float64)
        # unit length: the step is FD_STEP in weight space however many weights there are (N(0, 1) rows over the
        # generator's 10,725 weights made it 100x longer, and it crossed ReLU and clamp kinks)
        v = v / v.norm(dim=1, keepdim=True)
        scale = method.config.steer_beta if level == "gen" else 1.0
        expected = scale * _derivatives(
            lambda x: _lookahead_val_loss(method, batch, upper=params, values=x, with_gan=level == "gen"), values, v
        )
        torch.testing.assert_close(v @ grad, expected, rtol=1e-6, atol=1e-6 * float(grad.norm()))


@pytest.mark.parametrize("steer, norm", [("weightnet", "none"), ("appearance,weightnet", "none"),
                                         ("weightnet,generator", "none"), ("appearance,weightnet", "batch")])
def test_weightnet_hypergradient_equals_finite_differences(steer, norm):
    method, batch = _steer(steer, weightnet_norm=norm)
    assert method.pool.weights.normalize == (norm == "batch")
    assert batch.features is not None and batch.features.shape == (2, 2)
    upper = method.mlo.problem.level("steer").params
    assert (batch.rendered is None) == ("generator" in steer), "the generator renders inside the loss when steered"
    grad = _flat(method.mlo.solver.hypergradients(batch)["steer"])
    net = _flat(list(method.pool.weights.parameters()))
    assert float(grad[-net.numel():].abs().max()) > 0, "the network gets a hypergradient"
    values = _flat(upper)
    expected = _derivatives(lambda v: _lookahead_val_loss(method, batch, upper=upper, values=v), values,
                            torch.eye(values.numel(), dtype=torch.float64))
    torch.testing.assert_close(grad, expected, rtol=1e-6, atol=1e-6 * float(expected.abs().max()))


def test_a_refilled_pool_starts_its_weights_and_their_adam_moments_afresh():
    method, _ = _steer("weights")
    logits = method.pool.weights.logits
    assert float(method.mlo.steer_opt.state[logits]["step"]) == 2, "two steered iterations so far"
    method.pool.refresh = 1  # refill before the next iteration
    method.step(2)
    assert float(method.mlo.steer_opt.state[logits]["step"]) == 1, "the moments of the replaced pairs are dropped"
    assert float((method.pool.utility() - 1).abs().max()) < 0.2, "weights restart at 1 (one step since)"
