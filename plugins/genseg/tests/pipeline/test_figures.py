"""The pictures of a run: labelled samples.png / predictions.png with tiles a person can see, and loss-curves.png."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from dgen_genseg.pipeline.artifacts import (
    PREDICTION_COLOUR, TRUTH_COLOUR, predictions_figure, samples_figure, save_predictions, save_samples,
)
from dgen_genseg.pipeline.curves import loss_curves_figure, read_log, save_loss_curves
from dgen_genseg.pipeline.figures import DPI, Column, tile_grid


def _square(size, top, left, height, width):
    """A ``(1, size, size)`` mask with a ``height x width`` block of ones at ``(top, left)``."""
    mask = torch.zeros(1, size, size)
    mask[:, top : top + height, left : left + width] = 1.0
    return mask


def _tile_px(fig):
    """Width and height in pixels of every image tile of ``fig``."""
    fig.canvas.draw()
    return [(ax.get_window_extent().width, ax.get_window_extent().height) for ax in fig.axes]


@pytest.mark.parametrize(("size", "expected"), [(16, 200), (64, 200), (300, 300)])
def test_tiles_are_at_least_200_px_and_never_shrink_an_image(size, expected):
    fig = tile_grid([Column("a", torch.rand(3, 3, size, size)), Column("b", torch.rand(3, 1, size, size))])
    tiles = _tile_px(fig)
    assert len(tiles) == 6
    assert all(w == pytest.approx(expected, abs=1) and h == pytest.approx(expected, abs=1) for w, h in tiles)


def test_a_wide_image_keeps_its_aspect_with_its_short_side_at_200_px():
    (w, h), = _tile_px(tile_grid([Column("a", torch.rand(1, 3, 32, 64))]))
    assert (w, h) == (pytest.approx(400, abs=1), pytest.approx(200, abs=1))


def _predictions():
    truth = _square(16, 4, 4, 4, 4)  # 16 pixels
    half = _square(16, 4, 4, 2, 4)  # 8 of them: Dice 2 * 8 / (16 + 8) = 0.667
    empty = torch.zeros(1, 16, 16)
    images = torch.rand(3, 3, 16, 16)
    return {
        "isic": (images[:2], torch.stack([truth, empty]), torch.stack([half, empty])),  # empty vs empty: Dice 1
        "ph2": (images[2:], torch.stack([truth]), torch.stack([empty])),  # nothing found: Dice 0
    }


def test_predictions_figure_titles_columns_names_rows_and_gives_each_case_its_dice():
    fig = predictions_figure(_predictions())
    axes = np.array(fig.axes).reshape(3, 4)  # rows x columns, in drawing order
    assert [ax.get_title() for ax in axes[0]] == ["image", "ground truth", "prediction", "overlay"]
    assert [ax.get_title() for ax in axes[1:].ravel()] == [""] * 8
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["isic #1", "isic #2", "ph2 #1"]
    assert [ax.get_xlabel() for ax in axes[:, 2]] == ["Dice 0.667", "Dice 1.000", "Dice 0.000"]
    assert "ground truth in cyan, prediction in magenta" in [t.get_text() for t in fig.texts][0]


def test_the_overlay_outlines_the_truth_and_the_prediction_in_their_colours():
    fig = predictions_figure(_predictions())
    overlay = np.array(fig.axes).reshape(3, 4)[:, 3]
    colours = [[tuple(c.get_edgecolor()[0][:3]) for c in ax.collections] for ax in overlay]
    cyan, magenta = (tuple(int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)) for h in (TRUTH_COLOUR, PREDICTION_COLOUR))
    assert colours[0] == [pytest.approx(cyan), pytest.approx(magenta)]
    assert colours[1] == []  # both masks empty: no outline
    assert colours[2] == [pytest.approx(cyan)]  # an empty prediction has none
    assert [len(ax.collections) for ax in np.array(fig.axes).reshape(3, 4)[:, :3].ravel()] == [0] * 9


def test_predictions_figure_shows_at_most_max_rows_cases_per_test_set():
    panels = {"a": (torch.rand(6, 3, 8, 8), torch.zeros(6, 1, 8, 8), torch.zeros(6, 1, 8, 8))}
    fig = predictions_figure(panels, max_rows=2)
    assert [ax.get_ylabel() for ax in fig.axes[::4]] == ["a #1", "a #2"]


def test_samples_figure_columns_with_and_without_the_real_pairs():
    masks = torch.stack([_square(16, 2, 2, 8, 8)] * 10)
    images = torch.rand(10, 3, 16, 16)
    genseg = samples_figure(masks, images, real_images=torch.rand(10, 3, 16, 16), real_masks=masks)
    assert [ax.get_title() for ax in genseg.axes[:4]] == ["real image + its mask", "augmented mask", "generated image",
                                                          "overlay"]
    assert len(genseg.axes) == 8 * 4, "8 rows at most"
    assert len(genseg.axes[0].collections) == 1 and len(genseg.axes[3].collections) == 1  # the two outlines
    wgan = samples_figure(masks[:3], images[:3], mask_title="generated mask")
    assert [ax.get_title() for ax in wgan.axes[:3]] == ["generated mask", "generated image", "overlay"]
    assert len(wgan.axes) == 3 * 3
    assert "generated mask" in wgan.texts[0].get_text()


def test_saved_pngs_have_the_figure_size_with_tiles_of_at_least_192_px(tmp_path):
    save_predictions(tmp_path / "p.png", _predictions())
    save_samples(tmp_path / "s.png", torch.zeros(5, 1, 64, 64), torch.rand(5, 3, 64, 64), real_images=torch.rand(5, 3, 64, 64))
    for name, columns, rows, figure in [
        ("p.png", 4, 3, predictions_figure(_predictions())),
        ("s.png", 4, 5, samples_figure(torch.zeros(5, 1, 64, 64), torch.rand(5, 3, 64, 64), real_images=torch.rand(5, 3, 64, 64))),
    ]:
        width, height = Image.open(tmp_path / name).size
        assert (width, height) == tuple(round(v * DPI) for v in figure.get_size_inches())
        assert width >= columns * 192 and height >= rows * 192


GENSEG_LOG = """iteration,disc,gen,seg,arch,arch_grad_norm,skipped,seg_iteration,val_dice,val_jaccard,seg_lr
0,0.7,40,,,,0,,,,0.001
1,0.6,39,,,,0,,,,0.001
2,0.5,38,3.0,1.2,1.7,0,1,,,0.001
3,0.55,37,nan,1.1,0.02,1,2,0.4,0.3,0.001
4,0.5,36,2.0,1.0,0.01,0,3,,,0.0005
5,0.45,35,1.5,0.9,0.01,0,4,0.8,0.7,0.0005
"""
SUPERVISED_LOG = """iteration,seg,skipped,seg_iteration,val_dice,val_jaccard,seg_lr,grad_clip
0,1.0,0,1,,,0.001,3
1,0.8,0,2,0.5,0.4,0.001,4
2,0.7,0,3,0.6,0.5,0.001,5
"""


def _write(tmp_path, text):
    path = tmp_path / "log.csv"
    path.write_text(text)
    return path


def test_read_log_reads_every_column_with_empty_cells_and_nan_as_nan(tmp_path):
    log = read_log(_write(tmp_path, GENSEG_LOG))
    assert list(log) == GENSEG_LOG.splitlines()[0].split(",")
    assert log["iteration"].tolist() == [0, 1, 2, 3, 4, 5]
    seg = log["seg"]
    assert math.isnan(seg[0]) and math.isnan(seg[3]) and seg[[2, 4, 5]].tolist() == [3.0, 2.0, 1.5]
    assert log["seg_lr"].tolist() == [0.001] * 4 + [0.0005] * 2


def _panels(fig):
    return {ax.get_title(): ax for ax in fig.axes if ax.get_title()}


def test_genseg_log_gets_a_panel_per_loss_and_one_for_validation_with_the_best_dice(tmp_path):
    fig = loss_curves_figure(read_log(_write(tmp_path, GENSEG_LOG)))
    panels = _panels(fig)
    assert list(panels) == [
        "discriminator (wgan: critic) loss", "generator loss", "segmenter loss", "validation loss of α (arch level)",
        "hypergradient norm ‖∇α‖", "segmenter learning rate", "validation score",
    ]
    seg = panels["segmenter loss"].lines[0]
    assert seg.get_xdata().tolist() == [2, 4, 5] and seg.get_ydata().tolist() == [3.0, 2.0, 1.5]  # gaps left out
    validation = panels["validation score"]
    labels = validation.get_legend_handles_labels()[1]
    assert labels == ["dice", "jaccard", "best Dice 0.800 @ 5"]
    assert validation.lines[0].get_xdata().tolist() == [3, 5] and validation.lines[1].get_ydata().tolist() == [0.3, 0.7]
    assert "iteration 2, the end of the GAN warm-up" in fig.get_suptitle()
    assert all(ax.get_xlabel() == "iteration" for ax in panels.values())


def test_a_supervised_log_gets_only_its_own_columns_unknown_ones_by_name(tmp_path):
    fig = loss_curves_figure(read_log(_write(tmp_path, SUPERVISED_LOG)))
    assert list(_panels(fig)) == ["segmenter loss", "segmenter learning rate", "grad_clip", "validation score"]
    assert fig.get_suptitle() == "", "no warm-up: the segmenter trains from the first iteration"


def test_long_logs_are_smoothed_and_an_empty_log_draws_nothing(tmp_path):
    rows = "\n".join(f"{i},{1 + (i % 2)},0,{i + 1},,,0.001" for i in range(400))
    fig = loss_curves_figure(read_log(_write(tmp_path, "iteration,seg,skipped,seg_iteration,val_dice,val_jaccard,seg_lr\n" + rows)))
    seg = _panels(fig)["segmenter loss"]
    assert seg.get_legend_handles_labels()[1] == ["each iteration", "mean of 10"]
    assert seg.lines[1].get_ydata()[20:].tolist() == pytest.approx([1.5] * 380)
    header_only = _write(tmp_path, "iteration,seg,skipped\n")
    assert not save_loss_curves(header_only, tmp_path / "curves.png") and not (tmp_path / "curves.png").exists()


def test_save_loss_curves_writes_a_png(tmp_path):
    assert save_loss_curves(_write(tmp_path, GENSEG_LOG), tmp_path / "loss-curves.png")
    width, height = Image.open(tmp_path / "loss-curves.png").size
    assert width == 1000 and height >= 4 * 280
