"""The data check: one test per kind of problem, and all problems collected at once."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dgen_genseg.data import Pair, check_dir, check_pairs
from dgen_genseg.data.problem import PROBLEM_KINDS
from dgen_genseg.data.synthetic_trees import write_tree


@pytest.fixture
def tree(tmp_path):
    write_tree("generic", tmp_path, n=3, size=16)
    return tmp_path


def _kinds(problems):
    return sorted(p.kind for p in problems)


def _only(problems, kind):
    (problem,) = [p for p in problems if p.kind == kind]
    assert "\n" not in problem.message and problem.kind in PROBLEM_KINDS
    return problem


def test_clean_tree_has_no_problem(tree):
    assert check_dir(tree) == []


def test_missing_mask_and_missing_image(tree):
    (tree / "masks" / "case000.png").unlink()
    (tree / "images" / "case001.png").unlink()
    problems = check_dir(tree)
    assert _only(problems, "no_mask").path.name == "case000.png"
    assert _only(problems, "no_image").path.name == "case001.png"


def test_missing_file_of_a_pair(tree):
    pair = Pair("x", tree / "images" / "case000.png", (tree / "masks" / "gone.png",))
    assert "file not found" in _only(check_pairs([pair], channels=3, allow_empty_masks=False), "missing").message


def test_size_mismatch(tree):
    Image.new("L", (20, 16), 255).save(tree / "masks" / "case002.png")
    problem = _only(check_dir(tree), "size_mismatch")
    assert problem.path.name == "case002.png" and "16x16 (WxH)" in problem.message and "20x16 (WxH)" in problem.message


def test_non_binary_mask_lists_its_values(tree):
    Image.fromarray(np.array([[0, 127], [255, 255]], dtype=np.uint8)).resize((16, 16), Image.NEAREST).save(
        tree / "masks" / "case001.png"
    )
    problem = _only(check_dir(tree), "non_binary")
    assert "values {0, 127, 255}" in problem.message and "threshold" in problem.message


def test_jpeg_masks_are_not_required_to_be_binary(tmp_path):
    write_tree("kvasir_seg", tmp_path, n=2, size=16)
    assert check_dir(tmp_path) == []


def test_transparent_and_sixteen_bit_images(tree):
    rgba = np.zeros((16, 16, 4), dtype=np.uint8)
    Image.fromarray(rgba).save(tree / "images" / "case000.png")  # alpha 0 everywhere
    Image.fromarray(np.full((16, 16), 40000, dtype=np.uint16)).save(tree / "images" / "case001.png")
    problem = _only(check_dir(tree), "unsupported")
    assert problem.path.name == "case000.png" and "transparent" in problem.message


def test_palette_masks_are_read_through_the_palette(tree):
    mask = Image.new("P", (16, 16))
    mask.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    mask.putdata([1] * 40 + [0] * 216)
    mask.save(tree / "masks" / "case000.png")
    assert check_dir(tree) == []


def test_corrupt_truncated_empty_and_non_image_files(tree):
    data = (tree / "images" / "case000.png").read_bytes()
    (tree / "images" / "case000.png").write_bytes(data[: len(data) // 2])
    (tree / "images" / "case001.png").write_bytes(b"")
    (tree / "masks" / "case002.png").write_text("<!DOCTYPE html><html>Access denied</html>")
    problems = check_dir(tree)
    assert _kinds(problems) == ["corrupt", "empty_file", "not_image"]
    assert all("re-download" in p.message for p in problems)


def test_empty_mask_only_where_forbidden(tree):
    Image.new("L", (16, 16), 0).save(tree / "masks" / "case001.png")
    assert "no foreground" in _only(check_dir(tree, allow_empty_masks=False), "empty_mask").message
    assert check_dir(tree, allow_empty_masks=True) == []


def test_duplicate_stems_in_a_pair_list(tree):
    pair = Pair("case000", tree / "images" / "case000.png", (tree / "masks" / "case000.png",))
    assert _only(check_pairs([pair, pair], channels=3, allow_empty_masks=False), "duplicate")


def test_foreign_file_is_a_warning(tree):
    (tree / "images" / "scan.dcm").write_bytes(b"DICM")
    assert _only(check_dir(tree), "foreign_file").severity == "warning"


def test_empty_missing_and_unknown_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    assert _kinds(check_dir(tmp_path / "empty")) == ["empty_folder"]
    assert _kinds(check_dir(tmp_path / "absent")) == ["missing"]
    (tmp_path / "odd" / "x").mkdir(parents=True)
    assert _kinds(check_dir(tmp_path / "odd")) == ["no_layout"]
    assert _kinds(check_pairs([], channels=3, allow_empty_masks=False)) == ["empty_folder"]


def test_all_problems_are_collected_in_one_pass(tree):
    (tree / "masks" / "case000.png").unlink()
    (tree / "images" / "case001.png").write_bytes(b"")
    Image.new("L", (8, 8), 255).save(tree / "masks" / "case002.png")
    assert _kinds(check_dir(tree)) == ["empty_file", "no_mask", "size_mismatch"]


def test_jsrt_half_size_masks_are_not_a_mismatch(tmp_path):
    write_tree("jsrt", tmp_path, n=1)
    assert check_dir(tmp_path, channels=1) == []


def test_problem_str_names_severity_and_path(tree):
    (tree / "masks" / "case000.png").unlink()
    (problem,) = check_dir(tree)
    assert str(problem).startswith("error: ") and str(tree / "images" / "case000.png") in str(problem)
