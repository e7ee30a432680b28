"""The ``functional`` search space: candidates that differ as functions, so alpha chooses among models."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import UnknownNameError
from dgen.search import Genotype, MixedOp, arch_parameters, derive, fix
from dgen_genseg.gan.generator import (
    DOWN_CHOICE,
    FUNCTIONAL_DOWN_CHOICE,
    FUNCTIONAL_UP_CHOICE,
    UP_CHOICE,
    Pix2PixGenerator,
)

TINY = {"ngf": 4, "num_downs": 3, "max_mult": 2, "dropout": 0.0}


def functional(**kwargs) -> Pix2PixGenerator:
    torch.manual_seed(0)
    return Pix2PixGenerator(search_space="functional", **{**TINY, **kwargs})


def condition(batch: int = 2, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return (torch.rand(batch, 1, size, size, generator=g) > 0.5).float() * 2 - 1


def test_cells_are_the_functional_choices() -> None:
    gen = functional()
    cells = dict(gen.named_modules())
    for path, choice in (("down.1.conv", FUNCTIONAL_DOWN_CHOICE), ("up.1.conv", FUNCTIONAL_UP_CHOICE)):
        # equal up to the bias flag of the plain (transposed) conv, which the generator sets
        assert [type(spec) for spec in cells[path].specs] == [type(spec) for spec in choice.candidates]
    assert len(arch_parameters(gen)) == 6
    out = gen(condition())
    assert out.shape == (2, 3, 16, 16) and out.abs().max() <= 1


def test_derive_genotype_and_from_genotype_round_trip(tmp_path) -> None:
    gen = functional()
    with torch.no_grad():  # pick a different candidate in each cell
        for i, (_, alpha) in enumerate(
            (path, m.alpha) for path, m in gen.named_modules() if isinstance(m, MixedOp)
        ):
            alpha.copy_(torch.eye(3)[i % 3] * 5)
    genotype = derive(gen)
    assert {type(spec).__name__ for spec in genotype.values()} >= {"SepConv", "DilConv", "UpSepConv", "UpDilConv"}
    loaded = Genotype.load(genotype.save(tmp_path / "genotype.json"))
    assert loaded == genotype
    fixed = fix(gen, genotype)
    final = Pix2PixGenerator.from_genotype(loaded, search_space="functional", **TINY)
    final.load_state_dict(fixed.state_dict())
    fixed.eval(), final.eval()
    torch.testing.assert_close(final(condition()), fixed(condition()))
    assert arch_parameters(final) == []


def _nonlinearity(cell: MixedOp, x: torch.Tensor, y: torch.Tensor) -> float:
    """max |f(x + y) - f(x) - f(y) + f(0)|: zero for every affine op (any convolution with a bias)."""
    with torch.no_grad():
        return float((cell(x + y) - cell(x) - cell(y) + cell(torch.zeros_like(x))).abs().max())


@pytest.mark.parametrize("choice", [FUNCTIONAL_DOWN_CHOICE, FUNCTIONAL_UP_CHOICE], ids=["down", "up"])
def test_functional_cells_are_not_one_linear_op(choice) -> None:
    """Eval mode (fixed BatchNorm statistics, so BN is affine): the paper's cell is affine in its input,
    the functional cell is not, so no single convolution reproduces it."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(2, 4, 8, 8, generator=g).double(), torch.randn(2, 4, 8, 8, generator=g).double()
    cell = choice.build(4, 6).double().eval()
    paper = (DOWN_CHOICE if choice is FUNCTIONAL_DOWN_CHOICE else UP_CHOICE).build(4, 6).double().eval()
    assert _nonlinearity(paper, x, y) < 1e-12
    assert _nonlinearity(cell, x, y) > 1e-2
    with torch.no_grad():  # and alpha changes the function, not only a reparameterisation: one-hot picks differ
        outputs = []
        for i in range(3):
            cell.alpha.copy_(torch.full((3,), -torch.inf).index_fill(0, torch.tensor(i), 0.0))
            outputs.append(cell(x))
    assert all((outputs[i] - outputs[j]).abs().max() > 1e-2 for i in range(3) for j in range(i))


def test_unknown_search_space_names_the_choices() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'functional'.*Available: functional, paper"):
        Pix2PixGenerator(search_space="functionl", **TINY)
