"""A checkpoint's optimiser state must fit the run's parameters before it is loaded (finding: Adam moments of
the wrong shape loaded fine and crashed at the first step with a raw traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from dgen.errors import ResumeError
from dgen_genseg.pipeline.state_checks import check_checkpoint

PATH = Path("run/checkpoint.safetensors")


def _stepped(optimizer_class: type[torch.optim.Optimizer], **options) -> tuple[nn.Module, torch.optim.Optimizer]:
    """A (3 -> 2) linear layer and its optimiser after one step (so it holds per-parameter state)."""
    torch.manual_seed(0)
    layer = nn.Linear(3, 2)
    optimizer = optimizer_class(layer.parameters(), lr=0.1, **options)
    layer(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    return layer, optimizer


def _checkpoint(layer: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    return {"trainer": {"net": layer.state_dict(), "opt": optimizer.state_dict()}, "scheduler": None, "rng": {},
            "iteration": 1, "wall_seconds": 0.5, "skipped_steps": 0,
            "best": {"score": -1.0, "iteration": -1, "val": {}, "segmenter": None}}


def _check(state: dict, layer: nn.Module, optimizer_class: type[torch.optim.Optimizer], **options) -> None:
    fresh = optimizer_class(layer.parameters(), lr=0.1, **options)
    expected = {"net": layer.state_dict(), "opt": fresh.state_dict()}
    check_checkpoint(state, PATH, expected=expected, total=4, optimizers={"opt": fresh})


@pytest.mark.parametrize(("optimizer_class", "options", "moment"), [
    (torch.optim.Adam, {}, "exp_avg"), (torch.optim.Adam, {}, "exp_avg_sq"),
    (torch.optim.Adam, {"amsgrad": True}, "max_exp_avg_sq"), (torch.optim.SGD, {"momentum": 0.9}, "momentum_buffer"),
])
def test_a_moment_of_another_shape_than_its_parameter_is_refused_naming_file_optimizer_tensor_and_fix(
    optimizer_class, options, moment
):
    layer, optimizer = _stepped(optimizer_class, **options)
    state = _checkpoint(layer, optimizer)
    _check(state, layer, optimizer_class, **options)  # as saved: accepted
    state["trainer"]["opt"]["state"][0][moment] = torch.zeros(1, 3)
    with pytest.raises(ResumeError) as caught:
        _check(state, layer, optimizer_class, **options)
    assert str(caught.value) == (
        f"checkpoint {PATH} cannot continue this run: optimizer opt ({optimizer_class.__name__}): "
        f"trainer/opt/state/0/{moment} is float32 (1, 3) where its parameter is float32 (2, 3); "
        "delete it to restart the run from its first iteration."
    )


def test_saved_parameter_groups_of_another_size_are_refused():
    layer, optimizer = _stepped(torch.optim.Adam)
    state = _checkpoint(layer, optimizer)
    state["trainer"]["opt"]["param_groups"][0]["params"].append(2)
    with pytest.raises(ResumeError, match=r"optimizer opt \(Adam\): its saved parameter groups hold \[3\] parameters "
                                          r"where this run's hold \[2\]; delete it"):
        _check(state, layer, torch.optim.Adam)


def test_state_of_a_parameter_the_groups_do_not_name_is_refused():
    layer, optimizer = _stepped(torch.optim.Adam)
    state = _checkpoint(layer, optimizer)
    state["trainer"]["opt"]["state"][7] = state["trainer"]["opt"]["state"][0]
    with pytest.raises(ResumeError, match=r"trainer/opt/state/7 belongs to no parameter of its parameter groups"):
        _check(state, layer, torch.optim.Adam)


def test_a_saved_optimizer_without_its_groups_is_refused():
    layer, optimizer = _stepped(torch.optim.Adam)
    state = _checkpoint(layer, optimizer)
    del state["trainer"]["opt"]["param_groups"]
    with pytest.raises(ResumeError, match=r"trainer/opt is not an optimiser state"):
        _check(state, layer, torch.optim.Adam)
