"""``dgen bench`` on the command line, with ``dgen run`` replaced by ``fake_dgen.py``."""

from __future__ import annotations

import json
import re
import runpy
import sys
import pytest
from typer.testing import CliRunner

import dgen
import dgen.bench.command
from dgen.bench import DgenRunCommand
from dgen.cli import app

from bench.conftest import FAKE_DGEN, calls

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def fake_dgen_run(monkeypatch, bench_plugins):
    """The CLI's ``DgenRunCommand`` runs ``fake_dgen.py``; the pipeline ``benchfake`` is registered."""
    monkeypatch.delenv("DGEN_DEBUG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(dgen.bench.command, "DgenRunCommand", lambda device, threads: DgenRunCommand(
        device=device, threads=threads, prefix=(sys.executable, str(FAKE_DGEN))))


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    return result, ANSI.sub("", result.output)


GRID = ["--pipeline", "benchfake", "--task", "shapes", "--backbone", "unet", "--method", "none", "--seed", "0"]


def test_a_two_run_grid_writes_the_results_and_a_rerun_skips_it(tmp_path):
    result, out = invoke("bench", *GRID, "--n-labeled", "4", "--n-labeled", "8", "--out", str(tmp_path))
    assert result.exit_code == 0, out
    assert "[1/2] start shapes-unet-none-n4-s0" in out and "[2/2] done shapes-unet-none-n8-s0 in" in out
    assert "2 runs: 2 ran, 0 already finished, none failed." in out
    assert (tmp_path / "results.csv").is_file() and (tmp_path / "results.md").is_file()
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "bars-shapes-unet-n4-dice.png", "bars-shapes-unet-n8-dice.png", "curves-shapes-unet-dice.png"
    ]
    # fake dice 0.6 + 0.001 * n_labeled on the in-domain test set 'shapes' (first in metrics.json)
    assert "| shapes (n=20) | in-domain | none | 1 | 0.604 |" in (tmp_path / "results.md").read_text()
    result, out = invoke("bench", *GRID, "--n-labeled", "4", "--n-labeled", "8", "--out", str(tmp_path))
    assert result.exit_code == 0 and "[1/2] skip shapes-unet-none-n4-s0 (finished)" in out
    assert calls(tmp_path / "runs" / "shapes-unet-none-n4-s0") == ["fresh"]


def test_a_grid_file_and_the_device_reach_the_runs(tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"pipeline": "benchfake", "method": ["none", "genseg"], "seed": [0, 1],
                                "set": {"iterations": 3}, "settings": [{"task": "shapes", "n_labeled": 4}]}))
    result, out = invoke("bench", str(grid), "--seed", "1", "--device", "cpu", "--jobs", "2",
                         "--out", str(tmp_path / "b"))
    assert result.exit_code == 0, out
    runs = sorted(p.name for p in (tmp_path / "b" / "runs").iterdir())
    assert runs == ["shapes-genseg-n4-s1", "shapes-none-n4-s1"]
    log = (tmp_path / "b" / "runs" / runs[0] / "bench.log").read_text()
    assert "--set iterations=3" in log and "--device cpu" in log
    assert "genseg | none (baseline) | 1 | +0.050 [n/a]" in (tmp_path / "b" / "results.md").read_text()
    command = f"dgen bench {grid} --seed 1 --out {tmp_path / 'b'} --jobs 2 --device cpu"
    assert (tmp_path / "b" / "commands.txt").read_text().splitlines()[-1].endswith(command)
    assert command in (tmp_path / "b" / "results.md").read_text()


def test_an_invalid_grid_is_not_recorded(tmp_path):
    assert invoke("bench", "--pipeline", "benchfake", "--set", "iteratons=3", "--out", str(tmp_path))[0].exit_code == 1
    assert not (tmp_path / "commands.txt").exists()


def test_a_failing_run_exits_1_after_aggregating_the_others(tmp_path):
    grid = tmp_path / "grid.json"
    settings = [{"seed": 0, "set": {"fail": True}}, {"seed": 1}]
    grid.write_text(json.dumps({"pipeline": "benchfake", "settings": settings}))
    result, out = invoke("bench", str(grid), "--out", str(tmp_path / "b"))
    assert result.exit_code == 1
    log = tmp_path / "b" / "runs" / "s0" / "bench.log"
    error = "error: fake failure: this run was told to fail (--set fail=true)."
    assert f"[1/2] FAILED s0 (exit 1): {error} — log: {log}" in out
    assert "1 failed (s0)" in out and (tmp_path / "b" / "results.md").is_file()


def test_aggregate_only(tmp_path):
    assert invoke("bench", *GRID, "--out", str(tmp_path))[0].exit_code == 0
    (tmp_path / "results.md").unlink()
    result, out = invoke("bench", "--out", str(tmp_path), "--aggregate-only", "--metric", "jaccard")
    assert result.exit_code == 0, out
    assert "better jaccard" not in (tmp_path / "results.md").read_text()  # one method: nothing to compare
    # n_labeled is not an axis here: the run's config.json holds the pipeline's default, 8
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["bars-shapes-unet-n8-jaccard.png"]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--pipeline", "benchfake"], "error: dgen bench needs --out DIR"),
        (["--aggregate-only", "--task", "x", "--out", "{out}"], "--aggregate-only reads the runs already in --out"),
        (["--aggregate-only", "--out", "{out}"], "holds no finished run with test metrics"),
        (["--pipeline", "benchfak", "--out", "{out}"], "unknown pipeline 'benchfak'. Did you mean 'benchfake'?"),
        (["--pipeline", "benchfake", "--set", "iteratons=3", "--out", "{out}"], "Did you mean 'iterations'?"),
        (["--pipeline", "benchfake", "--jobs", "0", "--out", "{out}"], "jobs=0 is invalid"),
        (["--pipeline", "benchfake", "--threads", "0", "--out", "{out}"], "threads=0 is invalid"),
        (["--pipeline", "benchfake", "--engine", "rey", "--out", "{out}"], "unknown engine 'rey'. Did you mean 'ray'?"),
        (["--pipeline", "benchfake", "--address", "auto", "--out", "{out}"], "add --engine ray, or drop it"),
        (["--pipeline", "benchfake", "--methd", "none", "--out", "{out}"], "Did you mean 'method'?"),
        (["--pipeline", "benchfake", "--method", "--out", "{out}"], "grid axis --method has no value"),
    ],
)
def test_errors_are_one_line_with_exit_1(tmp_path, args, expected):
    result, out = invoke("bench", *[a.replace("{out}", str(tmp_path)) for a in args])
    assert result.exit_code == 1 and expected in out and out.count("\n") == 1, out


@pytest.mark.filterwarnings("ignore:'dgen.cli' found in sys.modules:RuntimeWarning")
def test_python_m_dgen_cli_runs_the_cli(monkeypatch, capsys):
    """What the runs execute: ``python -m dgen.cli`` (in-process with runpy; a new interpreter costs seconds)."""
    monkeypatch.setattr(sys, "argv", ["dgen", "--version"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("dgen.cli", run_name="__main__")
    assert exit_info.value.code in (0, None) and capsys.readouterr().out.startswith(f"dgen {dgen.__version__}")
