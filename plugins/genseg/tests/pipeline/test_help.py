"""`dgen run genseg --help` lists every option of GenSegConfig, and docs/genseg.md's table is the same."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from typer.testing import CliRunner

from dgen.cli import app
from dgen.options import describe_options, markdown_table, undocumented
from dgen_genseg.pipeline.config import PRESETS, GenSegConfig

DOCS = Path(__file__).resolve().parents[4] / "docs" / "genseg.md"


def test_every_genseg_option_is_documented_in_its_docstring():
    assert undocumented(GenSegConfig) == [], "give each new option a line in GenSegConfig's Attributes:"


def test_help_lists_every_option_with_its_type_values_per_preset_and_meaning(help_row):
    result = CliRunner().invoke(app, ["run", "genseg", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    names = [f.name for f in dataclasses.fields(GenSegConfig)]
    options = describe_options(GenSegConfig, PRESETS)
    assert [o.name for o in options] == names
    for o in options:
        assert help_row(result.output, o.name) == [
            f"--{o.name.replace('_', '-')}", o.type.replace("|", " | "), o.presets["paper"], o.presets["cpu"], o.help]
    # values typed here, so that a broken lookup of the presets cannot pass unnoticed
    assert help_row(result.output, "image_size")[1:4] == ["int", "256", "64"]
    assert help_row(result.output, "seg_optimizer")[1:4] == ["adam | adamw | rmsprop | sgd", "rmsprop", "adam"]
    assert help_row(result.output, "lambda_l1")[1:4] == ["float", "100.0", "100.0"]
    assert help_row(result.output, "reuse_grads")[1:4] == ["bool", "true", "true"]


def test_the_options_table_of_the_docs_is_the_one_built_from_the_config():
    expected = markdown_table(describe_options(GenSegConfig, PRESETS))
    assert expected in DOCS.read_text(), (
        "docs/genseg.md's 'All options' table differs from GenSegConfig; replace it with:\n" + expected)
