"""The nearest-valid-size helper behind every check_input_size message."""

from __future__ import annotations

import pytest

from dgen.errors import ConfigError
from dgen_genseg.segmenters.sizes import check_fixed_size, check_multiple, nearest_multiples


@pytest.mark.parametrize(
    ("size", "multiple", "minimum", "expected"),
    [
        (250, 32, 1, [224, 256]),
        (256, 32, 1, [256]),
        (10, 32, 1, [32]),  # nothing valid below
        (64, 16, 128, [128]),  # valid multiple but below the minimum
        (200, 16, 128, [192, 208]),
        (130, 16, 128, [128, 144]),
    ],
)
def test_nearest_multiples(size: int, multiple: int, minimum: int, expected: list[int]) -> None:
    assert nearest_multiples(size, multiple, minimum) == expected


def test_check_multiple_messages() -> None:
    check_multiple(64, 96, multiple=32, why="x")
    with pytest.raises(ConfigError, match=r"^input 0x64 has a non-positive side; use a height of 32 and a width of 64\.$"):
        check_multiple(0, 64, multiple=32, why="x")
    with pytest.raises(ConfigError, match=r"^input 64x64 is smaller than the minimum 128 \(why\); use 128 or larger\.$"):
        check_multiple(64, 64, multiple=16, why="x", minimum=128, min_why="why")


def test_check_fixed_size() -> None:
    check_fixed_size(64, 64, built_for=(64, 64), what="net")
    with pytest.raises(ConfigError, match=r"net was built for 64x64 inputs but got 64x96; rebuild it with img_size=\(64, 96\)"):
        check_fixed_size(64, 96, built_for=(64, 64), what="net")
