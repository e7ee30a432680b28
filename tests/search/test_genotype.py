import copy
import json
import pickle

import pytest

import dgen.search as search
from dgen.errors import SearchSpaceError
from dgen.search import Conv, ConvT, Genotype, Zero

G = Genotype({"down.0.conv": Conv(4, 2, 1), "down.1.conv": Conv(8, 2, 3), "up.0.conv": ConvT(6, 2, 2, bias=False)})


def test_json_round_trip_keeps_order():
    back = Genotype.from_json(G.to_json())
    assert back == G and list(back) == list(G)
    assert json.loads(G.to_json())["ops"]["up.0.conv"] == {"op": "convt", "k": 6, "s": 2, "p": 2, "bias": False}


def test_repr_round_trips():
    namespace = {name: getattr(search, name) for name in search.__all__}
    assert eval(repr(G), namespace) == G


def test_equality_hash_immutability_and_copying():
    reordered = Genotype(reversed(list(G.items())))
    assert reordered == G and hash(reordered) == hash(G)
    assert G != Genotype({"down.0.conv": Conv(6, 2, 2)})
    with pytest.raises(AttributeError):
        G.extra = 1
    with pytest.raises(TypeError):
        G["down.0.conv"] = Zero()  # type: ignore[index]
    assert pickle.loads(pickle.dumps(G)) == G and copy.deepcopy(G) == G


def test_save_and_load(tmp_path):
    path = G.save(tmp_path / "run" / "genotype.json")
    assert Genotype.load(path) == G


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", r"not valid JSON \(.* at line 1, column 2\)"),
        ("[]", "not a genotype"),
        ('{"format": "dgen-genotype", "version": 7, "ops": {}}', "version 7 is not supported"),
        ('{"format": "dgen-genotype", "version": 1, "ops": []}', "'ops' is \\[\\], expected an object"),
        (
            '{"format": "dgen-genotype", "version": 1, "ops": {"down.0.conv": {"op": "cnov", "k": 4, "s": 2, "p": 1}}}',
            "op at path 'down.0.conv': unknown op 'cnov'. Did you mean 'conv'",
        ),
        (
            '{"format": "dgen-genotype", "version": 1, "ops": {"up.0.conv": {"op": "convt", "k": 4, "s": 2}}}',
            r"op at path 'up.0.conv': op 'convt' has missing field\(s\) \['p'\]",
        ),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SearchSpaceError, match=message) as info:
        Genotype.load(path)
    assert str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SearchSpaceError, match="does not exist; pass the .json file written by Genotype.save"):
        Genotype.load(tmp_path / "nope.json")
    with pytest.raises(SearchSpaceError, match="is a directory"):
        Genotype.load(tmp_path)


@pytest.mark.parametrize(
    "ops, message",
    [
        ({"a": "conv"}, "expected one op spec such as Conv"),
        ({1: Conv(3, 1, 1)}, "use the module path string"),
        ([("a", Conv(3, 1, 1)), ("a", Zero())], "appears twice"),
    ],
)
def test_malformed_genotypes(ops, message):
    with pytest.raises(SearchSpaceError, match=message):
        Genotype(ops)


def test_spec_at_and_sequence():
    assert G.spec_at("down.1.conv") == Conv(8, 2, 3)
    with pytest.raises(SearchSpaceError, match="no op at path 'down.1.cnv'. Did you mean 'down.1.conv'"):
        G.spec_at("down.1.cnv")
    assert G.sequence("down.{}.conv") == [Conv(4, 2, 1), Conv(8, 2, 3)]
    assert G.sequence("up.{}.conv") == [ConvT(6, 2, 2, bias=False)]
    with pytest.raises(SearchSpaceError, match="Did you mean 'up.0.conv'"):
        G.sequence("up.{}.cnv")
    gap = Genotype({"down.0.conv": Conv(4, 2, 1), "down.2.conv": Conv(4, 2, 1)})
    with pytest.raises(SearchSpaceError, match="has 'down.2.conv' but not 'down.1.conv'"):
        gap.sequence("down.{}.conv")
    with pytest.raises(SearchSpaceError, match="has no '{}'"):
        G.sequence("down.0.conv")
