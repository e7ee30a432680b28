"""Tests of the searchable pix2pix U-Net generator."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call

from dgen.errors import ConfigError, DataError, SearchSpaceError, UnknownNameError
from dgen.generator import Generator
from dgen.search import Choice, Conv, ConvT, Genotype, MixedOp, derive, fix
from dgen_genseg.gan import PIX2PIX_SMALL, UP_CHOICE, Pix2PixGenerator, pix2pix_small

TINY = {"ngf": 4, "num_downs": 3, "max_mult": 2, "dropout": 0.0}


def tiny(**kwargs) -> Pix2PixGenerator:
    torch.manual_seed(0)
    return Pix2PixGenerator(**{**TINY, **kwargs})


def condition(batch: int, height: int, width: int, channels: int = 1, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return (torch.rand(batch, channels, height, width, generator=g, dtype=dtype) > 0.5).to(dtype) * 2 - 1


@pytest.mark.parametrize(
    ("kwargs", "size"),
    [
        ({"num_downs": 1, "ngf": 4}, (2, 6)),
        ({"num_downs": 3, "ngf": 4, "max_mult": 2}, (24, 8)),
        ({"num_downs": 4, "ngf": 4, "norm": "instance", "out_channels": 1}, (32, 48)),
        ({**PIX2PIX_SMALL, "in_channels": 2}, (64, 64)),
    ],
)
def test_forward_shape_and_range(kwargs: dict, size: tuple[int, int]) -> None:
    gen = Pix2PixGenerator(**{"dropout": 0.0, **kwargs})
    assert isinstance(gen, Generator)
    out = gen(condition(2, *size, channels=gen.in_channels))
    assert out.shape == (2, gen.out_channels, *size)
    assert out.abs().max() <= 1.0 and torch.isfinite(out).all()


def test_small_preset_size() -> None:
    gen = pix2pix_small()
    assert (gen.ngf, gen.num_downs, gen.max_mult, gen.dropout) == (8, 6, 4, 0.0)
    assert [gen.level_channels(i) for i in range(6)] == [8, 16, 32, 32, 32, 32]
    assert 1_100_000 < sum(p.numel() for p in gen.parameters()) < 1_300_000
    assert pix2pix_small(out_channels=1).out_channels == 1


def test_plain_generator_matches_pix2pix_unet_256() -> None:
    gen = Pix2PixGenerator(in_channels=3, out_channels=3, search_down=False, search_up=False)
    assert not gen.arch_parameters()
    # pix2pix's unet_256 (3 -> 3, BatchNorm) has 54,413,955 parameters; ours adds a bias to the two down
    # convs that no norm follows (outermost: 64, innermost: 512), which pix2pix leaves without one.
    assert sum(p.numel() for p in gen.parameters()) == 54_413_955 + 64 + 512
    with_dropout = [i for i, block in enumerate(gen.up) if hasattr(block, "dropout")]
    assert with_dropout == [4, 5, 6]  # pix2pix's three 512 -> 512 decoder blocks below the innermost
    assert all(block.dropout.p == 0.5 for block in gen.up if hasattr(block, "dropout"))


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_every_parameter_gets_a_gradient(norm: str) -> None:
    gen = tiny(norm=norm, num_downs=4)
    gen(condition(2, 16, 16)).square().mean().backward()
    for name, p in gen.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{name} got no gradient"


def test_arch_and_weight_parameters_are_disjoint_and_complete() -> None:
    gen = tiny()
    arch, weights = gen.arch_parameters(), gen.weight_parameters()
    assert len(arch) == 2 * gen.num_downs and all(a.shape == (3,) for a in arch)
    ids_arch, ids_weights = {id(p) for p in arch}, {id(p) for p in weights}
    assert not ids_arch & ids_weights
    assert ids_arch | ids_weights == {id(p) for p in gen.parameters()}
    assert len(tiny(search_up=False).arch_parameters()) == gen.num_downs
    assert not tiny(search_down=False, search_up=False).arch_parameters()


def test_alpha_gradient_matches_finite_differences() -> None:
    gen = tiny(num_downs=2, ngf=2, norm="instance").double()
    names = [n for n, p in gen.named_parameters() if n.endswith("alpha")]
    x = condition(1, 8, 8, dtype=torch.float64)

    def output(*alphas: torch.Tensor) -> torch.Tensor:
        return functional_call(gen, dict(zip(names, alphas)), (x,))

    g = torch.Generator().manual_seed(2)
    alphas = tuple(torch.randn(3, dtype=torch.float64, generator=g).requires_grad_() for _ in names)
    assert torch.autograd.gradcheck(output, alphas, eps=1e-6, atol=1e-6, rtol=1e-4)


def set_one_hot(gen: Pix2PixGenerator, seed: int) -> list[int]:
    """Make every alpha one-hot (-inf elsewhere) on a random candidate; returns the picks in path order."""
    g = torch.Generator().manual_seed(seed)
    picks = []
    with torch.no_grad():
        for module in gen.modules():
            if isinstance(module, MixedOp):
                pick = int(torch.randint(len(module.ops), (1,), generator=g))
                module.alpha.fill_(float("-inf"))
                module.alpha[pick] = 0.0
                picks.append(pick)
    return picks


@pytest.mark.parametrize("sides", [{}, {"search_up": False}, {"search_down": False}])
def test_one_hot_search_equals_fixed_and_rebuilt(sides: dict) -> None:
    kwargs = {**TINY, "norm": "instance", **sides}
    gen = tiny(**kwargs).double()
    picks = set_one_hot(gen, seed=len(sides) + 3)
    genotype = derive(gen)
    mixed = [m for m in gen.modules() if isinstance(m, MixedOp)]
    assert [m.specs.index(genotype[path]) for path, m in zip(genotype, mixed)] == picks

    fixed = fix(gen, genotype)
    rebuilt = Pix2PixGenerator.from_genotype(genotype, **kwargs).double()
    assert not rebuilt.arch_parameters() and not any(isinstance(m, MixedOp) for m in rebuilt.modules())
    rebuilt.load_state_dict(fixed.state_dict())  # strict: same keys and shapes

    x = condition(2, 16, 16, dtype=torch.float64)
    expected = gen(x)
    torch.testing.assert_close(fixed(x), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(rebuilt(x), expected, rtol=1e-12, atol=1e-12)


def test_genotype_json_round_trip_rebuilds_the_same_network(tmp_path) -> None:
    gen = tiny()
    set_one_hot(gen, seed=7)
    genotype = derive(gen)
    assert Genotype.from_json(genotype.to_json()) == genotype
    loaded = Genotype.load(genotype.save(tmp_path / "genotype.json"))
    assert loaded == genotype
    assert list(loaded) == [f"down.{i}.conv" for i in range(3)] + [f"up.{i}.conv" for i in range(3)]
    rebuilt = Pix2PixGenerator.from_genotype(loaded, ngf=4, max_mult=2, dropout=0.0)  # num_downs from the genotype
    rebuilt.load_state_dict(fix(gen, genotype).state_dict())
    assert rebuilt.num_downs == 3


def test_cells_followed_by_a_norm_have_no_bias() -> None:
    gen = tiny(search_down=False, search_up=False, num_downs=4)
    for side in (gen.down, gen.up):
        for block in side:
            assert (block.conv.bias is None) == hasattr(block, "norm")
    genotype = derive(tiny(num_downs=4))
    assert genotype["down.1.conv"] == Conv(4, 2, 1, bias=False)
    assert genotype["up.0.conv"] == ConvT(4, 2, 1)


def test_explicit_cells_with_one_searchable_level() -> None:
    down = [Conv(4, 2, 1), Choice([Conv(4, 2, 1), Conv(2, 2, 0)]), Conv(6, 2, 2)]
    kwargs = {**TINY, "norm": "instance", "down": down, "search_up": False}
    gen = tiny(**kwargs).double()
    assert len(gen.arch_parameters()) == 1
    set_one_hot(gen, seed=1)
    genotype = derive(gen)
    assert list(genotype) == ["down.1.conv"]
    rebuilt = Pix2PixGenerator.from_genotype(genotype, **kwargs).double()
    assert rebuilt.down_cells[0] == Conv(4, 2, 1) and rebuilt.down_cells[2] == Conv(6, 2, 2)
    rebuilt.load_state_dict(fix(gen, genotype).state_dict())
    x = condition(1, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(rebuilt(x), gen(x), rtol=1e-12, atol=1e-12)


def test_check_input_size_names_valid_sizes() -> None:
    gen = pix2pix_small()
    gen.check_input_size(128, 64)
    with pytest.raises(ConfigError, match=r"divisible by 2\*\*6 = 64, got 100x60; resize or pad to 128x64"):
        gen(condition(1, 100, 60))
    with pytest.raises(ConfigError, match="valid H: 64 or 128"):
        gen.check_input_size(100, 64)
    with pytest.raises(ConfigError, match="resize or pad to 64x64"):
        gen.check_input_size(32, 32)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"norm": "batchnorm"}, UnknownNameError, "Did you mean 'batch'"),
        ({"num_downs": 0}, ConfigError, "num_downs=0"),
        ({"ngf": 2.5}, ConfigError, "ngf=2.5"),
        ({"dropout": 1.0}, ConfigError, "dropout=1.0"),
        ({"down": [Conv(4, 2, 1)] * 2}, ConfigError, "one cell per level (3"),
        ({"down": [Conv(4, 2, 1), Conv(3, 1, 1), Conv(4, 2, 1)]}, SearchSpaceError, "must halve H and W"),
        ({"up": [Conv(4, 2, 1)] * 3}, SearchSpaceError, "must double H and W"),
        ({"up": ["convt"] * 3}, SearchSpaceError, "expected an op spec or a Choice"),
    ],
)
def test_invalid_settings(kwargs: dict, error: type, fragment: str) -> None:
    with pytest.raises(error) as info:
        Pix2PixGenerator(**{**TINY, **kwargs})
    assert fragment in str(info.value)


def test_wrong_condition_channels() -> None:
    with pytest.raises(DataError, match=r"expected \(B, 1, H, W\)"):
        tiny()(condition(1, 8, 8, channels=3))


def test_from_genotype_rejects_foreign_and_incomplete_genotypes() -> None:
    with pytest.raises(SearchSpaceError, match="not a cell of Pix2PixGenerator"):
        Pix2PixGenerator.from_genotype(Genotype({"encoder.0.op": Conv(4, 2, 1)}))
    with pytest.raises(SearchSpaceError, match="Genotype"):
        Pix2PixGenerator.from_genotype({"down.0.conv": Conv(4, 2, 1)})  # type: ignore[arg-type]
    genotype = derive(tiny())
    partial = Genotype({path: spec for path, spec in genotype.items() if path != "up.1.conv"})
    with pytest.raises(SearchSpaceError, match=r"no op for the searchable cell up\.1\.conv"):
        Pix2PixGenerator.from_genotype(partial, **TINY, up=[UP_CHOICE] * 3)
    with pytest.raises(SearchSpaceError, match="pass the num_downs the search used"):
        Pix2PixGenerator.from_genotype(genotype, **{**TINY, "num_downs": 2})


def test_dropout_is_off_in_eval_mode() -> None:
    gen = tiny(ngf=2, num_downs=4, max_mult=1, dropout=0.5)
    assert sum(isinstance(m, nn.Dropout) for m in gen.modules()) == 2
    x = condition(2, 16, 16)
    gen.eval()
    torch.testing.assert_close(gen(x), gen(x), rtol=0, atol=0)


def test_torch_func_grad_matches_autograd() -> None:
    gen = tiny(norm="instance")
    x = condition(2, 16, 16)
    params = {name: p.detach() for name, p in gen.named_parameters()}

    def loss(p: dict) -> torch.Tensor:
        return functional_call(gen, p, (x,)).square().mean()

    functional = torch.func.grad(loss)(params)
    names, tensors = zip(*gen.named_parameters())
    eager = torch.autograd.grad(gen(x).square().mean(), tensors)
    for name, expected in zip(names, eager):
        torch.testing.assert_close(functional[name], expected, rtol=1e-5, atol=1e-7)
