"""The recipe files of ``plugins/genseg/recipes`` are the options the benchmark measured, and each one runs.

docs/results.md reports a recipe's numbers; if a recipe file and the grid that measured it drift apart, the
numbers no longer describe the file, so each file is compared with every run of its grid with its label (``fixes``, or the one named).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dgen.bench.spec import grid_spec, read_grid_file
from dgen.config import build_config, load_config_file
from dgen.plugins import registry
from dgen_genseg.pipeline.config import GenSegConfig

ROOT = Path(__file__).resolve().parents[4]
RECIPES = ROOT / "plugins" / "genseg" / "recipes"
#: recipe file -> the grid that measured it and the label of its runs there
MEASURED_IN = {
    "joint_fixes.json": ("benchmarks/mlo_control_grid.json", "fixes"),
    "genseg_fixes_cpu.json": ("benchmarks/controls_fixes_grid.json", "fixes"),
    "steer_fixes_cpu.json": ("benchmarks/steer_hyper_start_seeds_grid.json", "fixes_he8_hs8"),
}
#: options a grid sets that are the run's setting, not the recipe's
SETTING = {"preset", "task", "n_labeled", "seed", "backbone"}


def _measured_options(grid: str, label: str, method: str) -> list[dict]:
    """The options (setting options removed) of every run of ``grid`` labelled ``label`` with ``method``."""
    points = grid_spec(read_grid_file(ROOT / grid), records=None).points()
    runs = [p.options() for p in points if p.label == label and p.value("method") == method]
    return [{k: v for k, v in options.items() if k not in SETTING} for options in runs]


def test_every_recipe_is_listed() -> None:
    assert sorted(p.name for p in RECIPES.glob("*.json")) == sorted(MEASURED_IN)


@pytest.mark.parametrize("name", sorted(MEASURED_IN))
def test_recipe_equals_the_options_its_grid_measured(name: str) -> None:
    recipe = load_config_file(RECIPES / name)
    grid, label = MEASURED_IN[name]
    runs = _measured_options(grid, label, recipe["method"])
    assert runs, f"{grid} has no run of method {recipe['method']} labelled {label}"
    for options in runs:
        assert options == recipe


@pytest.mark.parametrize("name", sorted(MEASURED_IN))
def test_recipe_is_a_valid_config(name: str) -> None:
    recipe = load_config_file(RECIPES / name)
    config = build_config(GenSegConfig, recipe)
    assert {key: getattr(config, key) for key in recipe} == recipe


@pytest.mark.skipif("strong" not in registry("augmenters"), reason="the strong augmenter's library is missing")
def test_joint_recipe_runs_from_the_command_line(tiny, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = tiny.cli("run", "genseg", "--config", str(RECIPES / "joint_fixes.json"), *tiny.set_args(),
                      "--out", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    written = json.loads((out / "config.json").read_text())
    for key, value in load_config_file(RECIPES / "joint_fixes.json").items():
        assert written[key] == value, key
    assert json.loads((out / "metrics.json").read_text())["method"] == "joint"
