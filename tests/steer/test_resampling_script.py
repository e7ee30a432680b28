"""``benchmarks/resampling_smoothing.py`` on a few generated images: it prints a ratio per warp, each in (0, 1] for
images with detail, bilinear smoothing more than bicubic."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "resampling_smoothing.py"


def test_the_script_prints_how_much_each_warp_smooths(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "dots" / "images"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    spec = importlib.util.spec_from_file_location("resampling_smoothing", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("DGEN_DATA_ROOT", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["resampling_smoothing.py", "--dataset", "dots", "--size", "24", "--draws", "2"])
    module.main()
    rows = dict(re.findall(r"^\| (.+?) \| ([0-9.]+) \|$", capsys.readouterr().out, flags=re.M))
    assert len(rows) == 9 and all(0 < float(v) <= 1 for v in rows.values())
    both = "geometry rotate+scale+translate"
    assert float(rows[f"{both}, bilinear"]) < float(rows[f"{both}, bicubic"]) < 1


def test_an_empty_dataset_folder_is_refused(tmp_path, monkeypatch):
    (tmp_path / "none" / "images").mkdir(parents=True)
    spec = importlib.util.spec_from_file_location("resampling_smoothing", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("DGEN_DATA_ROOT", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["resampling_smoothing.py", "--dataset", "none"])
    with pytest.raises(SystemExit, match="no images in"):
        module.main()
