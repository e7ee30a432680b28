import math

import pytest
import torch
from torch import nn

from dgen.errors import SearchSpaceError
from dgen.search import Conv, MixedOp, arch_entropy, arch_parameters, build_op, mixed_ops, weight_parameters

from .tiny_model import DOWN, searchable


def test_arch_and_weight_parameters_are_disjoint_and_complete():
    model = searchable()
    arch, weights = arch_parameters(model), weight_parameters(model)
    assert len(arch) == 4 and all(p.shape == (3,) for p in arch)
    ids = [id(p) for p in arch + weights]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in model.parameters()}
    assert {id(p) for p in arch} == {id(p) for name, p in model.named_parameters() if name.endswith("alpha")}


def test_shared_mixed_ops_and_tied_alphas_are_listed_once():
    shared = DOWN.build(3, 3)
    other = DOWN.build(3, 3)
    other.alpha = shared.alpha
    model = nn.Sequential(shared, shared, other)
    assert [path for path, _ in mixed_ops(model)] == ["0", "2"]
    assert len(arch_parameters(model)) == 1
    assert len(arch_parameters(model)) + len(weight_parameters(model)) == len(list(model.parameters()))


def test_arch_entropy_is_log_n_when_uniform_and_zero_when_one_hot():
    model = searchable()
    entropy = arch_entropy(model)
    assert list(entropy) == ["down.0.conv", "down.1.conv", "up.0.conv", "up.1.conv"]
    assert all(abs(h - math.log(3)) < 1e-6 for h in entropy.values())
    with torch.no_grad():
        for p in arch_parameters(model):
            p.copy_(torch.tensor([0.0, -math.inf, -math.inf]))
    assert arch_entropy(model) == dict.fromkeys(entropy, 0.0)


def test_build_op_builds_mixed_or_plain_ops():
    assert isinstance(build_op(DOWN, 3, 4), MixedOp)
    plain = build_op(Conv(4, 2, 1), 3, 4)
    assert isinstance(plain, nn.Conv2d) and plain.weight.shape == (4, 3, 4, 4)
    with pytest.raises(SearchSpaceError, match="expected an op spec such as Conv"):
        build_op("conv_k4s2p1", 3, 4)
