"""Validation curves of a benchmark: read from log.csv, averaged over seeds, plateau check, figure, report."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dgen.bench import AggregateOptions, aggregate
from dgen.bench.commands import command_line, read_commands, record_command
from dgen.bench.valcurves import mean_curve, plateau, read_val_curve
from dgen.errors import ConfigError

from bench.fake_config import FAKE_RECORDS
from bench.test_aggregate import _plugins, make_run, table_row  # noqa: F401 (an autouse fixture)

CURVE = FAKE_RECORDS.curve


def write_log(run_dir: Path, curve: dict[int, float], *, warmup: int = 0, seg_column: bool = True) -> None:
    """A log.csv with a validation at each x of ``curve`` (x = segmenter updates after ``warmup`` GAN iterations)."""
    last = max(curve)
    columns = ["iteration", "seg", *(["seg_iteration"] if seg_column else []), "val_dice"]
    with (run_dir / "log.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for iteration in range(warmup + last):
            x = iteration - warmup + 1
            seg = [x if x > 0 else ""] if seg_column else []
            writer.writerow([iteration, 0.5, *seg, curve.get(x, "") if x > 0 else ""])


def test_read_val_curve_uses_seg_iteration_or_iteration(tmp_path):
    with_warmup, plain = tmp_path / "a", tmp_path / "b"
    with_warmup.mkdir(), plain.mkdir()
    write_log(with_warmup, {5: 0.5, 10: 0.7}, warmup=20)
    write_log(plain, {5: 0.5, 10: 0.7}, seg_column=False)
    assert read_val_curve(with_warmup, "dice", CURVE) == {5: 0.5, 10: 0.7}
    assert read_val_curve(plain, "dice", CURVE) == {5: 0.5, 10: 0.7}  # iteration 4 -> x 5
    assert read_val_curve(tmp_path / "missing", "dice", CURVE) == {}


def test_mean_curve_and_plateau_by_hand():
    assert mean_curve({0: {10: 0.2, 20: 0.4}, 1: {10: 0.4, 20: 0.8, 30: 0.9}}) == pytest.approx({10: 0.3, 20: 0.6})
    # budget 100: the fifth before the last is (60, 80], the last is (80, 100]
    check = plateau({20: 0.1, 60: 0.5, 70: 0.6, 80: 0.7, 90: 0.72, 100: 0.74})
    assert (check.budget, check.earlier, check.late) == (100, pytest.approx(0.65), pytest.approx(0.73))
    assert check.change == pytest.approx(0.08)
    assert plateau({100: 0.5}) is None and plateau({}) is None


@pytest.fixture
def curve_dir(tmp_path: Path) -> Path:
    """none plateaus at 0.8; genseg (with a warm-up of 30) still climbs at the end."""
    for seed in range(2):
        write_log(make_run(tmp_path, "none", seed, 0.8),
                  {x: min(0.8, x / 50) + 0.01 * seed for x in range(10, 101, 10)})
        write_log(make_run(tmp_path, "genseg", seed, 0.8), {x: x / 100 for x in range(10, 101, 10)}, warmup=30)
    return tmp_path


def test_report_has_validation_curves_and_plateau_check(curve_dir):
    result = aggregate(curve_dir)
    val = curve_dir / "plots" / "val-isic-unet-n40-dice.png"
    assert val in result.plots and val.read_bytes()[:4] == b"\x89PNG"
    text = result.markdown.read_text()
    assert "(plots/val-isic-unet-n40-dice.png)" in text
    # none: 0.8 + 0.005 in both windows; genseg: (0.7 + 0.8) / 2 -> (0.9 + 1.0) / 2; best at x 50 / 100
    assert table_row(text, "| none |") == "| none | 2 | 100 | 0.805 | 0.805 | +0.000 | 40 |"
    assert table_row(text, "| genseg |") == "| genseg | 2 | 100 | 0.750 | 0.950 | +0.200 | 100 |"


def test_report_copy_links_its_own_figures_and_keeps_the_notes(curve_dir, tmp_path):
    record_command(curve_dir, "dgen bench grid.json --out bench")
    record_command(curve_dir, "dgen bench grid.json --out bench")  # rerun to continue: listed once
    docs = tmp_path / "docs"
    stale = docs / "results" / "old.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    (curve_dir / "notes.md").write_text("## What we found\n\nGenSeg still climbs.\n")
    aggregate(curve_dir, AggregateOptions(report=docs / "results.md"))
    text = (docs / "results.md").read_text()
    assert "## What we found\n\nGenSeg still climbs.\n" in text and text.index("What we found") < text.index("## isic")
    assert text.index("What we found") < text.index("Commands that ran the grid:")  # the write-up first
    links = [line.split("](", 1)[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert links and all(link.startswith("results/") and (docs / link).is_file() for link in links)
    assert not stale.exists()
    assert text.count("dgen bench grid.json --out bench") == 1


@pytest.mark.parametrize("report", ["docs", "docs/results.txt"])
def test_a_report_path_that_is_not_markdown_is_refused_before_writing(curve_dir, tmp_path, report):
    (tmp_path / "docs").mkdir(exist_ok=True)
    with pytest.raises(ConfigError, match="not a markdown file path: give one ending in .md"):
        aggregate(curve_dir, AggregateOptions(report=tmp_path / report))
    assert not (curve_dir / "results.md").exists()


def test_command_line_keeps_the_environment_that_matters():
    env = {"DGEN_DATA_ROOT": "/data sets", "OMP_NUM_THREADS": "1", "HOME": "/root"}
    line = command_line(["bench", "g.json", "--set", "a=b c"], env)
    assert line == "DGEN_DATA_ROOT='/data sets' OMP_NUM_THREADS=1 dgen bench g.json --set 'a=b c'"


def test_read_commands_without_a_file(tmp_path):
    assert read_commands(tmp_path) == []
