"""Pipeline options described from their config dataclass: docstring meanings, types, preset values, help."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal, Optional

import pytest
from typer.testing import CliRunner

from dgen.cli import app
from dgen.options import describe_options, field_help, markdown_table, type_label, undocumented
from dgen.plugins import get_plugins
from dgen.run_help import pipeline_name
from dgen.toy.pipeline import ToyConfig

runner = CliRunner()
WIDE = {"COLUMNS": "400"}  # one table row per line


@dataclasses.dataclass
class Example:
    """Options of an example.

    Attributes:
        lr: learning rate,
            over two lines.
        width, depth: sizes of the net.
        mode (str): how to run.
        extra: appears in the docstring only.

    Returns:
        not a field: nothing here is read.
    """

    lr: Optional[float] = None
    width: int = 8
    depth: int = 2
    mode: Literal["fast", "slow"] = "fast"
    paths: tuple[Path, ...] = ()
    required: str = dataclasses.field(default="x")


def test_field_help_reads_continuations_shared_entries_and_stops_at_the_next_section():
    assert field_help(Example) == {
        "lr": "learning rate, over two lines.", "width": "sizes of the net.", "depth": "sizes of the net.",
        "mode": "how to run.", "extra": "appears in the docstring only.",
    }


def test_undocumented_names_the_fields_without_a_meaning():
    assert undocumented(Example) == ["paths", "required"]


@pytest.mark.parametrize(("tp", "label"), [
    (Optional[int], "int"), (Literal["a", "b"], "a|b"), (Optional[Literal["x", "y"]], "x|y"),
    (tuple[Path, ...], "path,..."), (dict, "JSON object"), (dict[str, int], "JSON object"), (bool, "bool"),
])
def test_type_labels(tp, label):
    assert type_label(tp) == label


def test_a_preset_fills_only_the_options_left_at_none():
    presets = {"big": {"lr": 0.1, "width": 64}, "small": {"lr": 1e-3}}
    lr, width, *_ = describe_options(Example, presets)
    assert (lr.default, lr.presets) == ("none", {"big": "0.1", "small": "0.001"})
    assert (width.default, width.presets) == ("8", {"big": "8", "small": "8"})  # width has a default: kept


def test_a_field_without_default_is_required():
    @dataclasses.dataclass
    class Needs:
        """A required option.

        Attributes:
            name: a name.
        """

        name: str

    (option,) = describe_options(Needs)
    assert (option.name, option.type, option.default, option.help) == ("name", "str", "required", "a name.")


def test_markdown_table_escapes_pipes_and_has_a_column_per_preset():
    table = markdown_table(describe_options(Example, {"big": {"lr": 0.1}, "small": {}}))
    lines = table.splitlines()
    assert lines[0] == "| option | type | big | small | meaning |"
    assert "| `mode` | fast\\|slow | fast | fast | how to run. |" in lines
    assert "| `lr` | float | 0.1 | none | learning rate, over two lines. |" in lines


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in get_plugins().registry("pipelines").entries()])
def test_every_pipeline_documents_every_option_and_presets_name_only_options(entry):
    pipeline = get_plugins().registry("pipelines").create(entry.name)
    assert undocumented(pipeline.config_class) == [], f"add these to {pipeline.config_class.__name__}'s Attributes:"
    fields = {f.name for f in dataclasses.fields(pipeline.config_class)}
    assert not set(field_help(pipeline.config_class)) - fields, "the docstring documents options that do not exist"
    for preset, values in pipeline.presets.items():
        assert set(values) <= fields, f"preset {preset} sets unknown options {set(values) - fields}"


def test_run_toy_help_lists_every_option_with_type_default_and_meaning(help_row):
    result = runner.invoke(app, ["run", "toy", "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "--no-progress" in result.output  # the command's own help comes first
    for option in describe_options(ToyConfig):
        assert option.help
        assert help_row(result.output, option.name) == [
            f"--{option.name.replace('_', '-')}", option.type.replace("|", " | "), option.default, option.help]
    assert help_row(result.output, "solver")[1] == "unroll | darts | first_order"
    assert help_row(result.output, "iterations")[2] == "300"


def test_run_help_finds_the_pipeline_after_options():
    result = runner.invoke(app, ["run", "--device", "cpu", "--no-progress", "toy", "--help"], env=WIDE)
    assert result.exit_code == 0 and "toy options" in result.output
    assert pipeline_name(["--set", "a=1", "--n-labeled", "4", "--no-progress", "genseg"], {"--no-progress"}) == "genseg"
    assert pipeline_name(["--task=isic", "--flag", "--help"], {"--help"}) is None


def test_run_help_without_a_pipeline_says_how_to_list_options():
    result = runner.invoke(app, ["run", "--help"], env=WIDE)
    assert result.exit_code == 0 and "dgen run toy --help" in result.output


def test_run_help_of_an_unknown_pipeline_is_one_line_with_the_closest_name():
    result = runner.invoke(app, ["run", "ty", "--help"], env=WIDE)
    assert result.exit_code == 1
    assert "'toy'" in result.output and "Traceback" not in result.output
