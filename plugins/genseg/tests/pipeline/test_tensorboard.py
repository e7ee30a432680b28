"""TensorBoard logging beside the CSV log: scalars, α entropy per cell, image grids; nothing without tensorboard."""

from __future__ import annotations

import math
import sys
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from dgen.search import arch_entropy
from dgen_genseg.augment import Flip
from dgen_genseg.gan import Pix2PixGenerator
from dgen_genseg.pipeline.tensorboard import TENSORBOARD_DIR, tensorboard_log


def _events(log_dir):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def _trainer() -> SimpleNamespace:
    """What the logger reads of a GenSeg trainer: segmenter, training pairs, generator and augmenter."""
    torch.manual_seed(0)
    masks = (torch.rand(6, 1, 8, 8) > 0.5).float()  # (B, 1, H, W)
    return SimpleNamespace(
        segmenter=nn.Conv2d(3, 1, 1), train=SimpleNamespace(images=torch.rand(6, 3, 8, 8), masks=masks),
        generator=Pix2PixGenerator(ngf=2, num_downs=2, max_mult=2), augmenter=Flip(),
    )


def test_scalars_entropies_and_grids_read_back(tmp_path):
    pytest.importorskip("tensorboard")
    trainer = _trainer()
    with torch.no_grad():
        trainer.generator.down[0].conv.alpha.copy_(torch.tensor([3.0, 0.0, 0.0]))  # one decided cell
    rows = [
        {"disc": 0.7, "gen": 5.0, "seg": math.nan, "seg_lr": 1e-3},
        {"disc": 0.6, "gen": 4.0, "seg": 0.9, "arch": 0.8, "arch_grad_norm": 0.01, "val_dice": 0.5, "val_jaccard": 0.3},
    ]
    rng = torch.get_rng_state()
    with tensorboard_log(tmp_path) as board:
        assert board is not None
        for iteration, row in enumerate(rows):
            board.log(iteration, row, trainer)
    assert torch.equal(torch.get_rng_state(), rng) and trainer.generator.training  # logging changes nothing
    events = _events(tmp_path / TENSORBOARD_DIR)
    scalars = set(events.Tags()["scalars"])
    assert {"loss/disc", "loss/gen", "loss/seg", "loss/arch", "hypergrad_norm/arch", "val/dice", "val/jaccard",
            "lr/seg"} <= scalars
    assert [(e.step, e.value) for e in events.Scalars("loss/seg")] == [(1, pytest.approx(0.9))]  # NaN left out
    assert [e.step for e in events.Scalars("loss/gen")] == [0, 1]
    entropies = arch_entropy(trainer.generator)
    assert {f"arch_entropy/{path}" for path in entropies} <= scalars and len(entropies) == 4  # 2 down + 2 up cells
    decided = events.Scalars("arch_entropy/down.0.conv")[-1].value
    assert decided == pytest.approx(entropies["down.0.conv"], rel=1e-6) and decided < math.log(3) - 0.5
    assert set(events.Tags()["images"]) == {"samples", "predictions"}
    assert [e.step for e in events.Images("samples")] == [1]  # grids at validation iterations only


def test_resume_drops_events_after_the_checkpoint(tmp_path):
    pytest.importorskip("tensorboard")
    trainer = SimpleNamespace()
    with tensorboard_log(tmp_path) as board:
        for iteration in range(5):
            board.log(iteration, {"seg": float(iteration)}, trainer)
    with tensorboard_log(tmp_path, resume_from=3) as board:
        board.log(3, {"seg": 30.0}, trainer)
    steps = {e.step: e.value for e in _events(tmp_path / TENSORBOARD_DIR).Scalars("loss/seg")}
    assert steps == {0: 0.0, 1: 1.0, 2: 2.0, 3: 30.0}


def test_without_tensorboard_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    with tensorboard_log(tmp_path) as board:
        assert board is None
    assert not (tmp_path / TENSORBOARD_DIR).exists()


def test_a_genseg_run_logs_to_tensorboard_and_trains_the_same_without_it(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from dgen.run import run_pipeline

    torch.set_num_threads(1)
    tiny = {"task": "shapes", "n_labeled": 6, "image_size": 32, "num_downs": 3, "ngf": 4, "ndf": 4, "iterations": 2,
            "warmup_iterations": 1, "val_every": 1, "backbone_options": {"encoder": "resnet18", "encoder_depth": 3}}
    run_pipeline("genseg", tiny, out=tmp_path / "with", device="cpu", progress=False)
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "torch.utils.tensorboard", None)
        run_pipeline("genseg", tiny, out=tmp_path / "without", device="cpu", progress=False)
    assert not (tmp_path / "without" / TENSORBOARD_DIR).exists()
    assert (tmp_path / "with" / "log.csv").read_text() == (tmp_path / "without" / "log.csv").read_text()
    events = _events(tmp_path / "with" / TENSORBOARD_DIR)
    scalars = events.Tags()["scalars"]
    assert {"loss/disc", "loss/gen", "loss/seg", "loss/arch", "val/dice", "lr/seg"} <= set(scalars)
    assert sum(tag.startswith("arch_entropy/") for tag in scalars) == 6  # num_downs 3: 3 down + 3 up cells
    assert [e.step for e in events.Scalars("loss/arch")] == [1, 2]  # after the warm-up iteration 0
    assert set(events.Tags()["images"]) == {"samples", "predictions"}
