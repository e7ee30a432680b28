"""Aggregation of hand-written run directories: results.csv, results.md (values checked by hand), plots."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from dgen.bench import AggregateOptions, aggregate, compare_options
from dgen.bench.collect import in_domain_flags
from dgen.errors import DataError, UnknownNameError

from bench.fake_config import FAKE_RECORDS

# in-domain test dice per method and seed 0, 1, 2; ph2 (out-of-domain) is 0.1 lower; validation dice separately
TEST_DICE = {
    "none": [0.80, 0.82, 0.84],
    "flip": [0.79, 0.80, 0.81],
    "combine": [0.83, 0.84, 0.85],
    "genseg": [0.85, 0.85, 0.83],
}
VAL_DICE = {"none": 0.70, "flip": 0.90, "combine": 0.80, "genseg": 0.75}  # flip is best on validation, not on test


@pytest.fixture(autouse=True)
def _plugins(bench_plugins):
    """The runs below are of the pipeline ``benchfake``: aggregation reads the records it declares."""


def make_run(out: Path, method: str, seed: int, dice: float, *, n_labeled: int = 40, val: float = 0.7,
             **extra) -> Path:
    run_dir = out / "runs" / f"isic-unet-{method}-n{n_labeled}-s{seed}"
    run_dir.mkdir(parents=True)
    config = {"pipeline": "benchfake", "task": "isic", "backbone": "unet", "method": method, "n_labeled": n_labeled,
              "seed": seed}
    metrics = {
        "pipeline": "benchfake", "task": "isic", "backbone": "unet", "method": method,
        "solver": "unroll" if method == "genseg" else None, "seed": seed, "n_train": 32, "n_val": 8,
        "image_size": 64, "iterations": 100, "best_iteration": 60, "val": {"dice": val, "jaccard": val / 2},
        "test": {"isic2018": {"dice": dice, "jaccard": dice - 0.2, "hd95": 10 * (1 - dice), "n": 50},
                 "ph2": {"dice": dice - 0.1, "jaccard": dice - 0.3, "hd95": 12.0, "n": 20}},
        "out_of_domain": ["ph2"],
        "wall_seconds": 100.0 + seed, "device": "cpu", **extra,
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir


@pytest.fixture
def bench_dir(tmp_path: Path) -> Path:
    for method, scores in TEST_DICE.items():
        for seed, dice in enumerate(scores):
            make_run(tmp_path, method, seed, dice, val=VAL_DICE[method])
    for method in ("none", "genseg"):  # a second n_labeled: sample-efficiency curves
        make_run(tmp_path, method, 0, 0.7, n_labeled=10)
    half = tmp_path / "runs" / "isic-unet-genseg-n40-s3"
    half.mkdir()
    (half / "config.json").write_text("{}")
    return tmp_path


def table_row(markdown: str, start: str) -> str:
    matches = [ln for ln in markdown.splitlines() if ln.startswith(start)]
    assert len(matches) == 1, f"{start!r} matches {matches}"
    return matches[0]


def test_results_csv_has_one_row_per_run_and_test_set(bench_dir):
    result = aggregate(bench_dir)
    with open(result.csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == (12 + 2) * 2
    required = ["task", "backbone", "method", "solver", "n_labeled", "seed", "test_set", "in_domain", "dice",
                "jaccard", "hd95", "wall_seconds", "best_iteration", "iterations"]
    assert set(required) <= set(rows[0])
    genseg = next(r for r in rows if r["method"] == "genseg" and r["seed"] == "2" and r["test_set"] == "ph2"
                  and r["n_labeled"] == "40")
    assert genseg["in_domain"] == "false" and genseg["solver"] == "unroll" and genseg["val_dice"] == "0.75"
    assert float(genseg["dice"]) == pytest.approx(0.73) and genseg["wall_seconds"] == "102.0"
    none = next(r for r in rows if r["method"] == "none" and r["test_set"] == "isic2018")
    assert none["in_domain"] == "true" and none["solver"] == ""


def test_results_md_mean_sd_and_paired_differences(bench_dir):
    text = aggregate(bench_dir).markdown.read_text()
    assert "## isic · unet · n_labeled 40" in text
    assert "image size 64; iterations 100; seeds 0, 1, 2; solver genseg: unroll." in text
    # none on isic2018: 0.80, 0.82, 0.84 -> 0.820 ± 0.020; jaccard 0.2 lower; hd95 10 * (1 - dice)
    assert table_row(text, "| isic2018 (n=50) | in-domain | none | 3 |") == (
        "| isic2018 (n=50) | in-domain | none | 3 | 0.820 ± 0.020 | 0.620 ± 0.020 | 1.800 ± 0.200 |"
    )
    genseg_ood = table_row(text, "| ph2 (n=20) | OOD | genseg | 3 |")
    assert genseg_ood.startswith("| ph2 (n=20) | OOD | genseg | 3 | 0.743 ± 0.012 |")
    assert "Best classic augmentation by mean validation dice: **flip** (flip 0.900, combine 0.800)." in text
    # genseg - none per seed: +0.05, +0.03, -0.01 -> mean +0.023, 3-seed interval = range, better on 2 of 3
    assert table_row(text, "| isic2018 | in-domain | genseg | none (baseline) | 3 |") == (
        "| isic2018 | in-domain | genseg | none (baseline) | 3 | +0.023 [-0.010, +0.050] | "
        "+0.023 [-0.010, +0.050] | 2/3 |"
    )
    # genseg - flip (best classic on validation): +0.06, +0.05, +0.02
    assert table_row(text, "| isic2018 | in-domain | genseg | flip (best classic) |").startswith(
        "| isic2018 | in-domain | genseg | flip (best classic) | 3 | +0.043 [+0.020, +0.060] |"
    )
    assert "| none | flip (best classic)" not in text  # the baseline is not compared with the classic reference
    assert "Mean wall time per run: none 101 s · flip 101 s · combine 101 s · genseg 101 s." in text
    assert "| vs | seeds | Δ dice [95% CI] | Δ jaccard [95% CI] | better dice |" in text
    assert "exactly the range of the differences" in text
    assert "Not finished (left out): isic-unet-genseg-n40-s3." in text
    # a single seed: no interval
    assert table_row(text, "| isic2018 | in-domain | genseg | none (baseline) | 1 |") == (
        "| isic2018 | in-domain | genseg | none (baseline) | 1 | +0.000 [n/a] | +0.000 [n/a] | 0/1 |"
    )


def test_plots_are_written_and_linked(bench_dir):
    result = aggregate(bench_dir)
    names = sorted(p.name for p in result.plots)
    assert names == ["bars-isic-unet-n10-dice.png", "bars-isic-unet-n40-dice.png", "curves-isic-unet-dice.png"]
    for path in result.plots:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    text = result.markdown.read_text()
    assert "(plots/bars-isic-unet-n40-dice.png)" in text and "(plots/curves-isic-unet-dice.png)" in text


def test_options_choose_the_metric_and_the_references(bench_dir):
    options = AggregateOptions(metric="jaccard", compare=compare_options(FAKE_RECORDS, baseline="combine",
                                                                         candidates=("none",), resamples=200))
    result = aggregate(bench_dir, options)
    text = result.markdown.read_text()
    assert "| genseg | combine (baseline) |" in text and "better jaccard" in text
    assert "Best classic augmentation by mean validation dice: **none**" in text
    assert sorted(p.name for p in result.plots)[0] == "bars-isic-unet-n10-jaccard.png"
    assert not (bench_dir / "plots" / "bars-isic-unet-n10-dice.png").exists()  # stale figures are removed


def test_out_of_domain_from_metrics_or_for_old_runs_from_the_records():
    tests = {"test": {"kvasir_seg": {}, "cvc_clinicdb": {}}}
    assert in_domain_flags({**tests, "out_of_domain": ["kvasir_seg"]}, FAKE_RECORDS) == {
        "kvasir_seg": False, "cvc_clinicdb": True}
    assert in_domain_flags(tests, FAKE_RECORDS) == {"kvasir_seg": True, "cvc_clinicdb": True}  # nothing declared
    legacy = replace(FAKE_RECORDS, legacy_out_of_domain=("cvc_clinicdb",))
    assert in_domain_flags(tests, legacy) == {"kvasir_seg": True, "cvc_clinicdb": False}
    assert in_domain_flags({**tests, "out_of_domain": []}, legacy) == {"kvasir_seg": True, "cvc_clinicdb": True}


def test_nothing_to_aggregate(tmp_path):
    with pytest.raises(DataError, match=r"holds no finished run with test metrics .* run the grid first"):
        aggregate(tmp_path)


def test_unknown_metric(bench_dir):
    with pytest.raises(UnknownNameError, match=r"Did you mean 'dice'\?"):
        aggregate(bench_dir, AggregateOptions(metric="dcie"))


def test_two_runs_of_the_same_point_are_refused(tmp_path):
    make_run(tmp_path, "none", 0, 0.8)
    twin = make_run(tmp_path, "none", 1, 0.8)
    for name in ("config.json", "metrics.json"):  # a copy of the seed-0 run under another name
        saved = json.loads((twin / name).read_text())
        (twin / name).write_text(json.dumps({**saved, "seed": 0}))
    with pytest.raises(DataError, match=r"both hold none, seed 0 of the same setting"):
        aggregate(tmp_path)


def test_a_broken_metrics_file_names_itself(tmp_path):
    run_dir = make_run(tmp_path, "none", 0, 0.8)
    (run_dir / "metrics.json").write_text("{")
    with pytest.raises(DataError, match=r"metrics.json is not valid JSON .* delete its run directory"):
        aggregate(tmp_path)


def test_best_classic_is_chosen_over_the_seeds_every_candidate_ran(tmp_path):
    # flip is better on validation on seeds 0-2; seeds 3-5 of combine alone (other splits) score lower. Over all of
    # its own seeds combine's mean would be 0.5 and flip's 0.6; over the common seeds combine (0.8) wins.
    for seed in range(3):
        make_run(tmp_path, "flip", seed, 0.8, val=0.6)
        make_run(tmp_path, "combine", seed, 0.8, val=0.8)
    for seed in range(3, 6):
        make_run(tmp_path, "combine", seed, 0.8, val=0.2)
    text = aggregate(tmp_path).markdown.read_text()
    assert ("Best classic augmentation by mean validation dice over seeds 0, 1, 2, those every candidate ran: "
            "**combine** (combine 0.800, flip 0.600).") in text
    assert table_row(text, "| isic2018 | in-domain | flip | combine (best classic) |").startswith(
        "| isic2018 | in-domain | flip | combine (best classic) | 3 |")
