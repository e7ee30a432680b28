import pytest

import dgen.search as search
from dgen.errors import SearchSpaceError
from dgen.search import Choice, Conv, ConvT, Identity, MaxPool, MixedOp, SepConv, Zero

DOWN = Choice([Conv(4, 2, 1), Conv(6, 2, 2), Conv(8, 2, 3)])


def test_build_gives_a_mixed_op_with_one_alpha_per_candidate():
    op = DOWN.build(in_ch=16, out_ch=32)
    assert isinstance(op, MixedOp)
    assert op.alpha.shape == (3,) and len(op.ops) == 3 and op.specs == DOWN.candidates


def test_choice_is_frozen_hashable_and_its_repr_round_trips():
    namespace = {name: getattr(search, name) for name in search.__all__}
    assert eval(repr(DOWN), namespace) == DOWN
    assert hash(Choice(list(DOWN.candidates))) == hash(DOWN)
    assert len(DOWN) == 3
    with pytest.raises(AttributeError):
        DOWN.candidates = ()


@pytest.mark.parametrize(
    "candidates, message",
    [
        ([], "give at least one"),
        ("conv", "not a list of op specs"),
        ([Conv(3, 1, 1), "conv3"], "candidate 1 'conv3' is a str, not an op spec"),
        ([Conv(3, 1, 1), Choice([Identity()])], "Choices do not nest"),
        ([Conv(3, 1, 1), Identity(), Conv(3, 1, 1)], "candidate 2 Conv\\(3, 1, 1\\) repeats candidate 0"),
    ],
)
def test_malformed_choices_fail_at_construction(candidates, message):
    with pytest.raises(SearchSpaceError, match=message):
        Choice(candidates)


def test_odd_candidate_is_named_with_its_shape_rule():
    with pytest.raises(SearchSpaceError) as info:
        Choice([ConvT(4, 2, 1), ConvT(6, 2, 2), ConvT(5, 2, 1)])
    message = str(info.value)
    assert message.startswith("Choice candidate 2 ConvT(5, 2, 1) gives 17x17 (2H+1 x 2W+1) for input 8x8")
    assert "candidates 0, 1 give 16x16 (2H x 2W)" in message


def test_odd_candidate_fix_is_computed_when_padding_can_fix_it():
    with pytest.raises(SearchSpaceError, match=r"candidate 1 Conv\(6, 2, 1\) .* use Conv\(6, 2, 2\) instead"):
        Choice([Conv(4, 2, 1), Conv(6, 2, 1), Conv(8, 2, 3)])
    with pytest.raises(SearchSpaceError, match=r"candidate 0 Zero\(\) .* candidates 1, 2 give"):
        Choice([Zero(), SepConv(3, 1, 0), Conv(5, 1, 0)])


def test_candidates_that_differ_only_on_odd_sizes_are_caught():
    with pytest.raises(SearchSpaceError, match=r"candidate 1 Conv\(3, 2, 1\) gives 5x5 for input 9x9"):
        Choice([Conv(4, 2, 1), Conv(3, 2, 1)])


def test_no_common_valid_size():
    with pytest.raises(SearchSpaceError, match=r"candidate 0 Conv\(80, 1, 0\) needs inputs of at least 80"):
        Choice([Conv(80, 1, 0)])


def test_channel_disagreement_fails_at_build_naming_the_candidate():
    same = Choice([Conv(3, 1, 1), Identity(), MaxPool(3, 1, 1), Zero()])
    assert isinstance(same.build(8, 8), MixedOp)
    with pytest.raises(SearchSpaceError, match=r"candidate 1 Identity\(\) keeps the channel count, so it gives 8 "):
        same.build(8, 16)
    with pytest.raises(SearchSpaceError, match="pass an integer >= 1"):
        same.build(8, 0)
