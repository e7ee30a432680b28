import math

import pytest
import torch
from torch import nn

from dgen.errors import NumericalError, SearchSpaceError
from dgen.search import Conv, ConvT, Genotype, MixedOp, arch_parameters, derive, fix, mixed_ops

from .tiny_model import DOWN, TinyNet, searchable


def one_hot(model, picks):
    with torch.no_grad():
        for p, hot in zip(arch_parameters(model), picks):
            p.fill_(-math.inf)
            p[hot] = 0.0


def test_derive_picks_the_argmax_per_path():
    torch.manual_seed(0)
    model = searchable()
    with torch.no_grad():
        for p in arch_parameters(model):
            p.copy_(torch.randn(3))
    genotype = derive(model)
    assert list(genotype) == [path for path, _ in mixed_ops(model)]
    for path, mixed in mixed_ops(model):
        assert genotype[path] == mixed.specs[int(mixed.alpha.argmax())]


def test_derive_errors():
    with pytest.raises(SearchSpaceError, match="has no MixedOp"):
        derive(nn.Conv2d(1, 1, 3))
    model = searchable(1)
    with torch.no_grad():
        arch_parameters(model)[0][1] = math.nan
    with pytest.raises(NumericalError, match="alpha of MixedOp 'down.0.conv' contains NaN"):
        derive(model)


def test_fix_with_one_hot_alpha_gives_the_same_outputs_without_any_alpha():
    torch.manual_seed(0)
    model = searchable().double().eval()
    one_hot(model, [2, 0, 1, 2])
    fixed = fix(model, derive(model))
    assert not any(isinstance(m, MixedOp) for m in fixed.modules())
    assert arch_parameters(fixed) == [] and not any("alpha" in name for name, _ in fixed.named_parameters())
    assert isinstance(fixed.down[0].conv, nn.Conv2d) and fixed.down[0].conv.kernel_size == (8, 8)
    x = torch.randn(2, 1, 16, 12, dtype=torch.float64)
    torch.testing.assert_close(fixed(x), model(x), rtol=0, atol=0)
    torch.testing.assert_close(fixed.up[1].conv.weight, model.up[1].conv.ops[2].weight, rtol=0, atol=0)
    assert fixed.up[1].conv.weight is not model.up[1].conv.ops[2].weight
    assert isinstance(model.down[0].conv, MixedOp)  # the searched model is left untouched


def test_fix_keeps_shared_mixed_ops_shared_and_handles_a_root_mixed_op():
    shared = DOWN.build(3, 3)
    fixed = fix(nn.Sequential(shared, shared), Genotype({"0": Conv(6, 2, 2)}))
    assert fixed[0] is fixed[1] and isinstance(fixed[0], nn.Conv2d)
    plain = fix(shared, derive(shared))
    assert isinstance(plain, nn.Conv2d) and plain.kernel_size == (4, 4)


def test_constructor_rebuild_matches_fix_names_and_shapes():
    model = searchable()
    genotype = derive(model)
    rebuilt, fixed = TinyNet.from_genotype(genotype), fix(model, genotype)
    assert [(n, p.shape) for n, p in rebuilt.named_parameters()] == [(n, p.shape) for n, p in fixed.named_parameters()]
    assert [(n, b.shape) for n, b in rebuilt.named_buffers()] == [(n, b.shape) for n, b in fixed.named_buffers()]
    rebuilt.load_state_dict(fixed.state_dict())  # strict: same keys


@pytest.mark.parametrize(
    "genotype, message",
    [
        ({"down.0.conv": Conv(4, 2, 1)}, "fix needs a Genotype, got dict"),
        (Genotype({"down.0.conv": Conv(4, 2, 1)}), "genotype has no op for MixedOp 'up.0.conv'"),
        (
            Genotype({"down.0.conv": Conv(4, 2, 1), "up.0.conv": ConvT(4, 2, 1), "up.0.cnv": ConvT(4, 2, 1)}),
            "genotype path 'up.0.cnv' is not a MixedOp of TinyNet. Did you mean 'up.0.conv'",
        ),
        (
            Genotype({"down.0.conv": Conv(3, 2, 1), "up.0.conv": ConvT(4, 2, 1)}),
            r"genotype picks Conv\(3, 2, 1\) at 'down.0.conv', which is not a candidate there",
        ),
    ],
)
def test_fix_errors_name_the_path(genotype, message):
    with pytest.raises(SearchSpaceError, match=message):
        fix(searchable(1), genotype)
