"""The procedural shapes task."""

from __future__ import annotations

import time

import pytest
import torch
from dgen.errors import ConfigError, DataError

from dgen_genseg.tasks import ShapesTask
from dgen_genseg.tasks.shapes_render import IN_DOMAIN, OUT_OF_DOMAIN, render_shape


def test_splits_sizes_ranges_and_binary_masks():
    splits = ShapesTask(n_labeled=9, n_test=5, image_size=32).splits()
    assert (len(splits.train), len(splits.val)) == (7, 2)
    assert set(splits.test) == {"shapes", "shapes_ood"} and splits.out_of_domain == {"shapes_ood"}
    for data in (splits.train, splits.val, *splits.test.values()):
        assert data.images.shape[1:] == (3, 32, 32) and data.masks.shape[1:] == (1, 32, 32)
        assert 0.0 <= data.images.min() and data.images.max() <= 1.0
        assert set(data.masks.unique().tolist()) == {0.0, 1.0}
        fraction = data.masks.mean(dim=(1, 2, 3))
        assert (fraction > 0.01).all() and (fraction < 0.6).all()  # a lesion, never the whole image


def test_deterministic_and_seed_changes_only_labelled_pairs():
    a, b = ShapesTask(n_test=4, image_size=16).splits(), ShapesTask(n_test=4, image_size=16).splits()
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test["shapes"].masks, b.test["shapes"].masks)
    c = ShapesTask(n_test=4, image_size=16, seed=1).splits()
    assert not torch.equal(a.train.masks, c.train.masks)
    assert torch.equal(a.test["shapes"].images, c.test["shapes"].images)
    assert not set(a.ids["train"]) & set(a.ids["shapes"])


def test_out_of_domain_looks_different():
    image_in, _ = render_shape("x:1", 32, IN_DOMAIN)
    image_ood, _ = render_shape("x:1", 32, OUT_OF_DOMAIN)
    assert image_in[2].mean() < image_in[0].mean() and image_ood[2].mean() > image_ood[0].mean()  # beige vs blue


def test_items_render_at_any_size_consistently():
    _, small = render_shape("shapes:s0-0001", 32, IN_DOMAIN)
    _, large = render_shape("shapes:s0-0001", 64, IN_DOMAIN)
    downsampled = torch.nn.functional.avg_pool2d(large.unsqueeze(0), 2).squeeze(0).round()
    assert (downsampled != small).float().mean() < 0.05  # same shape up to boundary pixels


def test_builds_fast():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # CPU time of one thread: stable on a busy machine
    try:
        start = time.process_time()
        ShapesTask().splits()  # 40 labelled + 2 x 64 test at 64 x 64
        elapsed = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    assert elapsed < 1.0


def test_greyscale_and_saved_ids():
    task = ShapesTask(n_labeled=4, n_test=3, image_size=16, channels=1)
    first = task.splits()
    assert first.train.images.shape[1] == 1
    again = ShapesTask(n_labeled=10, n_test=1, image_size=16, channels=1, seed=3).splits(saved=first.ids)
    assert again.ids == first.ids and torch.equal(again.val.images, first.val.images)
    with pytest.raises(DataError, match=r"saved 'train' ids \['ISIC_1'\] are not ids of the shapes task"):
        task.splits(saved={"train": ["ISIC_1"], "val": []})
    with pytest.raises(DataError, match="do not fit the shapes task"):
        task.splits(saved={"train": []})


def test_invalid_options():
    with pytest.raises(ConfigError, match="n_test=0 is invalid"):
        ShapesTask(n_test=0)
    with pytest.raises(ConfigError, match="channels=2 is invalid"):
        ShapesTask(channels=2)
