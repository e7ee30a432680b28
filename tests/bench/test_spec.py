"""Grid specs: files, command-line axes, validation with fixes, run-directory names; planning against a pipeline."""

from __future__ import annotations

import json
import sys

import pytest

from dgen.bench.plan import plan_grid
from dgen.bench.spec import RunPoint, grid_spec, read_grid_file
from dgen.errors import ConfigError, UnknownNameError

from dgen.records import Axis

from bench.fake_config import FAKE_RECORDS, FakeBenchConfig

PAPER_GRID = {
    "pipeline": "genseg",
    "backbone": "unet",
    "method": ["none", "genseg"],
    "seed": [0, 1, 2],
    "set": {"preset": "cpu", "iterations": 800},
    "settings": [{"task": "isic", "n_labeled": 40}, {"task": "lung", "n_labeled": 9, "set": {"iterations": 400}}],
}


def test_settings_are_crossed_with_the_shared_axes_seed_major():
    points = grid_spec(PAPER_GRID, records=FAKE_RECORDS).points()
    assert len(points) == 2 * 2 * 3
    assert [p.seed for p in points] == [0] * 4 + [1] * 4 + [2] * 4
    assert [p.name for p in points[:4]] == [
        "isic-unet-none-n40-s0", "isic-unet-genseg-n40-s0", "lung-unet-none-n9-s0", "lung-unet-genseg-n9-s0",
    ]
    lung = points[2]
    assert lung.options() == {"task": "lung", "backbone": "unet", "method": "none", "n_labeled": 9, "seed": 0,
                              "preset": "cpu", "iterations": 400}


def test_command_line_axes_replace_the_files_and_sets_override_it():
    spec = grid_spec(PAPER_GRID, axes={"seed": [5], "method": ["genseg"]}, extras={"iterations": "10"}, records=FAKE_RECORDS)
    points = spec.points()
    assert [p.name for p in points] == ["isic-unet-genseg-n40-s5", "lung-unet-genseg-n9-s5"]
    assert all(p.extras == {"preset": "cpu", "iterations": "10"} for p in points)


def test_a_grid_of_options_only_and_absent_axes():
    points = grid_spec(pipeline="toy", axes={"seed": [0, 1, 1]}, records=FAKE_RECORDS).points()
    assert points == [RunPoint("toy", seed=0), RunPoint("toy", seed=1)]  # duplicate seed dropped
    assert points[0].name == "s0" and points[0].options() == {"seed": 0}
    assert grid_spec(pipeline="toy", records=FAKE_RECORDS).points() == [RunPoint("toy", seed=0)]  # seed defaults to 0


def test_names_are_file_safe():
    assert RunPoint("p", ((Axis("task"), "my task/x"),), seed=3).name == "my_task_x-s3"


@pytest.mark.parametrize(
    "grid, expected",
    [
        ({"pipeline": "g", "seeds": [0]}, "Did you mean 'seed'?"),
        ({"pipeline": "g", "settings": [{"task": "isic", "n_label": 4}]}, "Did you mean 'n_labeled'?"),
    ],
)
def test_unknown_keys_name_the_closest_one(grid, expected):
    with pytest.raises(UnknownNameError, match=expected):
        grid_spec(grid, records=FAKE_RECORDS)


@pytest.mark.parametrize(
    "grid, axes, expected",
    [
        ({"pipeline": "g", "method": []}, None, r"axis 'method' is empty; give at least one value"),
        ({"pipeline": "g"}, {"seed": []}, r"the command line: axis 'seed' is empty"),
        ({"pipeline": "g", "n_labeled": ["40"]}, None, r"n_labeled value '40' is not a whole number"),
        ({"pipeline": "g", "seed": True}, None, r"seed value True is not a whole number"),
        ({"pipeline": "g", "task": ""}, None, r"task value '' is not a non-empty string"),
        ({"pipeline": "g", "set": {"seed": 1}}, None, r"set.seed is a grid key; write \"seed\""),
        ({"pipeline": "g", "set": [1]}, None, r"\"set\" must be an object"),
        ({"pipeline": "g", "settings": []}, None, r"\"settings\" must be a non-empty list"),
        ({"pipeline": "g", "settings": ["isic"]}, None, r"settings\[0\] must be an object"),
        ({"task": "isic"}, None, r"names no pipeline; add \"pipeline\""),
    ],
)
def test_invalid_grids_say_what_to_write(grid, axes, expected):
    with pytest.raises(ConfigError, match=expected):
        grid_spec(grid, axes=axes, records=FAKE_RECORDS)


def test_points_that_would_share_a_run_directory_are_refused():
    grid = {"pipeline": "g", "settings": [{"task": "isic", "set": {"lr": 1}}, {"task": "isic", "set": {"lr": 2}}]}
    expected = r"share the run directory .isic-s0. but differ in the fixed options \[.lr.\]; give one of them a \"label\""
    with pytest.raises(ConfigError, match=expected):
        grid_spec(grid, records=FAKE_RECORDS).points()


def test_identical_settings_are_merged():
    grid = {"pipeline": "g", "settings": [{"task": "isic"}, {"task": "isic"}]}
    assert [p.name for p in grid_spec(grid, records=FAKE_RECORDS).points()] == ["isic-s0"]


def test_read_grid_file_json_and_errors(tmp_path):
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(PAPER_GRID))
    assert read_grid_file(path) == PAPER_GRID
    with pytest.raises(ConfigError, match="does not exist; pass an existing .json or .toml"):
        read_grid_file(tmp_path / "nope.json")
    path.write_text("{")
    with pytest.raises(ConfigError, match="cannot be parsed .* fix its syntax"):
        read_grid_file(path)
    path.write_text("[1]")
    with pytest.raises(ConfigError, match="must hold an object of grid keys, not a list"):
        read_grid_file(path)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib needs Python 3.11")
def test_read_grid_file_toml(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('pipeline = "genseg"\nseed = [0, 1]\n[[settings]]\ntask = "isic"\nn_labeled = 40\n')
    assert grid_spec(read_grid_file(path), records=FAKE_RECORDS).points()[1].name == "isic-n40-s1"


def test_plan_checks_every_option_against_the_pipeline(tmp_path):
    with pytest.raises(ConfigError, match=r"grid point shapes-genseeg-s0: .*Did you mean 'genseg'\?"):
        plan_grid(grid_spec(pipeline="p", axes={"task": ["shapes"], "method": ["genseeg"]}, records=FAKE_RECORDS), tmp_path, FakeBenchConfig)
    with pytest.raises(ConfigError, match=r"Did you mean 'iterations'\?"):
        plan_grid(grid_spec(pipeline="p", extras={"iteratons": "3"}, records=FAKE_RECORDS), tmp_path, FakeBenchConfig)


def test_plan_states_and_a_changed_grid_is_refused(tmp_path):
    spec = grid_spec(pipeline="benchfake", axes={"seed": [0, 1, 2]}, extras={"iterations": "5"}, records=FAKE_RECORDS)
    runs = plan_grid(spec, tmp_path, FakeBenchConfig)
    assert [r.state for r in runs] == ["new"] * 3
    done, half = runs[0].run_dir, runs[1].run_dir
    for run_dir, seed in ((done, 0), (half, 1)):
        run_dir.mkdir(parents=True)
        saved = {"pipeline": "benchfake", "task": "shapes", "seed": seed, "iterations": 5}
        (run_dir / "config.json").write_text(json.dumps(saved))
    (done / "metrics.json").write_text("{}")
    assert [r.state for r in plan_grid(spec, tmp_path, FakeBenchConfig)] == ["finished", "unfinished", "new"]
    changed = grid_spec(pipeline="benchfake", axes={"seed": [0]}, extras={"iterations": "6"}, records=FAKE_RECORDS)
    with pytest.raises(ConfigError, match=r"holds a run with other options \(iterations: saved 5, grid 6\); delete"):
        plan_grid(changed, tmp_path, FakeBenchConfig)


def test_a_label_keeps_apart_runs_that_differ_in_fixed_options():
    grid = {"pipeline": "g", "method": "genseg", "settings": [
        {"task": "isic"}, {"task": "isic", "set": {"lr": 2}, "label": "fixes"}]}
    points = grid_spec(grid, records=FAKE_RECORDS).points()
    assert [(p.name, p.label, dict(p.extras)) for p in points] == [
        ("isic-genseg-s0", None, {}), ("isic-genseg-fixes-s0", "fixes", {"lr": 2})]


def test_the_command_line_label_replaces_the_files():
    grid = {"pipeline": "g", "label": "a", "settings": [{"task": "isic"}, {"task": "lung", "label": "b"}]}
    assert [p.name for p in grid_spec(grid, records=FAKE_RECORDS).points()] == ["isic-a-s0", "lung-b-s0"]
    assert [p.name for p in grid_spec(grid, label="c", records=FAKE_RECORDS).points()] == ["isic-c-s0", "lung-c-s0"]


@pytest.mark.parametrize("label", ["", "a/b", "two words", 3])
def test_a_label_that_is_no_word_is_refused(label):
    with pytest.raises(ConfigError, match=r"settings\[0\]: label .* must be a non-empty word .* \"label\": \"fixes\""):
        grid_spec({"pipeline": "g", "settings": [{"task": "isic", "label": label}]}, records=FAKE_RECORDS)


def test_a_label_that_makes_another_points_name_is_refused_naming_the_labels():
    grid = {"pipeline": "g", "settings": [{"task": "isic", "label": "n40", "set": {"lr": 2}},
                                          {"task": "isic", "n_labeled": 40}]}
    with pytest.raises(ConfigError, match=r"'isic-n40-s0' .* \['lr'\]; the label\(s\) \['n40'\] and the axis values make"):
        grid_spec(grid, records=FAKE_RECORDS).points()


def test_points_that_differ_only_in_label_and_axis_values_are_refused_naming_the_labels():
    grid = {"pipeline": "g", "settings": [{"task": "isic", "label": "n40"}, {"task": "isic", "n_labeled": 40}]}
    with pytest.raises(ConfigError, match=r"'isic-n40-s0' but differ in their labels; the label\(s\) \['n40'\]"):
        grid_spec(grid, records=FAKE_RECORDS).points()


def test_an_existing_run_with_another_label_is_refused(tmp_path):
    labelled = grid_spec(pipeline="benchfake", extras={"iterations": "5"}, label="a", records=FAKE_RECORDS)
    run_dir = plan_grid(labelled, tmp_path, FakeBenchConfig)[0].run_dir
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"pipeline": "benchfake", "task": "shapes", "seed": 0, "iterations": 5}))
    with pytest.raises(ConfigError, match=r"holds a run labelled None \(its bench.json\), the grid's is 'a'; delete"):
        plan_grid(labelled, tmp_path, FakeBenchConfig)
    (run_dir / "bench.json").write_text(json.dumps({"label": "a"}))
    assert [r.state for r in plan_grid(labelled, tmp_path, FakeBenchConfig)] == ["unfinished"]
