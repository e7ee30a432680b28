"""Each real dataset folder of the shared development data, loaded through its task.

Skipped where the shared data is absent (as on a user's machine).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from dgen_genseg.data import check_dir
from dgen_genseg.tasks import FootUlcerTask, IsicTask, LungTask, PolypTask, RetinaTask

SHARED = Path(__file__).resolve().parents[5] / "shared" / "data"
SLOW = {"kvasir_seg", "cvc_clinicdb"}  # the polyp task reads 900 images (about 2 s)
# dataset folder -> the task that reads it (as its in-domain set or as an out-of-domain test set)
DATASETS = {
    "isic2018": IsicTask,
    "ph2": IsicTask,
    "kvasir_seg": PolypTask,
    "cvc_clinicdb": PolypTask,
    "lung_shenzhen": LungTask,
    "lung_montgomery": LungTask,
    "fuseg": FootUlcerTask,
    "drive": RetinaTask,
    "chase_db1": RetinaTask,
}


@cache
def _splits(task):
    return task(data_root=SHARED, image_size=32).splits()


PARAMS = [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(DATASETS)]


@pytest.mark.parametrize("name", PARAMS)
def test_shared_dataset_loads_through_its_task(name):
    if not (SHARED / name).is_dir():
        pytest.skip(f"shared development data not found at {SHARED / name}")
    splits = _splits(DATASETS[name])
    data = splits.test[name]
    n_pairs = len(list((SHARED / name / "masks").iterdir()))
    if name in splits.out_of_domain:
        assert len(data) == n_pairs  # out-of-domain sets are complete
    else:
        assert len(data) == round(0.5 * n_pairs)  # the fixed in-domain test set (test_fraction 0.5)
        assert not set(splits.ids["train"] + splits.ids["val"]) & set(splits.ids[name])
    channels = 1 if DATASETS[name] is LungTask else 3
    assert data.images.shape[1:] == (channels, 32, 32) and data.masks.shape[1:] == (1, 32, 32)
    assert set(data.masks.unique().tolist()) == {0.0, 1.0} and 0.0 <= data.images.min() and data.images.max() <= 1.0


def test_shared_dataset_passes_the_check():
    folder = SHARED / "lung_montgomery"
    if not folder.is_dir():
        pytest.skip(f"shared development data not found at {folder}")
    assert check_dir(folder, channels=1) == []
