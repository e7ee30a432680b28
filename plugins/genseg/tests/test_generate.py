"""``dgen generate``: synthetic pairs from a finished tiny GenSeg run, as a folder and as an nnU-Net v2 dataset."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from dgen.checkpoint import load_weights
from dgen.cli import app, load_plugin_commands
from dgen.run import run_pipeline
from dgen_genseg.gan.losses import from_tanh_range, to_tanh_range
from dgen_genseg.generate import generate, load_generator_run

TINY = {
    "task": "shapes", "n_labeled": 6, "image_size": 32, "num_downs": 3, "ngf": 4, "ndf": 4, "iterations": 2,
    "warmup_iterations": 1, "val_every": 1, "backbone_options": {"encoder": "resnet18", "encoder_depth": 3},
    "sample_mode": "eval",  # each image is G(its mask), deterministically; train mode: test_generate_samples_in_the_runs_mode
}
runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("generate") / "run"
    run_pipeline("genseg", TINY, out=out, device="cpu", progress=False)
    return out


def invoke(*args: str):
    load_plugin_commands()
    return runner.invoke(app, [str(a) for a in args])


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def test_folder_format_pairs_generated_images_with_augmented_training_masks(run_dir, tmp_path):
    result = invoke("generate", run_dir, "--n", "18", "--out", tmp_path / "synth", "--seed", "1", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "wrote 18 pairs (folder)" in result.output
    out = tmp_path / "synth"
    names = sorted(p.name for p in (out / "images").iterdir())
    assert names == sorted(p.name for p in (out / "masks").iterdir()) == [f"synth_{i:05d}.png" for i in range(18)]
    manifest = json.loads((out / "generation.json").read_text())
    train_ids = json.loads((run_dir / "split.json").read_text())["train"]
    assert len(manifest["sources"]) == 18 and set(manifest["sources"].values()) <= set(train_ids)
    run = load_generator_run(run_dir, torch.device("cpu"))
    for key, value in load_weights(run_dir / "generator.safetensors").items():  # the trained weights, not a fresh init
        torch.testing.assert_close(run.generator.state_dict()[key], value, rtol=0, atol=0)
    masks = np.stack([_pixels(out / "masks" / n) for n in names])  # (N, H, W)
    assert set(np.unique(masks)) <= {0, 255}
    images = np.stack([_pixels(out / "images" / n) for n in names])  # (N, H, W, 3)
    assert images.shape == (18, 32, 32, 3)
    condition = torch.from_numpy(masks[:, None] / 255.0).float()  # (N, 1, H, W)
    with torch.no_grad():
        expected = from_tanh_range(run.generator(to_tanh_range(condition))).clamp(0, 1)  # (N, 3, H, W)
    written = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    torch.testing.assert_close(written, expected, rtol=0, atol=0.5 / 255 + 1e-6)  # each image is G(its mask)


def test_same_seed_same_pairs_other_seed_other_pairs(run_dir, tmp_path):
    for name, seed in (("a", 0), ("b", 0), ("c", 5)):
        generate(run_dir, 4, tmp_path / name, seed=seed, device="cpu")
    first = [_pixels(tmp_path / d / "masks" / "synth_00000.png") for d in "abc"]
    assert np.array_equal(first[0], first[1]) and not np.array_equal(first[0], first[2])


def test_nnunet_format_passes_a_structural_check(run_dir, tmp_path):
    out = tmp_path / "Dataset501_Shapes"
    result = invoke("generate", run_dir, "--n", "7", "--out", out, "--format", "nnunet", "--device", "cpu")
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "dataset.json").read_text())
    assert {"channel_names", "labels", "numTraining", "file_ending"} <= set(meta)
    assert meta["channel_names"] == {"0": "R", "1": "G", "2": "B"}
    assert meta["labels"] == {"background": 0, "foreground": 1}
    assert meta["numTraining"] == 7 and meta["file_ending"] == ".png"
    labels = sorted((out / "labelsTr").iterdir())
    cases = [p.name[: -len(".png")] for p in labels]
    assert len(cases) == 7 and all(re.fullmatch(r"synth_\d{5}", c) for c in cases)
    assert sorted(p.name for p in (out / "imagesTr").iterdir()) == [f"{c}_0000.png" for c in cases]
    for case in cases:
        label, image = Image.open(out / "labelsTr" / f"{case}.png"), Image.open(out / "imagesTr" / f"{case}_0000.png")
        assert label.mode == "L" and image.mode == "RGB" and label.size == image.size == (32, 32)
        assert set(np.unique(np.asarray(label))) <= {0, 1}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: (d / "config.json").unlink(), "is not a run directory (no config.json)"),
        (lambda d: (d / "metrics.json").unlink(), "the run has not finished; finish it with `dgen run genseg --resume"),
        (lambda d: (d / "generator.safetensors").unlink(), "has no generator.safetensors although the run finished"),
        (lambda d: _set_option(d, method="none"), "trained with method 'none', which has no generator"),
        (lambda d: _set_option(d, ngf=8), "does not fit the generator built from config.json"),
    ],
    ids=["no-config", "unfinished", "no-generator", "baseline-method", "other-generator"],
)
def test_unusable_run_directories_are_one_line_errors(run_dir, tmp_path, change, message):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    change(copy)
    result = invoke("generate", copy, "--n", "2", "--out", tmp_path / "out", "--device", "cpu")
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def _set_option(run_dir: Path, **values) -> None:
    config = json.loads((run_dir / "config.json").read_text())
    (run_dir / "config.json").write_text(json.dumps({**config, **values}))


def test_existing_output_bad_count_and_bad_format_are_refused(run_dir, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    for args, message in (
        (("--out", tmp_path / "full"), "already exists and is not an empty folder"),
        (("--out", tmp_path / "new", "--format", "coco"), "unknown output format 'coco'"),
        (("--out", tmp_path / "new", "--n", "0"), "--n 0 is invalid"),
    ):
        result = invoke("generate", run_dir, "--n", "2", *args)
        assert result.exit_code == 1 and message in result.output, result.output
    assert (tmp_path / "full" / "keep.txt").read_text() == "x" and not (tmp_path / "new").exists()


def test_generate_samples_in_the_runs_mode(run_dir, tmp_path):
    """Without ``sample_mode`` a genseg run samples in train mode (its segmenter's): dropout, seeded by ``--seed``."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    _set_option(copy, sample_mode=None)
    assert load_generator_run(run_dir, torch.device("cpu")).mode == "eval"
    assert load_generator_run(copy, torch.device("cpu")).mode == "train"
    written, masks = {}, {}
    for name, source, seed in (("eval", run_dir, 3), ("train", copy, 3), ("train_again", copy, 3), ("other", copy, 4)):
        generate(source, 4, tmp_path / name, seed=seed, device="cpu")
        written[name] = np.stack([_pixels(p) for p in sorted((tmp_path / name / "images").iterdir())])
        masks[name] = np.stack([_pixels(p) for p in sorted((tmp_path / name / "masks").iterdir())])
    np.testing.assert_array_equal(masks["train"], masks["eval"])  # the same masks (the seed's), other images
    assert np.abs(written["train"].astype(int) - written["eval"].astype(int)).max() > 10
    np.testing.assert_array_equal(written["train"], written["train_again"])  # reproducible
    assert not np.array_equal(written["train"], written["other"])
