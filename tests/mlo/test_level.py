"""Level validates its arguments at construction, each error naming the fix."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import ConfigError
from tests.mlo.chains import FnLevel


def _level(params=None, optimizer=None, **edges):
    p = torch.zeros(3, requires_grad=True)
    params = [p] if params is None else params
    optimizer = torch.optim.SGD(params or [p], lr=0.1) if optimizer is None else optimizer
    return FnLevel("gen", params, optimizer, lambda ctx, batch: ctx.param(p).sum(), **edges)


def test_a_valid_level_keeps_its_settings():
    level = _level(upper=("arch",), unroll_steps=2)
    assert level.upper == ("arch",) and level.lower == () and level.unroll_steps == 2 and level.direct
    assert "gen" in repr(level)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"upper": "arch"}, r"upper='arch' is a string.*write upper=\('arch',\)"),
        ({"lower": 3}, "not a sequence"),
        ({"lower": ("",)}, "non-empty level names"),
        ({"unroll_steps": 0}, "unroll_steps=0; expected an int >= 1"),
        ({"unroll_steps": True}, "unroll_steps=True"),
        ({"direct": "no"}, "direct='no'; expected True or False"),
    ],
)
def test_bad_edges_and_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        _level(**kwargs)


def test_params_must_be_distinct_trainable_leaves():
    p = torch.zeros(3, requires_grad=True)
    with pytest.raises(ConfigError, match="has no params"):
        _level(params=[], optimizer=torch.optim.SGD([p], lr=0.1))
    with pytest.raises(ConfigError, match="not a leaf tensor with requires_grad=True"):
        _level(params=[p * 2], optimizer=torch.optim.SGD([p], lr=0.1))
    with pytest.raises(ConfigError, match="listed twice"):
        _level(params=[p, p], optimizer=torch.optim.SGD([p], lr=0.1))


def test_optimizer_must_hold_exactly_the_params():
    p, q = torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(
        ConfigError, match=r"holds 1 tensor\(s\) that are not in params \(shapes \(2\)\).*exactly the level's params"
    ):
        _level(params=[p], optimizer=torch.optim.SGD([p, q], lr=0.1))
    with pytest.raises(ConfigError, match=r"misses 1 of the params"):
        _level(params=[p, q], optimizer=torch.optim.SGD([p], lr=0.1))
    with pytest.raises(ConfigError, match="expected a torch.optim.Optimizer"):
        _level(params=[p], optimizer="adam")


def test_name_must_be_plain():
    p = torch.zeros(3, requires_grad=True)
    with pytest.raises(ConfigError, match="level name 'a/b' is invalid"):
        FnLevel("a/b", [p], torch.optim.SGD([p], lr=0.1), lambda ctx, b: p.sum())
