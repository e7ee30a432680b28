"""``benchmarks/hypergrad_noise.py`` on the tiny task: it trains, measures at the points asked for, writes a report
with every steered variable's statistics, and refuses points outside the run."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

from conftest import TINY, one_thread
from dgen_genseg.pipeline.steer.appearance_option import DEFAULT_APPEARANCE_TRANSFORMS, parse_appearance_transforms

SCRIPT = Path(__file__).resolve().parents[4] / "benchmarks" / "hypergrad_noise.py"
#: the tiny run's options the script does not take as arguments of its own
SETS = [f"{k}={v}" for k, v in TINY.items() if k not in ("task", "preset", "n_labeled")]


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    spec = importlib.util.spec_from_file_location("hypergrad_noise", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sets = [a for s in SETS + ["pool_size=6", "hyper_start=0"] for a in ("--set", s)]
    monkeypatch.setattr(sys, "argv", ["hypergrad_noise.py", "--task", "shapes", "--n-labeled", "6", *sets, *args])
    with one_thread():
        module.main()


def test_the_script_reports_each_steered_variables_noise_at_each_point(monkeypatch, tmp_path):
    out = tmp_path / "noise.json"
    _main(monkeypatch, "--at", "1", "3", "--samples", "4", "--json", str(out))
    report = json.loads(out.read_text())
    assert sorted(report["points"], key=int) == ["1", "3"]
    for point in report["points"].values():
        assert set(point) == {"appearance", "weights", "generator (total)", "generator (validation term)"}
        for stats in point.values():
            assert stats["noise"] > 0 and math.isfinite(stats["mean_norm"]) and stats["dim"] > 0
        assert set(point["appearance"]["t"]) == set(point["appearance"]["magnitudes"]) and len(point["appearance"]["t"]) == len(
            parse_appearance_transforms(DEFAULT_APPEARANCE_TRANSFORMS))
        assert point["weights"]["dim"] == 6


def test_the_geometry_gets_its_own_slice_of_the_steer_hypergradient(monkeypatch, tmp_path):
    out = tmp_path / "noise.json"
    _main(monkeypatch, "--method", "steer:appearance+geometry+weights", "--at", "2", "--samples", "4",
          "--json", str(out))
    point = json.loads(out.read_text())["points"]["2"]
    assert set(point) == {"appearance", "geometry", "weights"}
    assert point["appearance"]["dim"] == len(parse_appearance_transforms(DEFAULT_APPEARANCE_TRANSFORMS))
    assert point["geometry"]["dim"] == 3 and point["weights"]["dim"] == 6
    assert set(point["geometry"]["t"]) == set(point["geometry"]["magnitudes"]) == {"rotate", "scale", "translate"}


def test_points_outside_the_run_are_refused_with_the_range(monkeypatch):
    with pytest.raises(SystemExit, match=r"--at \[0, 99\]: no point in 1\.\.6"):
        _main(monkeypatch, "--at", "0", "99")
