import json

import pytest
import torch

import dgen.search as search
from dgen.errors import SearchSpaceError
from dgen.search import (
    OP_SPECS, AvgPool, Conv, ConvT, DilConv, Identity, MaxPool, SepConv, UpDilConv, UpSepConv, Zero, op_from_dict,
)

SPECS = [
    Conv(1, 1, 0), Conv(3, 1, 1), Conv(4, 2, 1), Conv(6, 2, 2), Conv(8, 2, 3), Conv(5, 3, 0, bias=False),
    ConvT(4, 2, 1), ConvT(6, 2, 2), ConvT(8, 2, 3), ConvT(5, 2, 1), ConvT(3, 1, 1), ConvT(2, 3, 0, bias=False),
    ConvT(3, 1, 2),
    Identity(), Zero(), Zero(stride=2), Zero(stride=3),
    SepConv(3, 1, 1), SepConv(5, 2, 2), SepConv(3, 2, 0),
    DilConv(3, 1, 2, 2), DilConv(5, 2, 4, 2), DilConv(3, 2, 0, 3),
    MaxPool(3, 1, 1), MaxPool(2, 2, 0), MaxPool(3, 2, 1), AvgPool(3, 1, 1), AvgPool(3, 2, 1), AvgPool(2, 2, 0),
    UpSepConv(3, 1), UpSepConv(5, 1), UpDilConv(3, 2, 2), UpDilConv(3, 0, 1),
]
SIZES = [(h, w) for h in range(1, 19) for w in (h, 2 * h + 3)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_out_size_and_channels_match_the_module(spec):
    in_ch, out_ch = 3, (3 if spec.keeps_channels else 5)
    module = spec.build(in_ch, out_ch)
    for h, w in SIZES:
        x = torch.randn(2, in_ch, h, w)
        try:
            expected = spec.out_size(h, w)
        except SearchSpaceError:  # the spec says too small: PyTorch must fail or give an empty output
            try:
                assert module(x).numel() == 0, (h, w)
            except RuntimeError:
                pass
            continue
        assert module(x).shape == (2, spec.out_channels(in_ch, out_ch), *expected), (h, w)


def test_pix2pix_candidates_halve_and_double():
    for n in range(2, 65, 2):
        assert {s.out_size(n, n + 2) for s in (Conv(4, 2, 1), Conv(6, 2, 2), Conv(8, 2, 3))} == {(n // 2, n // 2 + 1)}
        assert {s.out_size(n, n + 1) for s in (ConvT(4, 2, 1), ConvT(6, 2, 2), ConvT(8, 2, 3))} == {(2 * n, 2 * n + 2)}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_repr_and_json_round_trip(spec):
    namespace = {name: getattr(search, name) for name in search.__all__}
    assert eval(repr(spec), namespace) == spec
    assert op_from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert hash(op_from_dict(spec.to_dict())) == hash(spec)


def test_keys_are_short_stable_and_unique():
    assert Conv(4, 2, 1).key == "conv_k4s2p1"
    assert Conv(4, 2, 1, bias=False).key == "conv_k4s2p1_nobias"
    assert ConvT(6, 2, 2).key == "convt_k6s2p2"
    assert Zero(stride=2).key == "zero_s2"
    assert DilConv(3, 1, 2, 2).key == "dilconv_k3s1p2d2"
    assert Identity().key == "identity"
    assert len({s.key for s in SPECS}) == len(SPECS)
    assert repr(Conv(4, 2, 1)) == "Conv(4, 2, 1)" and repr(Zero()) == "Zero()"


def test_specs_are_frozen():
    with pytest.raises(AttributeError):
        Conv(4, 2, 1).k = 3


@pytest.mark.parametrize(
    "make, fix",
    [
        (lambda: Conv(0, 1, 0), "set k to 1 or more"),
        (lambda: ConvT(3, 0, 1), "set s to 1 or more"),
        (lambda: Conv(3, 1, -1), "set p to 0 or more"),
        (lambda: DilConv(3, 1, 1, 0), "set d to 1 or more"),
        (lambda: Zero(stride=0), "set stride to 1 or more"),
        (lambda: Conv(3.0, 1, 1), "expected an integer"),
        (lambda: Conv(True, 1, 1), "expected an integer"),
        (lambda: Conv(3, 1, 1, bias=1), "pass bias=True or bias=False"),
        (lambda: MaxPool(3, 1, 2), "use p <= 1"),
        (lambda: AvgPool(2, 2, 2), "use p <= 1"),
        (lambda: Identity().build(3, 4), "build it with in_ch == out_ch"),
        (lambda: MaxPool(3, 1, 1).build(3, 4), "build it with in_ch == out_ch"),
        (lambda: Conv(3, 1, 1).build(0, 4), "pass an integer >= 1"),
        (lambda: Conv(4, 2, 1).out_size(1, 5), "needs H and W >= 2"),
        (lambda: Conv(4, 2, 1).out_size(0, 5), "pass an integer >= 1"),
    ],
)
def test_invalid_arguments_name_the_fix(make, fix):
    with pytest.raises(SearchSpaceError, match=fix):
        make()


@pytest.mark.parametrize(
    "data, fix",
    [
        ({"op": "cnv", "k": 3, "s": 1, "p": 1}, "Did you mean 'conv'"),
        ({"k": 3, "s": 1, "p": 1}, "has no 'op' key"),
        ({"op": "conv", "k": 3, "s": 1}, r"missing field\(s\) \['p'\]"),
        ({"op": "conv", "k": 3, "s": 1, "p": 1, "q": 0}, r"unknown field\(s\) \['q'\]; its fields are: k, s, p, bias"),
        ({"op": "conv", "k": "3", "s": 1, "p": 1}, "expected an integer >= 1"),
        (["conv", 3, 1, 1], "write it as an object"),
        ({"op": ["conv"]}, "unknown op"),
    ],
)
def test_op_from_dict_errors(data, fix):
    with pytest.raises(SearchSpaceError, match=fix):
        op_from_dict(data)


def test_op_from_dict_fills_defaults_and_knows_every_spec():
    assert op_from_dict({"op": "conv", "k": 3, "s": 1, "p": 1}) == Conv(3, 1, 1, bias=True)
    assert op_from_dict({"op": "zero"}) == Zero(stride=1)
    assert {type(s) for s in SPECS} == set(OP_SPECS.values())


@pytest.mark.parametrize("spec", [SepConv(3, 1, 1), DilConv(3, 1, 2, 2), UpSepConv(3, 1), UpDilConv(3, 2, 2)], ids=str)
def test_relus_do_not_modify_the_shared_input(spec):
    x = -torch.rand(1, 2, 8, 8)
    before = x.clone()
    spec.build(2, 2)(x)
    torch.testing.assert_close(x, before, rtol=0, atol=0)
