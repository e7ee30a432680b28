"""Layout detection on tiny trees in each official download layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dgen.errors import DataError
from PIL import Image

from dgen_genseg.data import LAYOUTS, LayoutError, detect_layout, find_pairs, load_dataset
from dgen_genseg.data.synthetic_trees import TREE_LAYOUTS, write_tree

# tree written -> layout expected to recognise it
EXPECTED_LAYOUT = {name: name for name in TREE_LAYOUTS} | {"kvasir_seg": "generic", "cvc_clinicdb_png": "cvc_clinicdb"}


def _n(tree: str) -> int:
    return 2 if tree == "jsrt" else 4  # JSRT images are 2048 x 2048 (8 MiB each)


@pytest.mark.parametrize("tree", TREE_LAYOUTS)
def test_each_official_layout_is_detected_and_loaded(tmp_path, tree):
    stems = write_tree(tree, tmp_path, n=_n(tree))
    scan = detect_layout(tmp_path)
    assert scan.layout == EXPECTED_LAYOUT[tree]
    assert [p.stem for p in scan.pairs] == stems
    assert not [p for p in scan.problems if p.severity == "error"]
    data = load_dataset(scan.pairs, channels=3, size=8)
    assert data.images.shape == (len(stems), 3, 8, 8) and data.ids == stems
    assert set(data.masks.unique().tolist()) == {0.0, 1.0}
    assert 0.0 <= data.images.min() and data.images.max() <= 1.0


def test_every_layout_has_a_synthetic_tree():
    assert {layout.name for layout in LAYOUTS} <= set(EXPECTED_LAYOUT.values())


def test_merged_masks_jsrt_montgomery_busi(tmp_path):
    write_tree("jsrt", tmp_path / "jsrt", n=2)
    jsrt = detect_layout(tmp_path / "jsrt").pairs[0]
    assert [p.parent.name for p in jsrt.mask_paths] == ["left lung", "right lung"] and jsrt.image_to_mask_size
    image, mask = load_dataset([jsrt], channels=1, size=16)[0]
    assert image.shape == (1, 16, 16) and mask.shape == (1, 16, 16)
    write_tree("lung_montgomery", tmp_path / "mc")
    assert [p.parent.name for p in detect_layout(tmp_path / "mc").pairs[0].mask_paths] == ["leftMask", "rightMask"]
    write_tree("busi", tmp_path / "busi")
    first = detect_layout(tmp_path / "busi").pairs[0]
    assert first.stem == "benign (1)"
    assert [p.name for p in first.mask_paths] == ["benign (1)_mask.png", "benign (1)_mask_1.png"]


def test_or_merge_of_mask_files(tmp_path):
    write_tree("lung_montgomery", tmp_path, n=1)
    pair = detect_layout(tmp_path).pairs[0]
    left, right = (np.asarray(Image.open(p)) > 0 for p in pair.mask_paths)
    _, mask = load_dataset([pair], channels=1, size=16)[0]
    assert torch.equal(mask[0], torch.from_numpy(left | right).float())


def test_distractors_of_the_downloads_are_not_labels(tmp_path):
    write_tree("drive", tmp_path / "drive")
    assert all(p.mask_paths[0].parent.name == "1st_manual" for p in detect_layout(tmp_path / "drive").pairs)
    write_tree("chase_db1", tmp_path / "chase")
    assert all(p.mask_paths[0].stem.endswith("_1stHO") for p in detect_layout(tmp_path / "chase").pairs)
    write_tree("dermis", tmp_path / "dermis")
    assert "other" not in [p.stem for p in detect_layout(tmp_path / "dermis").pairs]  # dermQuest part ignored
    stems = write_tree("fuseg", tmp_path / "fuseg")
    assert stems[-1].startswith("validation_") and [p.stem for p in detect_layout(tmp_path / "fuseg").pairs] == stems


def test_unlabelled_parts_are_warnings(tmp_path):
    write_tree("isic2018", tmp_path / "isic")
    (warning,) = detect_layout(tmp_path / "isic").problems
    assert warning.severity == "warning" and "Test_GroundTruth" in warning.message
    write_tree("lung_shenzhen", tmp_path / "sz")
    (warning,) = detect_layout(tmp_path / "sz").problems
    assert warning.severity == "warning" and warning.kind == "no_mask" and warning.path.name == "CHNCXR_0999_1.png"


def test_cvc_png_variant_is_preferred(tmp_path):
    write_tree("cvc_clinicdb", tmp_path / "TIF")
    write_tree("cvc_clinicdb_png", tmp_path)
    assert {p.image_path.suffix for p in detect_layout(tmp_path).pairs} == {".png"}


def test_layout_found_below_the_folder(tmp_path):
    write_tree("generic", tmp_path / "download" / "unzipped")
    assert len(find_pairs(tmp_path)) == 3


def test_unpaired_duplicate_and_foreign_files_are_reported(tmp_path):
    write_tree("generic", tmp_path)
    (tmp_path / "masks" / "case000.png").unlink()
    Image.new("L", (4, 4)).save(tmp_path / "masks" / "lonely.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "images" / "case001.jpg")
    (tmp_path / "images" / "notes.zip").write_bytes(b"PK")
    scan = detect_layout(tmp_path)
    kinds = {(p.kind, p.path.name) for p in scan.problems}
    assert kinds == {  # files are visited in sorted order: case001.jpg is kept, case001.png reported
        ("no_mask", "case000.png"),
        ("no_image", "lonely.png"),
        ("duplicate", "case001.png"),
        ("foreign_file", "notes.zip"),
    }
    assert [p.stem for p in scan.pairs] == ["case001", "case002"]


def test_missing_empty_and_unknown_folders(tmp_path):
    with pytest.raises(LayoutError, match="does not exist") as err:
        detect_layout(tmp_path / "nope")
    assert err.value.kind == "missing"
    (tmp_path / "empty").mkdir()
    with pytest.raises(LayoutError, match="is empty") as err:
        detect_layout(tmp_path / "empty")
    assert err.value.kind == "empty_folder"
    (tmp_path / "odd" / "pictures").mkdir(parents=True)
    (tmp_path / "odd" / "a.png").write_bytes(b"x")
    with pytest.raises(LayoutError) as err:
        detect_layout(tmp_path / "odd")
    message = str(err.value)
    assert err.value.kind == "no_layout" and "\n" not in message
    assert "found pictures/, 1 .png files" in message
    assert all(layout.name in message for layout in LAYOUTS) and "images/ + masks/" in message


def test_find_pairs_needs_a_complete_pair(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "images" / "a.png")
    with pytest.raises(DataError, match=r"no complete image-mask pair.*dgen data check"):
        find_pairs(tmp_path)
