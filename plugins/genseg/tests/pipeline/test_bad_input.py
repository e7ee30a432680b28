"""Bad input is caught before training, with one line naming the file or value and the fix, and
nothing already in the run directory is lost.

Data problems: an interrupted ``--task folder`` run (checkpoint after 3 iterations) has its
dataset damaged, then ``dgen run genseg --resume`` must refuse it and leave the run directory
byte-identical. Option problems: a fresh start into an empty folder the user made must fail and
leave the folder as it was (the ``config.json`` written for the start is removed, the folder kept).
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dgen_genseg.data.synthetic_trees import write_tree
from dgen_genseg.pipeline.loop import Interrupted
from dgen_genseg.pipeline.methods import GenSeg

FOLDER_RUN = {"task": "folder", "data_dir": "data"}


@pytest.fixture(scope="module")
def interrupted(tiny, tmp_path_factory) -> Path:
    """``ROOT/data`` (16 generic pairs, 32 x 32) and ``ROOT/run``, stopped by SIGINT after 3 iterations."""
    root = tmp_path_factory.mktemp("interrupted")
    write_tree("generic", root / "data", n=16, size=32)
    step = GenSeg.step

    def stopped(trainer, iteration):
        if iteration == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return step(trainer, iteration)

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setattr(GenSeg, "step", stopped)
        with pytest.raises(Interrupted):
            tiny.run(Path("run"), **FOLDER_RUN)
    assert {"checkpoint.safetensors", "log.csv", "split.json", "config.json"} <= {p.name for p in (root / "run").iterdir()}
    return root


@pytest.fixture
def work(interrupted, tmp_path, monkeypatch) -> Path:
    """A copy of the interrupted run and its data; the current directory."""
    shutil.copytree(interrupted, tmp_path / "w")
    monkeypatch.chdir(tmp_path / "w")
    return tmp_path / "w"


def _resume_fails(tiny, work: Path) -> str:
    """Resume ``work/run``: the error line; the run directory must be unchanged."""
    before = tiny.snapshot(work / "run")
    line = tiny.error_line(tiny.cli("run", "genseg", "--resume", "run", "--device", "cpu", "--no-progress"))
    assert tiny.snapshot(work / "run") == before
    return line


def _stem(work: Path, i: int = 0) -> str:
    return sorted(p.stem for p in (work / "data" / "images").iterdir())[i]


def _mask(work: Path, stem: str) -> Path:
    return work / "data" / "masks" / f"{stem}.png"


def _image(work: Path, stem: str) -> Path:
    return work / "data" / "images" / f"{stem}.png"


def _one_problem(line: str, path: Path, *fragments: str) -> None:
    assert line.startswith(f"error: 1 problem in data: {path.relative_to(Path.cwd())}: "), line
    assert line.endswith("run `dgen data check data` for the full list"), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)


# -- data: one kind per test -------------------------------------------------------------------

def test_an_image_without_its_mask(tiny, work):
    stem = _stem(work)
    _mask(work, stem).unlink()
    _one_problem(_resume_fails(tiny, work), _image(work, stem), f"image '{stem}' has no mask file; add it")


def test_a_mask_without_its_image(tiny, work):
    stem = _stem(work)
    _image(work, stem).unlink()
    _one_problem(_resume_fails(tiny, work), _mask(work, stem), f"mask '{stem}' has no image; add the image or remove the mask")


def test_an_image_and_mask_of_different_sizes(tiny, work):
    stem = _stem(work)
    Image.new("L", (24, 24), 255).save(_mask(work, stem))
    _one_problem(
        _resume_fails(tiny, work), _image(work, stem),
        "image is 32x32 (WxH) but its mask", "is 24x24 (WxH); resize the mask to the image (nearest neighbour)",
    )


def test_a_mask_with_more_than_two_values_lists_them(tiny, work):
    stem = _stem(work)
    values = np.zeros((32, 32), np.uint8)
    values[:8], values[8:16] = 128, 255
    Image.fromarray(values).save(_mask(work, stem))
    _one_problem(_resume_fails(tiny, work), _mask(work, stem), "mask is not binary: values {0, 128, 255}", "threshold it")


def test_an_rgba_image_with_transparent_pixels(tiny, work):
    stem = _stem(work)
    rgba = np.full((32, 32, 4), 255, np.uint8)
    rgba[:4, :, 3] = 0
    Image.fromarray(rgba).save(_image(work, stem))
    _one_problem(
        _resume_fails(tiny, work), _image(work, stem),
        "RGBA image has 128 transparent pixels (alpha < 255); flatten it onto its background",
    )


def test_a_16_bit_mask_with_several_levels(tiny, work):
    stem = _stem(work)
    values = np.zeros((32, 32), np.uint16)
    values[:8], values[8:16] = 1000, 65535
    Image.fromarray(values).save(_mask(work, stem))
    _one_problem(_resume_fails(tiny, work), _mask(work, stem), "mask is not binary: values {0, 1000, 65535}")


def test_a_palette_mask_with_a_boundary_class(tiny, work):
    """A VOC-style palette mask: background, object (128, 0, 0), boundary (224, 224, 192)."""
    stem = _stem(work)
    indices = np.zeros((32, 32), np.uint8)
    indices[8:24, 8:24], indices[8, 8:24] = 1, 255
    mask = Image.fromarray(indices, "P")
    mask.putpalette([0, 0, 0, 128, 0, 0] + [0, 0, 0] * 253 + [224, 224, 192])
    mask.save(_mask(work, stem))
    _one_problem(_resume_fails(tiny, work), _mask(work, stem), "mask is not binary: values {0, 128, 224}")


def test_a_32_bit_image_outside_16_bits(tiny, work):
    stem = _stem(work)
    _image(work, stem).unlink()
    tiff = _image(work, stem).with_suffix(".tif")
    Image.fromarray(np.full((32, 32), 70000, np.int32)).save(tiff)
    _one_problem(
        _resume_fails(tiny, work), tiff,
        "32-bit integer image with values in [70000, 70000], outside 16 bits; rescale it to 8 or 16 bits",
    )


def test_a_truncated_image(tiny, work):
    stem = _stem(work)
    path = _image(work, stem)
    path.write_bytes(path.read_bytes()[:200])
    _one_problem(_resume_fails(tiny, work), path, "cannot decode the", "re-download or re-export it")


def test_a_file_that_is_not_an_image(tiny, work):
    stem = _stem(work)
    _image(work, stem).write_text("<!DOCTYPE html><html>Access denied</html>")
    _one_problem(
        _resume_fails(tiny, work), _image(work, stem),
        "not an image file (it starts with b'<!DOCTYPE ht')", "a failed download often saves an HTML page",
    )


def test_an_empty_file(tiny, work):
    stem = _stem(work)
    _mask(work, stem).write_bytes(b"")
    _one_problem(_resume_fails(tiny, work), _mask(work, stem), "file is empty (0 bytes); re-download it or delete it")


def test_an_empty_mask(tiny, work):
    stem = _stem(work)
    Image.new("L", (32, 32), 0).save(_mask(work, stem))
    _one_problem(
        _resume_fails(tiny, work), _mask(work, stem),
        f"mask of '{stem}' has no foreground pixel; remove the pair, or allow empty masks",
    )


def test_an_empty_dataset_folder(tiny, work):
    shutil.rmtree(work / "data")
    (work / "data").mkdir()
    assert _resume_fails(tiny, work) == "error: dataset folder data is empty; put the dataset's files in it."


def test_a_dataset_folder_that_is_gone(tiny, work):
    (work / "data").rename(work / "data-moved")
    line = _resume_fails(tiny, work)
    assert line.startswith("error: data_dir data is not a folder; give an existing dataset folder")


def test_fewer_labelled_pairs_than_n_labeled(tiny, work):
    for stem in [_stem(work, i) for i in range(6)]:
        _image(work, stem).unlink()
        _mask(work, stem).unlink()
    line = _resume_fails(tiny, work)
    assert "dataset 'data' (data) has 10 pairs: 5 form the fixed test set" in line
    assert "but n_labeled=6 needs 6 remaining and at least 1 test pair; lower n_labeled or test_fraction, or add data" in line


def test_every_problem_is_counted_and_the_data_check_lists_them_all(tiny, work):
    _mask(work, _stem(work, 0)).write_bytes(b"")
    _image(work, _stem(work, 1)).write_text("not a picture")
    Image.new("L", (32, 32), 0).save(_mask(work, _stem(work, 2)))
    line = _resume_fails(tiny, work)
    assert line.startswith(f"error: 3 problems in data: {Path('data/masks') / _stem(work, 0)}.png: file is empty")
    assert "; ...; run `dgen data check data` for the full list" in line

    listed = tiny.cli("data", "check", "data")
    assert listed.exit_code == 1
    lines = listed.stdout.splitlines()
    assert len([entry for entry in lines if entry.startswith("error: data/")]) == 3
    assert "3 problem(s) in data" in lines[-1]


def test_16_bit_opaque_rgba_and_palette_files_that_are_fine_pass_the_check(tiny, work):
    """The check rejects what cannot be read right, not every unusual format."""
    image16 = (np.linspace(0, 65535, 32 * 32).reshape(32, 32)).astype(np.uint16)
    Image.fromarray(image16).save(_image(work, _stem(work, 0)))
    Image.fromarray(np.full((32, 32, 4), 255, np.uint8)).save(_image(work, _stem(work, 1)))
    indices = np.zeros((32, 32), np.uint8)
    indices[8:24, 8:24] = 1
    mask = Image.fromarray(indices, "P")
    mask.putpalette([0, 0, 0, 255, 255, 255] + [0, 0, 0] * 254)
    mask.save(_mask(work, _stem(work, 2)))
    result = tiny.cli("data", "check", "data")
    assert result.exit_code == 0, result.output
    assert "data: no problems found" in result.stdout


# -- options: a fresh start fails before training and leaves the folder as it was -----------------

@pytest.fixture
def out(tmp_path, monkeypatch) -> Path:
    """An existing empty folder (the user made it for the run), given as --out."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    return tmp_path / "out"


def _start_fails(tiny, out: Path, *args: str, **overrides: str) -> str:
    result = tiny.cli("run", "genseg", "--out", str(out), "--device", "cpu", "--no-progress", *tiny.set_args(**overrides), *args)
    line = tiny.error_line(result)
    assert out.is_dir() and list(out.iterdir()) == []  # the user's folder stays, empty
    return line


def test_an_image_size_the_segmenter_cannot_take_names_the_sizes_it_can(tiny, out):
    line = _start_fails(tiny, out, image_size="36")
    assert line.startswith("error: image_size=36 does not suit every network — segmenter 'unet': input 36x36 is not divisible by 8")
    assert "generator: Pix2PixGenerator with num_downs=3 needs H and W divisible by 2**3 = 8" in line
    assert line.endswith("the nearest sizes every network takes are 32 and 40: use --set image_size=32.")


def test_an_unknown_task(tiny, out):
    line = _start_fails(tiny, out, task="shapez")
    assert line.startswith("error: unknown task 'shapez'. Did you mean 'shapes'? Available: ")


def test_an_unknown_backbone(tiny, out):
    line = _start_fails(tiny, out, "--backbone", "unet3")
    assert line.startswith("error: unknown segmenter 'unet3'. Did you mean 'unet'? Available: ")


def test_an_unknown_method(tiny, out):
    line = _start_fails(tiny, out, method="gensegg")
    assert line.startswith("error: unknown method 'gensegg'. Did you mean 'genseg'? Available: combine, flip, genseg, joint, ")


def test_an_unknown_solver(tiny, out):
    line = _start_fails(tiny, out, solver="unrol")
    assert "unknown value for option 'solver' 'unrol'. Did you mean 'unroll'?" in line


def test_a_solver_that_cannot_train_genseg(tiny, out):
    line = _start_fails(tiny, out, solver="first_order")
    assert "solver 'first_order' cannot train GenSeg" in line and "use --set solver=unroll (exact) or darts" in line


def test_a_data_root_that_does_not_exist(tiny, out, tmp_path):
    line = _start_fails(tiny, out, task="isic", data_root=str(tmp_path / "nowhere"))
    assert f"error: data root {tmp_path / 'nowhere'} (from the data_root argument) is not a folder" in line
    assert "set DGEN_DATA_ROOT" in line


def test_the_folder_task_without_a_folder(tiny, out):
    assert _start_fails(tiny, out, task="folder") == "error: task 'folder' needs data_dir; give it, e.g. --set data_dir=<value>."


def test_an_option_the_task_does_not_take(tiny, out):
    line = _start_fails(tiny, out, data_dir="data")
    assert line.startswith("error: task 'shapes' does not take data_dir (it takes data_root, n_labeled")


def test_a_failed_fresh_start_leaves_no_run_behind(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = tiny.cli("run", "genseg", "--out", "new", "--device", "cpu", *tiny.set_args(task="shapez"))
    tiny.error_line(result)
    assert not (tmp_path / "new").exists()  # so the same command can be run again once fixed


def test_networks_that_cannot_be_built_on_the_meta_device_are_checked_on_the_cpu(tiny, out, monkeypatch):
    from dgen_genseg.pipeline.parts import networks

    original = networks.create

    def meta_refused(kind, name, **kwargs):
        if kind == "segmenters" and torch.empty(0).device.type == "meta":
            raise RuntimeError("this network cannot be built on the meta device")
        return original(kind, name, **kwargs)

    monkeypatch.setattr(networks, "create", meta_refused)
    line = _start_fails(tiny, out, image_size="36")
    assert "image_size=36 does not suit every network" in line
