"""Native-resolution scoring, ``dgen predict``, ``load_segmenter`` and ``dgen evaluate`` on a folder task whose
images have many sizes (and, marked slow, on PH2 at its own sizes)."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from dgen.cli import app, load_plugin_commands
from dgen.errors import ConfigError, DataError
from dgen.run import run_pipeline
from dgen_genseg import load_segmenter
from dgen_genseg.predict import predict_images

#: (height, width) of the pairs of the synthetic folder: no two alike, none square, none 32.
SIZES = [(40 + 3 * i, 70 - 2 * i) if i % 2 else (58 - 2 * i, 37 + 3 * i) for i in range(16)]
TINY = {
    "task": "folder", "method": "none", "preset": "cpu", "n_labeled": 6, "image_size": 32, "iterations": 4,
    "val_every": 2, "checkpoint_every": 2,
    "backbone_options": {"encoder": "tu-resnet10t", "encoder_depth": 3, "decoder_channels": [16, 8, 4]},
}
runner = CliRunner()


def invoke(*args: object):
    load_plugin_commands()
    return runner.invoke(app, [str(a) for a in args])


def _one_line(result) -> str:
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def _write_pairs(root: Path) -> Path:
    """``root/images/case_XX.png`` (RGB) + ``root/masks/case_XX.png`` (0/255): a bright ellipse on noise."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, (h, w) in enumerate(SIZES):
        y, x = np.mgrid[:h, :w]
        cy, cx, ry, rx = h * rng.uniform(0.35, 0.65), w * rng.uniform(0.35, 0.65), h * 0.25, w * 0.3
        mask = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1
        image = rng.uniform(0, 90, (h, w, 3)) + mask[..., None] * np.array([150, 90, 40])
        Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(root / "images" / f"case_{i:02d}.png")
        Image.fromarray(mask.astype(np.uint8) * 255).save(root / "masks" / f"case_{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return _write_pairs(tmp_path_factory.mktemp("varied") / "blobs")


@pytest.fixture(scope="module")
def run_dir(data, tmp_path_factory) -> Path:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("run") / "run"
        run_pipeline("genseg", {**TINY, "data_dir": str(data)}, out=out, device="cpu", progress=False)
    finally:
        torch.set_num_threads(threads)
    return out


def _test_stems(run_dir: Path) -> list[str]:
    return json.loads((run_dir / "split.json").read_text())["blobs"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_metrics_json_scores_test_images_at_their_own_size(run_dir, data):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test_resolution"] == "native" and metrics["channels"] == 3 and metrics["image_size"] == 32
    stems = _test_stems(run_dir)
    assert set(metrics["test"]) == set(metrics["test_at_image_size"]) == {"blobs"}
    assert metrics["test"]["blobs"]["n"] == metrics["test_at_image_size"]["blobs"]["n"] == len(stems) == 8
    rows = _rows(run_dir / "test_cases.csv")
    assert [r["case"] for r in rows] == stems and {r["set"] for r in rows} == {"blobs"}
    for row in rows:  # each case at the size of its own mask
        assert (int(row["height"]), int(row["width"])) == _pixels(data / "masks" / f"{row['case']}.png").shape
    for key in ("dice", "jaccard", "hd95"):
        assert np.mean([float(r[key]) for r in rows]) == pytest.approx(metrics["test"]["blobs"][key], abs=1e-12)
    assert metrics["test"]["blobs"] != metrics["test_at_image_size"]["blobs"]  # another resolution, other numbers


def test_predict_writes_masks_at_each_size_and_reproduces_the_runs_native_scores(run_dir, data, tmp_path):
    stems = _test_stems(run_dir)
    images = [data / "images" / f"{s}.png" for s in stems]
    result = invoke("predict", run_dir, *images, "--masks", data / "masks", "--out", tmp_path / "pred",
                    "--probabilities", "--device", "cpu")
    assert result.exit_code == 0, result.output
    out = tmp_path / "pred"
    assert sorted(p.name for p in (out / "masks").iterdir()) == sorted(f"{s}.png" for s in stems)
    metrics = json.loads((run_dir / "metrics.json").read_text())["test"]["blobs"]
    summary = json.loads((out / "summary.json").read_text())
    rows = {r["case"]: r for r in _rows(out / "scores.csv")}
    cases = {r["case"]: r for r in _rows(run_dir / "test_cases.csv")}
    assert set(rows) == set(stems) and summary["mean"]["n"] == 8
    for key in ("dice", "jaccard", "hd95"):
        assert summary["mean"][key] == pytest.approx(metrics[key], abs=1e-6)
    for stem in stems:
        truth = _pixels(data / "masks" / f"{stem}.png") > 0
        mask = _pixels(out / "masks" / f"{stem}.png")
        assert mask.shape == truth.shape == _pixels(data / "images" / f"{stem}.png").shape[:2]
        assert set(np.unique(mask)) <= {0, 255}
        pred = mask > 0  # Dice of the written file, by hand, equals the run's per-case native Dice
        dice = 2 * (pred & truth).sum() / (pred.sum() + truth.sum())
        assert float(rows[stem]["dice"]) == pytest.approx(dice) == pytest.approx(float(cases[stem]["dice"]), abs=1e-6)
        probabilities = _pixels(out / "probabilities" / f"{stem}.png")
        assert probabilities.dtype == np.uint16 and probabilities.shape == truth.shape
        assert np.mean((probabilities > 32767.5) == pred) > 0.99  # the mask is p > 0.5 (rounding at the edge aside)
    assert "mean at each image's size" in result.output


def test_folders_and_unmatched_images_and_masks_are_reported(run_dir, data, tmp_path):
    masks = tmp_path / "some_masks"
    masks.mkdir()
    for stem in ("case_00", "case_01"):
        shutil.copy(data / "masks" / f"{stem}.png", masks)
    shutil.copy(data / "masks" / "case_02.png", masks / "stray.png")
    result = invoke("predict", run_dir, data / "images", "--masks", masks, "--out", tmp_path / "pred", "--device", "cpu")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "wrote 16 masks" in text
    assert "14 image(s) have no mask" in text and "case_15" in text
    assert "1 mask(s) in" in text and "stray.png" in text
    summary = json.loads((tmp_path / "pred" / "summary.json").read_text())
    assert summary["mean"]["n"] == 2 and len(summary["images_without_mask"]) == 14
    assert [r["case"] for r in _rows(tmp_path / "pred" / "scores.csv")] == ["case_00", "case_01"]
    assert not (tmp_path / "pred" / "probabilities").exists()


def test_load_segmenter_predicts_at_the_images_size(run_dir, data, tmp_path):
    segmenter = load_segmenter(run_dir, device="cpu")
    assert segmenter.image_size == 32 and segmenter.channels == 3 and not segmenter.model.training
    path = data / "images" / "case_03.png"
    mask = segmenter.predict(path)
    assert mask.dtype == bool and mask.shape == SIZES[3]
    pixels = torch.from_numpy(_pixels(path).transpose(2, 0, 1) / 255.0)  # (3, H, W) float64 in [0, 1]
    np.testing.assert_array_equal(segmenter.predict(pixels.float()), mask)
    probabilities = segmenter.probabilities(path)
    assert probabilities.shape == SIZES[3] and np.array_equal(probabilities > 0.5, mask)
    predict_images(run_dir, [path], tmp_path / "out", device="cpu")
    np.testing.assert_array_equal(_pixels(tmp_path / "out" / "masks" / "case_03.png") > 0, mask)
    with pytest.raises(ConfigError, match=r"pass a file, or float pixels \(C, H, W\)"):
        segmenter.predict(np.zeros((4, 5, 6), dtype=np.float32))


def test_a_run_from_before_native_scoring_is_loaded_through_its_task(run_dir, data, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    metrics = json.loads((old / "metrics.json").read_text())
    del metrics["channels"]  # not recorded then: the task says how many channels the images have
    (old / "metrics.json").write_text(json.dumps(metrics))
    segmenter = load_segmenter(old, device="cpu")
    assert segmenter.channels == 3
    path = data / "images" / "case_05.png"
    np.testing.assert_array_equal(segmenter.predict(path), load_segmenter(run_dir, device="cpu").predict(path))


@pytest.mark.parametrize(
    "case, message",
    [
        ("not-a-run", "is not a run directory (no config.json); pass a directory written by `dgen run genseg`"),
        ("no-segmenter", "has no segmenter.safetensors although the run finished; use an intact run directory"),
        ("unfinished", "the run has not finished; finish it with `dgen run genseg --resume"),
        ("unreadable-image", "broken.png: not an image file"),
        ("full-out", "already exists and is not an empty folder; choose a new --out or empty it"),
        ("missing-image", "nowhere.png does not exist; check the path"),
        ("mask-size", "but its image"),
        ("no-match", "has the stem of an image (masks like stray; images like case_00, case_01); name each mask"),
        ("bad-device", "names device 'abacus', not a torch device"),
    ],
)
def test_bad_input_is_one_line_naming_the_file_and_the_fix(run_dir, data, tmp_path, case, message):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    images = [data / "images" / "case_00.png", data / "images" / "case_01.png"]
    out = tmp_path / "out"
    args: list[object] = []
    if case == "not-a-run":
        run = data
    elif case == "no-segmenter":
        (run / "segmenter.safetensors").unlink()
    elif case == "unfinished":
        (run / "metrics.json").unlink()
    elif case == "unreadable-image":
        (tmp_path / "broken.png").write_text("<html>not found</html>")
        images.append(tmp_path / "broken.png")
    elif case == "full-out":
        out.mkdir()
        (out / "mine.txt").write_text("keep")
    elif case == "missing-image":
        images.append(tmp_path / "nowhere.png")
    elif case == "mask-size":
        masks = tmp_path / "masks"
        masks.mkdir()
        Image.fromarray(np.zeros((5, 5), np.uint8)).save(masks / "case_01.png")
        args = ["--masks", masks]
    elif case == "no-match":
        (tmp_path / "masks").mkdir()
        shutil.copy(data / "masks" / "case_00.png", tmp_path / "masks" / "stray.png")
        args = ["--masks", tmp_path / "masks"]
    elif case == "bad-device":
        metrics = json.loads((run / "metrics.json").read_text())
        (run / "metrics.json").write_text(json.dumps({**metrics, "device": "abacus"}))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    text = _one_line(invoke("predict", run, *images, "--out", out, *args, "--device", "cpu"))
    assert message in text
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before  # nothing written, nothing lost
    assert case == "full-out" or not out.exists()


def test_evaluate_rescores_an_old_run_exactly_as_a_new_run_scores_itself(run_dir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    new_metrics = json.loads((run_dir / "metrics.json").read_text())
    legacy = {k: v for k, v in new_metrics.items() if k not in ("test_at_image_size", "test_resolution", "channels")}
    legacy["test"] = new_metrics["test_at_image_size"]  # what a run wrote before native scoring
    (old / "metrics.json").write_text(json.dumps(legacy))
    (old / "test_cases.csv").unlink()
    result = invoke("evaluate", old, tmp_path / "not_a_run", "--device", "cpu")
    assert result.exit_code == 1  # one run could not be re-scored; the other was
    text = " ".join(result.output.split())
    assert "not_a_run is not a run directory" in text and "1 of 2 run(s) could not be re-scored" in text
    assert "blobs" in text and f"{new_metrics['test']['blobs']['dice']:.4f}" in text
    rescored = json.loads((old / "metrics.json").read_text())
    assert rescored == new_metrics  # same keys, same numbers: native, at image size, resolution, channels
    assert (old / "test_cases.csv").read_text() == (run_dir / "test_cases.csv").read_text()
    again = invoke("evaluate", old, "--device", "cpu")  # idempotent
    assert again.exit_code == 0, again.output
    assert json.loads((old / "metrics.json").read_text()) == new_metrics


def test_collect_images_refuses_duplicate_stems_and_empty_folders(tmp_path, data):
    from dgen_genseg.predict import collect_images

    (tmp_path / "a").mkdir()
    shutil.copy(data / "images" / "case_00.png", tmp_path / "a" / "case_00.png")
    with pytest.raises(DataError, match="have the same stem 'case_00'"):
        collect_images([data / "images", tmp_path / "a"])
    (tmp_path / "empty" / "images").mkdir(parents=True)
    with pytest.raises(DataError, match=r"holds no image files \(it has an images/ folder: pass"):
        collect_images([tmp_path / "empty"])
    assert collect_images([data / "images" / "case_00.png", data / "images" / "case_00.png"]) == [
        data / "images" / "case_00.png"
    ]


#: the shared development data beside the repository (or $DGEN_DATA_ROOT).
PH2 = Path(os.environ.get("DGEN_DATA_ROOT") or Path(__file__).resolve().parents[4] / "shared" / "data") / "ph2"


@pytest.mark.slow
@pytest.mark.skipif(not PH2.is_dir(), reason=f"PH2 is not at {PH2}")
def test_ph2_predict_at_original_sizes_matches_the_runs_native_metrics(tmp_path):
    run = tmp_path / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        values = {**TINY, "data_dir": str(PH2), "image_size": 64}
        metrics = run_pipeline("genseg", values, out=run, device="cpu", progress=False).metrics
    finally:
        torch.set_num_threads(threads)
    stems = json.loads((run / "split.json").read_text())["ph2"]
    images = [next((PH2 / "images").glob(f"{s}.*")) for s in stems]
    result = invoke("predict", run, *images, "--masks", PH2 / "masks", "--out", tmp_path / "pred", "--device", "cpu")
    assert result.exit_code == 0, result.output
    for path in images:
        assert _pixels(tmp_path / "pred" / "masks" / f"{path.stem}.png").shape == _pixels(path).shape[:2]
    assert {_pixels(p).shape[:2] for p in images} != {(64, 64)}
    summary = json.loads((tmp_path / "pred" / "summary.json").read_text())
    assert summary["mean"]["n"] == metrics["test"]["ph2"]["n"] == len(stems)
    for key in ("dice", "jaccard", "hd95"):
        assert summary["mean"][key] == pytest.approx(metrics["test"]["ph2"][key], abs=1e-6)
