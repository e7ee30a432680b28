from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from dgen.config import build_config, config_to_dict, load_config_file, parse_assignments
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
