from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from dgen.config import build_config, coerce, config_to_dict, load_config_file, parse_assignments
from dgen.errors import ConfigError, UnknownNameError


@dataclass
class Cfg:
    iterations: int = 10
    lr: float = 1e-3
    solver: Literal["unroll", "darts"] = "unroll"
    reuse: bool = True
    data_root: Optional[Path] = None
    sizes: tuple[int, ...] = (64,)
    name: str = "x"
    options: dict[str, Any] = field(default_factory=dict)


def test_strings_are_coerced_to_field_types():
    cfg = build_config(
        Cfg,
        parse_assignments(["iterations=200", "lr=1e-5", "solver=darts", "reuse=false", "data_root=/d", "sizes=64,128"]),
    )
    assert cfg == Cfg(200, 1e-5, "darts", False, Path("/d"), (64, 128))


def test_json_values_are_checked_too():
    assert build_config(Cfg, {"iterations": 5, "lr": 1, "data_root": None}).lr == 1.0
    with pytest.raises(ConfigError, match="iterations"):
        build_config(Cfg, {"iterations": 2.5})


@pytest.mark.parametrize(
    "item, match",
    [
        ("iterations=ten", "not a valid int"),
        ("lr=fast", "not a valid float"),
        ("reuse=maybe", "not a valid bool"),
    ],
)
def test_bad_values_name_option_and_type(item, match):
    with pytest.raises(ConfigError, match=match):
        build_config(Cfg, parse_assignments([item]))


def test_unknown_key_suggests_closest_field():
    with pytest.raises(UnknownNameError, match="Did you mean 'iterations'"):
        build_config(Cfg, {"iteratons": "3"})


def test_literal_choices_are_listed():
    with pytest.raises(UnknownNameError, match="Did you mean 'darts'.*Available: darts, unroll"):
        build_config(Cfg, {"solver": "dart"})


def test_assignment_without_equals_sign():
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["iterations"])


def test_config_file_json_and_errors(tmp_path):
    good = tmp_path / "c.json"
    good.write_text(json.dumps({"iterations": 3}))
    assert load_config_file(good) == {"iterations": 3}
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ConfigError, match="cannot be parsed"):
        load_config_file(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config_file(tmp_path / "missing.json")


def test_config_to_dict_is_json_ready():
    d = config_to_dict(Cfg(data_root=Path("/x")))
    assert json.loads(json.dumps(d))["data_root"] == "/x"
    assert d["sizes"] == [64]


def test_dict_options_parse_from_json():
    cfg = build_config(Cfg, parse_assignments(['options={"encoder": "resnet18", "depth": 4}']))
    assert cfg.options == {"encoder": "resnet18", "depth": 4}
    with pytest.raises(ConfigError, match="not a JSON object"):
        build_config(Cfg, parse_assignments(["options=resnet18"]))


@dataclass
class Required:
    data_dir: Path
    n: int = 1


def test_missing_required_option_names_it():
    with pytest.raises(ConfigError, match="data_dir"):
        build_config(Required, {"n": "2"})


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_a_yaml_config_is_named_as_yaml_not_as_a_json_syntax_error(tmp_path, suffix):
    path = tmp_path / f"options{suffix}"
    path.write_text("iterations: 3\n")
    with pytest.raises(ConfigError, match=r"is YAML, which --config does not read; write the same options as JSON"):
        load_config_file(path)


def test_an_optional_value_of_the_wrong_type_names_the_type_not_optional():
    from typing import Optional

    with pytest.raises(ConfigError, match=r"^option iterations='ten' is not a valid int; give e.g. --set iterations=3\.$"):
        coerce("iterations", "ten", Optional[int])
    with pytest.raises(ConfigError, match=r"is not a valid float; give e.g. --set lr=0.5\.$"):
        coerce("lr", "fast", Optional[float])


def test_an_optional_literal_lists_its_choices_and_the_closest():
    assert coerce("mode", "none", Optional[Literal["train", "eval"]]) is None
    with pytest.raises(UnknownNameError, match="Did you mean 'eval'.*Available: eval, train"):
        coerce("mode", "evl", Optional[Literal["train", "eval"]])


def test_range_rules_refuse_out_of_range_and_non_finite_values():
    from dataclasses import dataclass

    from dgen.ranges import Range, check_ranges

    @dataclass
    class Options:
        lr: float = 1e-3
        steps: int = 3
        seed: int = 0

    rules = {"lr": Range(low=0, low_open=True, example="0.001", meaning="a learning rate"),
             "steps": Range(low=1, example="10"), "seed": Range(low=0, high=9, example="0")}
    check_ranges(Options(), rules)
    for options, message in [
        (Options(lr=0.0), "lr=0.0 must be > 0 (a learning rate); give e.g. --set lr=0.001."),
        (Options(lr=float("nan")), "lr=nan is not a finite number (a learning rate); give e.g. --set lr=0.001."),
        (Options(lr=float("-inf")), "lr=-inf is not a finite number (a learning rate); give e.g. --set lr=0.001."),
        (Options(steps=0), "steps=0 must be >= 1; give e.g. --set steps=10."),
        (Options(seed=10), "seed=10 must be in [0, 9]; give e.g. --set seed=0."),
    ]:
        with pytest.raises(ConfigError) as caught:
            check_ranges(options, rules)
        assert str(caught.value) == message
