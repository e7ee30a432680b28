"""Labels of option bundles (``dgen.bench.labels``): the file a run keeps its label in, and its errors."""

from __future__ import annotations

import pytest

from dgen.bench.labels import check_label, labelled, read_label, write_label
from dgen.errors import ConfigError, DataError


def test_a_label_round_trips_through_the_run_directory(tmp_path):
    write_label(tmp_path, "fixes")
    assert read_label(tmp_path) == "fixes"


def test_an_unlabelled_run_writes_and_reads_nothing(tmp_path):
    write_label(tmp_path, None)
    assert list(tmp_path.iterdir()) == [] and read_label(tmp_path) is None


def test_an_unlabelled_start_removes_a_label_left_by_a_labelled_one(tmp_path):
    write_label(tmp_path, "n40")
    write_label(tmp_path, None)
    assert read_label(tmp_path) is None and list(tmp_path.iterdir()) == []


def test_the_compared_value_of_a_labelled_run():
    assert labelled("genseg", "fixes") == "genseg@fixes"
    assert labelled("genseg", None) == "genseg"
    assert labelled(None, "fixes") == "fixes"


@pytest.mark.parametrize("text", ["{\"label\": \"a b\"}", "[1]", "not json"])
def test_a_broken_label_file_names_the_file_and_the_fix(tmp_path, text):
    (tmp_path / "bench.json").write_text(text)
    with pytest.raises(DataError, match=r"bench.json does not hold a label .*; delete it"):
        read_label(tmp_path)


def test_check_label_names_where():
    with pytest.raises(ConfigError, match=r"^settings\[2\]: label '-x' must be"):
        check_label("-x", "settings[2]")
