"""Pairs to tensors: merging, size checks, resizing, the in-memory dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from dgen.errors import ConfigError, DataError
from PIL import Image

from dgen_genseg.data import Pair, PairDataset, load_dataset, load_pair, resize_image, resize_mask
from dgen_genseg.data.pair import fit_image_to_mask


def _png(path, array):
    Image.fromarray(array).save(path)
    return path


def test_resize_mask_is_nearest_at_pixel_centres():
    mask = np.zeros((8, 8), dtype=bool)
    mask[0:4, 0:2] = True  # the centre of output pixel (0, 0) is input pixel (1, 1)
    small = resize_mask(mask, 4)
    assert small.dtype == bool and small.shape == (4, 4)
    assert small.tolist() == [[True, False, False, False]] * 2 + [[False] * 4] * 2


def test_resize_image_is_antialiased_and_in_range():
    stripes = np.tile(np.array([1.0, 0, 0, 0, 1, 0, 0, 0], dtype=np.float32), (3, 8, 1))  # mean 0.25
    small = resize_image(stripes, 2)
    assert small.shape == (3, 2, 2)
    # antialiased: near the local mean (plain bilinear samples between two 0 pixels and gives 0)
    assert 0.15 < small.min() and small.max() < 0.35
    big = resize_image(np.random.default_rng(0).random((3, 5, 7), dtype=np.float32), 11)
    assert big.shape == (3, 11, 11) and 0.0 <= big.min() and big.max() <= 1.0


def test_load_pair_merges_masks_with_or(tmp_path):
    image = _png(tmp_path / "i.png", np.zeros((4, 4, 3), dtype=np.uint8))
    a = np.zeros((4, 4), dtype=np.uint8)
    b = np.zeros((4, 4), dtype=np.uint8)
    a[0, 0], b[3, 3] = 255, 1
    _, mask = load_pair(Pair("s", image, (_png(tmp_path / "a.png", a), _png(tmp_path / "b.png", b))), channels=3)
    assert mask.sum() == 2 and mask[0, 0, 0] == 1 and mask[0, 3, 3] == 1


def test_load_pair_size_mismatch_names_both_files(tmp_path):
    image = _png(tmp_path / "i.png", np.zeros((4, 6, 3), dtype=np.uint8))
    mask = _png(tmp_path / "m.png", np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(DataError, match=r"i.png: image is 6x4 \(WxH\) but its mask .*m.png is 4x4.*nearest neighbour"):
        load_pair(Pair("s", image, (mask,)), channels=3)


def test_load_pair_masks_of_different_sizes(tmp_path):
    image = _png(tmp_path / "i.png", np.zeros((4, 4, 3), dtype=np.uint8))
    a = _png(tmp_path / "a.png", np.zeros((4, 4), dtype=np.uint8))
    b = _png(tmp_path / "b.png", np.zeros((5, 4), dtype=np.uint8))
    with pytest.raises(DataError, match="masks of pair 's' must have one size"):
        load_pair(Pair("s", image, (a, b)), channels=3)


def test_pair_needs_a_mask(tmp_path):
    with pytest.raises(DataError, match="has no mask path"):
        Pair("s", tmp_path / "i.png", ())


def test_fit_image_to_mask_averages_integer_multiples():
    image = np.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_allclose(fit_image_to_mask(image, (2, 2)), [[[2.5, 4.5], [10.5, 12.5]]], rtol=0, atol=1e-12)
    assert fit_image_to_mask(image, (3, 3)) is None and fit_image_to_mask(image, (2, 4)) is None


def test_load_dataset_stacks_in_order(tmp_path):
    pairs = []
    for i in range(3):
        image = _png(tmp_path / f"i{i}.png", np.full((6, 5, 3), 50 * i, dtype=np.uint8))
        mask = np.zeros((6, 5), dtype=np.uint8)
        mask[: i + 1] = 255
        pairs.append(Pair(f"s{i}", image, (_png(tmp_path / f"m{i}.png", mask),)))
    data = load_dataset(pairs, channels=1, size=4)
    assert len(data) == 3 and data.ids == ["s0", "s1", "s2"]
    image, mask = data[2]
    assert image.shape == (1, 4, 4) and mask.shape == (1, 4, 4)
    torch.testing.assert_close(image, torch.full((1, 4, 4), 100 / 255))
    assert data.masks.sum(dim=(1, 2, 3)).tolist() == sorted(data.masks.sum(dim=(1, 2, 3)).tolist())


def test_pair_dataset_checks_lengths():
    with pytest.raises(ConfigError, match="2 images, 1 masks and 2 ids"):
        PairDataset(torch.zeros(2, 3, 4, 4), torch.zeros(1, 1, 4, 4), ["a", "b"])
    with pytest.raises(ConfigError, match="2 images, 2 masks, 2 ids and 1 pairs"):
        PairDataset(torch.zeros(2, 3, 4, 4), torch.zeros(2, 1, 4, 4), ["a", "b"], [Pair("a", Path("a"), (Path("m"),))])


def test_native_mask_is_read_back_at_the_original_size(tmp_path):
    masks = [np.zeros((7, 5), dtype=np.uint8), np.zeros((3, 9), dtype=np.uint8)]
    masks[0][2:5, 1:3] = 255
    masks[1][:, 4] = 255
    pairs = [
        Pair(f"s{i}", _png(tmp_path / f"i{i}.png", np.full((*m.shape, 3), 80, np.uint8)), (_png(tmp_path / f"m{i}.png", m),))
        for i, m in enumerate(masks)
    ]
    data = load_dataset(pairs, channels=3, size=4)
    assert data.pairs == pairs
    for i, mask in enumerate(masks):
        np.testing.assert_array_equal(data.native_mask(i), mask > 0)  # (H, W) of the file, not 4 x 4
    rendered = PairDataset(data.images, data.masks, data.ids)  # no files: the mask at the dataset's size
    np.testing.assert_array_equal(rendered.native_mask(1), data.masks[1, 0].numpy() > 0.5)
