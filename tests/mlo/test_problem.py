"""Problem validates the level graph at construction; each GraphError names the level(s) and the fix."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import GraphError, UnknownNameError
from dgen.mlo import Problem
from tests.mlo.chains import Chain, FnLevel


def lvl(name, *, params=None, **edges):
    params = params or [torch.zeros(2, requires_grad=True)]
    return FnLevel(
        name, params, torch.optim.SGD(params, lr=0.1), lambda ctx, batch: ctx.param(params[0]).sum(), **edges
    )


def test_genseg_shape_order_and_unrolled_levels():
    problem = Problem(
        [
            lvl("seg", upper=("gen",)),
            lvl("arch", lower=("seg",), direct=False),
            lvl("gen", upper=("arch",)),
            lvl("disc", upper=("gen",)),
        ]
    )
    assert problem.order.index("arch") < problem.order.index("gen") < problem.order.index("seg")
    assert problem.hypergradient_levels == ("arch",)
    assert set(problem.ordinary_levels) == {"gen", "seg", "disc"}
    assert problem.unrolled("arch") == ("gen", "seg")  # disc is not on a path from arch to seg
    assert problem.dependents("arch") == {"gen", "seg", "disc"}
    assert [level.name for level in problem] == list(problem.order) and len(problem) == 4
    with pytest.raises(GraphError, match="level 'gen' has no lower levels.*hypergradient levels: arch"):
        problem.unrolled("gen")
    with pytest.raises(UnknownNameError, match="Did you mean 'seg'"):
        problem.level("sge")


def test_a_single_level_problem_is_allowed():
    assert Problem([lvl("only")]).ordinary_levels == ("only",)


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (lambda: [], "needs at least one Level"),
        (lambda: [lvl("a"), lvl("a")], "two levels are named 'a'.*rename one"),
        (
            lambda: [lvl("a", lower=("b",)), lvl("b", upper=("aa",))],
            r"level 'b' lists upper 'aa'.*Did you mean 'a'\?.*fix the name",
        ),
        (lambda: [lvl("a", upper=("a",))], "level 'a' lists itself in upper"),
        (lambda: [lvl("a"), lvl("b", upper=("a", "a"))], "lists 'a' twice in upper"),
        (lambda: [lvl("a", upper=("b",), lower=("b",)), lvl("b")], "both in upper and in lower"),
        (
            lambda: [lvl("a", upper=("c",)), lvl("b", upper=("a",)), lvl("c", upper=("b",))],
            r"cycle: (a -> c -> b -> a|c -> b -> a -> c|b -> a -> c -> b).*remove one",
        ),
        (lambda: [lvl("a"), lvl("b", upper=("a",)), lvl("z")], "level 'z' is not connected"),
        (
            lambda: [lvl("a", lower=("c",)), lvl("b", upper=("a",)), lvl("c")],
            "level 'a' lists lower 'c', but 'c' does not depend on 'a'.*add 'a' to the upper of 'c'",
        ),
        (lambda: [lvl("a", direct=False), lvl("b", upper=("a",))], "direct=False but no lower levels"),
        (
            lambda: [lvl("a", lower=("c",)), lvl("b", upper=("a",), lower=("c",)), lvl("c", upper=("b",))],
            "level 'b' has lower levels and also lies between 'a'.*nested hypergradients are not supported",
        ),
        (lambda: [lvl("a"), "b"], "level #1 is a str"),
    ],
)
def test_malformed_graphs(levels, message):
    with pytest.raises(GraphError, match=message):
        Problem(levels())


def test_shared_parameters_are_refused():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(GraphError, match=r"levels 'a' and 'b' share a parameter of shape \(2\).*split the params"):
        Problem([lvl("a", params=[p]), lvl("b", params=[p], upper=("a",))])


def test_chain_fixture_is_a_valid_three_level_problem():
    problem = Chain().problem
    assert problem.order == ("arch", "gen", "seg") and problem.unrolled("arch") == ("gen", "seg")
