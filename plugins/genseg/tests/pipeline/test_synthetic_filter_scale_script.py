"""``benchmarks/synthetic_filter_scale.py`` on a tiny joint run: each direction moves the synthetic loss the way it
must (leaving out the worst-fitted pairs can only lower the mean, the best-fitted only raise it, more so at a
larger fraction), and the report names each direction, fraction and the matching gamma."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import one_thread

SCRIPT = Path(__file__).resolve().parents[4] / "benchmarks" / "synthetic_filter_scale.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("synthetic_filter_scale", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def joint_run(tiny, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("joint") / "run"
    tiny.run(run, method="joint")
    return run


def test_each_direction_moves_the_synthetic_loss_its_way(script, joint_run):
    with one_thread():
        ratios = script.ratios(joint_run, batches=6, fractions=[0.25, 0.5], seed=0)
    assert sorted(ratios) == ["best 0.25", "best 0.5", "worst 0.25", "worst 0.5"]
    for worst25, worst50, best25, best50 in zip(*(ratios[k] for k in ("worst 0.25", "worst 0.5", "best 0.25", "best 0.5"))):
        assert worst50 <= worst25 <= 1 + 1e-6 and 1 - 1e-6 <= best25 <= best50
    assert min(ratios["worst 0.5"]) < 1 < max(ratios["best 0.5"]), "the tiny run's pairs differ in how well they fit"


def test_the_report_names_each_direction_and_the_matching_gamma(script, joint_run, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["synthetic_filter_scale.py", str(joint_run), "--batches", "4", "--fractions", "0.25"])
    with one_thread():
        script.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{joint_run.name}: mean(kept loss) / mean(all), median over 4 batches")
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["drop worst 0.25", "drop best 0.25"]
    assert all("[gamma " in line for line in lines[1:])
