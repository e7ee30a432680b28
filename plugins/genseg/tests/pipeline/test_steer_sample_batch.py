"""``Steer.sample_batch``: a fresh iteration's data at fixed variables, for measuring the hypergradient's noise
(``benchmarks/hypergrad_noise.py``): it updates nothing, and each call draws anew."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from dgen.errors import ConfigError
from dgen.mlo import gradient_noise
from test_fixes_wired import _first_segmenter_step, _method

STEER = {"method": "steer", "steer": "appearance,weights,generator", "pool_size": "6", "pool_refresh": "4"}


def _tensors(method: Any) -> dict[str, torch.Tensor]:
    """Every tensor of the method's networks, learned variables and optimisers, by a unique name."""
    found: dict[str, torch.Tensor] = {}
    for part, value in method.saved().items():
        if isinstance(value, torch.nn.Module):
            found.update({f"{part}.{k}": v.clone() for k, v in value.state_dict().items()})
        elif isinstance(value, torch.optim.Optimizer):
            for index, state in value.state_dict()["state"].items():
                found.update({f"{part}.{index}.{k}": v.clone() for k, v in state.items() if torch.is_tensor(v)})
    return found


def test_sample_batch_draws_afresh_and_changes_no_variable(tiny):
    method = _method(tiny, **STEER)
    first = _first_segmenter_step(tiny)
    for iteration in range(first):
        method.step(iteration)
    with pytest.raises(ConfigError, match="after the first steered iteration"):
        method.sample_batch(first)
    method.step(first)
    before = _tensors(method)
    a, b = method.sample_batch(first + 1), method.sample_batch(first + 1)
    assert a.pairs.aug_masks.shape == a.pairs.images.shape[:1] + (1,) + a.pairs.images.shape[2:]
    assert a.index is not None and a.draw is not None and a.pairs.gan_images is not None
    assert a.rendered is None, "the generator is steered: its images are rendered inside the loss"
    assert not torch.equal(a.draw.noise, b.draw.noise), "each call draws anew"
    after = _tensors(method)
    assert before.keys() == after.keys() and len(before) > 50
    assert not [k for k in before if not torch.equal(before[k], after[k])]
    hyper = method.mlo.solver.hypergradients(a)
    assert set(hyper) == {"steer", "gen"}
    assert all(g is None or bool(torch.isfinite(g).all()) for grads in hyper.values() for g in grads)


def test_the_appearance_hypergradient_noise_is_measurable_at_fixed_variables(tiny):
    method = _method(tiny, method="steer", steer="appearance")
    first = _first_segmenter_step(tiny)
    for iteration in range(first + 1):
        method.step(iteration)
    params = method.mlo.problem.level("steer").params
    samples = torch.stack([torch.cat([g.flatten() for g in method.mlo.solver.hypergradients(
        method.sample_batch(first + 1))["steer"]]) for _ in range(6)])
    noise = gradient_noise(samples)
    assert noise.dim == sum(p.numel() for p in params) == len(method.appearance.transforms) == 5, "one per transform"
    assert noise.noise > 0, "fresh draws give different estimates"


@pytest.mark.parametrize("options", [{**STEER, "steer": "appearance"}, {**STEER, "steer": "appearance",
                                     "steer_objective": "crossfit", "crossfit_folds": "2"}])
def test_upper_batch_sets_the_pairs_of_the_upper_loss(tiny, options):
    sizes = {}
    for upper in (None, "3", "99"):
        method = _method(tiny, **options, batch_size="2", n_labeled="24", **({"upper_batch": upper} if upper else {}))
        first = _first_segmenter_step(tiny)
        for iteration in range(first + 1):
            method.step(iteration)
        sizes[upper] = method.sample_batch(first + 1).val_images.shape[0]
    crossfit = method.crossfit
    split = len(method.data.val) if crossfit is None else len(crossfit.folds[crossfit.held_out(1)])
    assert split > 3, "the upper split must be larger than the sizes tried"
    assert sizes == {None: 2, "3": 3, "99": split}, "none: batch_size; a number: that many, capped at the split"


def test_genseg_reads_upper_batch_too(tiny):
    method = _method(tiny, method="genseg", batch_size="2", n_labeled="24", upper_batch="3")
    seen = []
    step = method.mlo.step
    method.mlo.step = lambda batch: seen.append(batch.val_images.shape[0]) or step(batch)
    for iteration in range(_first_segmenter_step(tiny) + 1):
        method.step(iteration)
    assert seen == [3]
