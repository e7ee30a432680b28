"""File-backed tasks on tiny fake data roots: datasets, splits, resume, errors."""

from __future__ import annotations

import logging

import pytest
import torch
from dgen.errors import ConfigError, DataError
from dgen.task import Splits, Task

from dgen_genseg.data.synthetic_trees import write_tree
from dgen_genseg.tasks import (
    DATA_ROOT_ENV,
    TASKS,
    FolderTask,
    FootUlcerTask,
    IsicTask,
    LungTask,
    PolypTask,
    RetinaTask,
)

SMALL = {"n_labeled": 4, "image_size": 8}


@pytest.fixture
def root(tmp_path):
    """A data root with every real-data task's datasets, 12 pairs in-domain, 3 out-of-domain."""
    write_tree("isic2018", tmp_path / "isic2018", n=12)
    write_tree("ph2", tmp_path / "ph2")
    write_tree("dermis", tmp_path / "dermis")
    for name in ("lung_shenzhen", "kvasir_seg", "fuseg", "drive"):
        write_tree(name, tmp_path / name, n=12)
    for name in ("lung_montgomery", "cvc_clinicdb", "chase_db1"):
        write_tree(name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(
    ("task", "channels", "in_domain", "ood"),
    [
        (IsicTask, 3, "isic2018", {"ph2", "dermis"}),
        (LungTask, 1, "lung_shenzhen", {"lung_montgomery"}),
        (PolypTask, 3, "kvasir_seg", {"cvc_clinicdb"}),
        (FootUlcerTask, 3, "fuseg", set()),
        (RetinaTask, 3, "drive", {"chase_db1"}),
    ],
)
def test_task_splits(root, task, channels, in_domain, ood):
    assert task.channels == channels  # known before construction
    splits = task(data_root=root, **SMALL).splits()
    assert isinstance(splits, Splits) and type(splits.out_of_domain) is frozenset
    assert set(splits.test) == {in_domain} | ood and splits.out_of_domain == frozenset(ood)
    assert (len(splits.train), len(splits.val), len(splits.test[in_domain])) == (3, 1, 6)
    image, mask = splits.train[0]
    assert image.shape == (channels, 8, 8) and mask.shape == (1, 8, 8)
    assert set(splits.ids) == {"train", "val", in_domain} | ood
    labelled = set(splits.ids["train"]) | set(splits.ids["val"])
    assert len(labelled) == 4 and not labelled & set(splits.ids[in_domain])
    for name in ood:
        assert len(splits.test[name]) == 3


def test_test_set_is_identical_across_seeds_and_n_labeled(root):
    runs = [IsicTask(data_root=root, n_labeled=n, seed=s, image_size=8).plan() for s in (0, 1, 2) for n in (2, 4)]
    assert all(run["isic2018"] == runs[0]["isic2018"] for run in runs)
    assert len({tuple(run["train"]) for run in runs if len(run["train"]) == 3}) > 1  # seeds differ


def test_saved_splits_are_reused_exactly(root):
    task = IsicTask(data_root=root, **SMALL)
    first = task.splits()
    again = IsicTask(data_root=root, n_labeled=4, image_size=8, seed=5).splits(saved=first.ids)
    assert again.ids == first.ids
    assert torch.equal(again.train.images, first.train.images)
    assert torch.equal(again.test["ph2"].masks, first.test["ph2"].masks)


def test_saved_items_that_are_gone_are_named(root):
    saved = IsicTask(data_root=root, **SMALL).plan()
    saved["train"] = saved["train"] + ["ISIC_7777777"]
    with pytest.raises(DataError, match=r"1 saved 'train' items are not in dataset 'isic2018' .*ISIC_7777777"):
        IsicTask(data_root=root, **SMALL).splits(saved=saved)
    with pytest.raises(DataError, match="do not fit this task"):
        IsicTask(data_root=root, **SMALL).splits(saved={"train": [], "val": [], "busi": []})


def test_saved_labelled_items_in_the_test_set_are_refused(root):
    task = IsicTask(data_root=root, **SMALL)
    saved = task.plan()
    saved["train"] = saved["isic2018"][:1]
    with pytest.raises(DataError, match=r"fixed test set.*test_fraction"):
        task.splits(saved=saved)


def test_too_few_pairs_gives_the_count(root):
    with pytest.raises(DataError, match=r"has 12 pairs: 6 form the fixed test set .* 6 remain, but n_labeled=40"):
        IsicTask(data_root=root)


def test_lung_trains_on_jsrt_when_present(root):
    write_tree("generic", root / "jsrt", n=8)  # any layout is accepted for any dataset
    task = LungTask(data_root=root, n_labeled=2, image_size=8)
    assert task.in_domain.name == "jsrt"
    assert [s.name for s in task.out_of_domain] == ["lung_montgomery", "lung_shenzhen"]


def test_absent_out_of_domain_sets_are_skipped_with_a_warning(root, caplog):
    (root / "chase_db1").rename(root / "elsewhere")
    with caplog.at_level(logging.WARNING):
        splits = RetinaTask(data_root=root, **SMALL).splits()
    assert set(splits.test) == {"drive"} and "chase_db1" in caplog.text


def test_data_root_resolution(root, tmp_path_factory, monkeypatch):
    monkeypatch.setenv(DATA_ROOT_ENV, str(root))
    assert PolypTask(**SMALL).in_domain.path == root / "kvasir_seg"
    elsewhere = tmp_path_factory.mktemp("cwd")
    monkeypatch.delenv(DATA_ROOT_ENV)
    monkeypatch.chdir(elsewhere)
    with pytest.raises(DataError, match=r"data root .*data \(from the default ./data\).*DGEN_DATA_ROOT or --data-root"):
        PolypTask(**SMALL)
    (elsewhere / "data").mkdir()
    with pytest.raises(
        DataError,
        match=r"dataset 'kvasir_seg' not found: data/kvasir_seg .*DGEN_DATA_ROOT or --data-root",
    ):
        PolypTask(**SMALL)


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"n_labeled": 1}, "n_labeled=1 is invalid"),
        ({"image_size": 2}, "image_size=2 is invalid"),
        ({"seed": 1.5}, "seed=1.5 is invalid"),
        ({"test_fraction": 1.0}, "test_fraction=1.0 is invalid"),
        ({"test_fraction": "half"}, "test_fraction='half' is invalid"),
    ],
)
def test_invalid_options_fail_at_construction(root, options, pattern):
    with pytest.raises(ConfigError, match=pattern):
        IsicTask(data_root=root, **({"n_labeled": 4} | options))


def test_folder_task_with_out_of_domain_folders(root):
    task = FolderTask(data_dir="kvasir_seg", ood_dirs="cvc_clinicdb", data_root=root, channels=1, **SMALL)
    splits = task.splits()
    assert set(splits.test) == {"kvasir_seg", "cvc_clinicdb"} and splits.out_of_domain == {"cvc_clinicdb"}
    assert splits.train[0][0].shape == (1, 8, 8)
    with pytest.raises(ConfigError, match=r"names \['kvasir_seg'\] clash"):
        FolderTask(data_dir=root / "kvasir_seg", ood_dirs=[root / "kvasir_seg"], **SMALL)
    with pytest.raises(DataError, match=r"data_dir .*nowhere is not a folder"):
        FolderTask(data_dir=root / "nowhere", **SMALL)


def test_task_check_reports_problems_of_all_its_datasets(root):
    task = PolypTask(data_root=root, **SMALL)
    assert task.check() == []
    (root / "cvc_clinicdb" / "CVC-ClinicDB" / "Ground Truth" / "1.tif").write_bytes(b"")
    (problem,) = task.check()
    assert problem.kind == "empty_file" and problem.path.name == "1.tif"


def test_paper_defaults(root):
    assert FootUlcerTask.default_n_labeled == 50
    assert LungTask.default_n_labeled == 9 and IsicTask.default_n_labeled == 40
    assert FootUlcerTask(data_root=root, **SMALL).allow_empty_masks  # FUSeg has photographs without wound
    assert not IsicTask(data_root=root, **SMALL).allow_empty_masks
    assert IsicTask.metric_names[0] == "jaccard"


def test_every_registered_task_is_a_task_with_keyword_options():
    for name, cls in TASKS.items():
        assert issubclass(cls, Task), name
        defaults = cls.__init__.__kwdefaults__
        assert {"n_labeled", "image_size", "seed", "data_root"} <= set(defaults), name
        assert defaults["image_size"] == 64 and defaults["seed"] == 0 and defaults["data_root"] is None, name
