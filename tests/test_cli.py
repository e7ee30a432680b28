"""The ``dgen`` command line, on a fake plugin set (see ``fake_components.py``).

Following fastapi-cli, most tests replace the heavy call (``run_pipeline``) by a recorder
and assert its arguments; a few run the fake pipeline end to end.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import typer
from rich.console import Console
from typer.testing import CliRunner

import dgen
import dgen.cli
from dgen.cli import app
from dgen.errors import ConfigError, DataError, RegistryError
from dgen.hookspecs import HOOK_KINDS
from dgen.run import RunResult

from fake_components import ACME_VERSION, FakeConfig, FakePipeline, install_fake_plugins

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def fake_plugins(monkeypatch):
    monkeypatch.delenv("DGEN_DEBUG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables must not truncate names
    return install_fake_plugins(monkeypatch)


@pytest.fixture
def recorded(monkeypatch) -> list[dict[str, Any]]:
    """Replace ``run_pipeline`` in the CLI by a recorder; each call's arguments are appended."""
    calls: list[dict[str, Any]] = []

    def fake_run_pipeline(name, values, **kwargs):
        calls.append({"name": name, "values": dict(values), **kwargs})
        return RunResult(Path("runs/x"), {"iterations": 3})

    monkeypatch.setattr(dgen.cli, "run_pipeline", fake_run_pipeline)
    return calls


def invoke(*args: str):
    return runner.invoke(app, list(args))


def plain(text: str) -> str:
    return ANSI.sub("", text)


def assert_one_line_error(result, *fragments: str) -> None:
    """Exit code 1, no traceback, and exactly one line on stderr holding every fragment."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    err = plain(result.stderr).strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


# -- version, plugins, list --------------------------------------------------------------------

def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert plain(result.stdout).strip() == f"dgen {dgen.__version__}"


def test_plugins_table_shows_names_versions_and_registrations():
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in plain(result.stdout).splitlines() if line.startswith("│")}
    assert set(rows) >= {"dgen", "acme"}
    assert ACME_VERSION in rows["acme"] and "acme_dgen.plugin" in rows["acme"]
    assert "derm" in rows["acme"] and "flip" in rows["acme"] and "first_order" in rows["acme"]
    assert "pipelines: fake, broken" in rows["dgen"] and "solvers: unroll" in rows["dgen"]
    assert dgen.__version__ in rows["dgen"]


@pytest.mark.parametrize("kind", sorted(HOOK_KINDS.values()))
def test_list_each_kind_shows_its_entries(kind, fake_plugins):
    result = invoke("list", kind)
    assert result.exit_code == 0, result.output
    out = plain(result.stdout)
    entries = fake_plugins.registry(kind).entries()
    assert entries
    for entry in entries:
        row = next(line for line in out.splitlines() if line.startswith(f"│ {entry.name} "))
        assert entry.plugin in row and entry.description in row


def test_list_descriptions_fall_back_to_docstrings():
    assert "A fake generator component." in plain(invoke("list", "generators").stdout)


def test_list_unknown_kind_is_one_red_line_with_the_closest_match(monkeypatch):
    monkeypatch.setattr(dgen.cli, "err_console", Console(stderr=True, force_terminal=True, color_system="standard"))
    result = invoke("list", "segmenter")
    assert_one_line_error(result, "unknown component kind 'segmenter'", "Did you mean 'segmenters'?", "Available:")
    assert "\x1b[1;31merror:" in result.stderr  # bold red


# -- run: what reaches run_pipeline ------------------------------------------------------------

def test_run_passes_options_to_run_pipeline(recorded, tmp_path):
    result = invoke(
        "run", "fake", "--task", "derm", "--backbone", "unet", "--seed", "7", "--set", "iterations=3",
        "--set", "lr = 0.5", "--out", str(tmp_path), "--device", "cpu", "--no-progress", "--threads", "3",
    )
    assert result.exit_code == 0, result.output
    assert recorded == [{
        "name": "fake",
        "values": {"iterations": "3", "lr": "0.5", "task": "derm", "backbone": "unet", "seed": 7},
        "out": tmp_path, "resume": None, "device": "cpu", "progress": False, "threads": 3,
    }]


def test_run_defaults(recorded):
    assert invoke("run", "fake").exit_code == 0
    assert recorded == [{"name": "fake", "values": {}, "out": None, "resume": None, "device": "auto", "progress": True,
                         "threads": None}]


def test_config_file_is_merged_and_set_and_options_override_it(recorded, tmp_path):
    path = tmp_path / "options.json"
    path.write_text(json.dumps({"iterations": 5, "lr": 0.1, "task": "shapes", "seed": 1}))
    result = invoke("run", "fake", "--config", str(path), "--set", "lr=0.2", "--task", "derm")
    assert result.exit_code == 0, result.output
    assert recorded[0]["values"] == {"iterations": 5, "lr": "0.2", "task": "derm", "seed": 1}


def test_resume_option_is_passed(recorded, tmp_path):
    assert invoke("run", "fake", "--resume", str(tmp_path)).exit_code == 0
    assert recorded[0]["resume"] == tmp_path and recorded[0]["out"] is None


def test_malformed_set_is_one_line(recorded):
    assert_one_line_error(invoke("run", "fake", "--set", "iterations"), "'iterations'", "key=value")
    assert recorded == []


def test_missing_config_file_is_one_line(recorded, tmp_path):
    assert_one_line_error(invoke("run", "fake", "--config", str(tmp_path / "nope.json")), "nope.json", "does not exist")


# -- run: end to end with the fake pipeline ------------------------------------------------------

def test_set_values_reach_the_config_with_their_types(tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "run", "fake", "--out", str(out), "--device", "cpu", "--seed", "3", "--backbone", "unet",
        "--set", "iterations=0x10", "--set", "lr=1e-2", "--set", "reuse=no", "--set", "solver=darts",
        "--set", "sizes=32,64", "--set", f"data_root={tmp_path}",
    )
    assert result.exit_code == 0, result.output
    (call,) = FakePipeline.calls
    assert call.config == FakeConfig(
        task="shapes", backbone="unet", seed=3, iterations=16, lr=0.01, reuse=False, solver="darts",
        sizes=(32, 64), data_root=tmp_path,
    )
    assert call.context.run_dir == out and call.context.device == torch.device("cpu")
    assert json.loads((out / "config.json").read_text())["iterations"] == 16


def test_run_renders_test_metrics_and_run_dir(tmp_path):
    result = invoke("run", "fake", "--out", str(tmp_path / "r"), "--device", "cpu", "--set", "iterations=4")
    assert result.exit_code == 0, result.output
    out = plain(result.stdout)
    shapes = next(line for line in out.splitlines() if "shapes" in line and "│" in line)
    assert "0.7500" in shapes and "0.5000" in shapes
    assert "iterations=4" in out and "best_val_dice=0.8000" in out
    assert f"run directory: {tmp_path / 'r'}" in out.replace("\n", "")


def test_resuming_a_finished_run_says_so(tmp_path):
    out = tmp_path / "r"
    assert invoke("run", "fake", "--out", str(out), "--device", "cpu").exit_code == 0
    result = invoke("run", "fake", "--resume", str(out), "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "had already finished" in plain(result.stdout)
    assert len(FakePipeline.calls) == 1


def test_unknown_set_key_names_the_closest_field(tmp_path):
    result = invoke("run", "fake", "--out", str(tmp_path / "r"), "--set", "iteratons=3")
    assert_one_line_error(result, "'iteratons'", "Did you mean 'iterations'?")
    assert FakePipeline.calls == [] and not (tmp_path / "r").exists()


def test_bad_value_names_option_and_type(tmp_path):
    assert_one_line_error(invoke("run", "fake", "--out", str(tmp_path / "r"), "--set", "lr=fast"),
                          "lr='fast'", "float")


@pytest.mark.parametrize("value", [None, [3], {"n": 3}, True])
def test_config_file_value_of_the_wrong_json_type_is_one_line(tmp_path, value):
    path = tmp_path / "options.json"
    path.write_text(json.dumps({"iterations": value}))
    result = invoke("run", "fake", "--out", str(tmp_path / "r"), "--config", str(path))
    assert_one_line_error(result, f"iterations={value!r} is not a valid int")


def test_unknown_pipeline_names_the_closest(tmp_path):
    assert_one_line_error(invoke("run", "fak", "--out", str(tmp_path / "r")), "unknown pipeline 'fak'", "'fake'")


def test_pipeline_dgen_error_is_one_line_exit_1(tmp_path):
    result = invoke("run", "broken", "--out", str(tmp_path / "r"), "--device", "cpu", "--set", "data_root=/d")
    assert_one_line_error(result, "mask /d/m1.png is not binary", "re-export it")


def test_debug_shows_the_traceback(tmp_path):
    result = invoke("--debug", "run", "broken", "--out", str(tmp_path / "r"), "--device", "cpu")
    assert result.exit_code == 1
    assert isinstance(result.exception, DataError)
    assert result.exc_info[2] is not None and "not binary" in str(result.exception)
    # --debug lasts for one invocation only
    assert_one_line_error(invoke("run", "broken", "--out", str(tmp_path / "s"), "--device", "cpu"), "not binary")


def test_debug_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("DGEN_DEBUG", "1")
    result = invoke("run", "fake", "--out", str(tmp_path / "r"), "--set", "iteratons=3")
    assert isinstance(result.exception, ConfigError) and result.exit_code == 1


def test_cuda_without_gpu_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = invoke("run", "fake", "--out", str(tmp_path / "r"), "--device", "cuda")
    assert_one_line_error(result, "--device cuda", "no CUDA GPU", "use --device cpu or auto")
    assert FakePipeline.calls == [] and not (tmp_path / "r").exists()


def test_unknown_device_lists_choices(tmp_path):
    assert_one_line_error(invoke("run", "fake", "--out", str(tmp_path / "r"), "--device", "cpuu"),
                          "unknown device 'cpuu'", "Did you mean 'cpu'?")


# -- main(): plugin commands ------------------------------------------------------------------

@pytest.fixture
def fresh_app(monkeypatch):
    """``main()`` on a fresh app, so that plugin commands do not leak into ``dgen.cli.app``."""
    fresh = typer.Typer(add_completion=False)
    fresh.callback()(lambda: None)
    monkeypatch.setattr(dgen.cli, "app", fresh)
    monkeypatch.setattr(dgen.cli, "_commands_loaded", [])
    return fresh


def test_main_adds_the_commands_of_plugins(fresh_app, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["dgen", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        dgen.cli.main()
    assert exit_info.value.code == 0
    assert "acme-info" in capsys.readouterr().out


def test_main_reports_a_broken_plugin_in_one_line(fresh_app, monkeypatch, capsys):
    def broken():
        raise RegistryError("plugin 'acme' (acme_dgen.plugin) failed to import: boom; fix or uninstall it.")

    monkeypatch.setattr(dgen.cli, "get_plugins", broken)
    monkeypatch.setattr(sys, "argv", ["dgen", "plugins"])
    with pytest.raises(SystemExit) as exit_info:
        dgen.cli.main()
    assert exit_info.value.code == 1
    err = plain(capsys.readouterr().err).strip()
    assert err == "error: plugin 'acme' (acme_dgen.plugin) failed to import: boom; fix or uninstall it."


def test_pipeline_options_as_dashed_flags():
    from dgen.cli import parse_option_args

    assert parse_option_args(["--n-labeled", "40", "--data-root=/d", "--reuse-grads", "--preset", "cpu"]) == {
        "n_labeled": "40", "data_root": "/d", "reuse_grads": "true", "preset": "cpu",
    }
    with pytest.raises(ConfigError, match="--name value"):
        parse_option_args(["stray"])
