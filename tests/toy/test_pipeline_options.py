"""The toy pipeline's options are range-checked when they are read."""

from __future__ import annotations

import pytest


def test_every_numeric_option_of_the_toy_pipeline_has_a_range_rule():
    from dgen.config import build_config
    from dgen.errors import ConfigError
    from dgen.ranges import unruled_fields
    from dgen.toy.pipeline import TOY_RULES, ToyConfig

    assert unruled_fields(ToyConfig, TOY_RULES) == []
    with pytest.raises(ConfigError, match=r"^lr_arch=nan is not a finite number \(a learning rate\)"):
        build_config(ToyConfig, {"lr_arch": "nan"})
