"""The ultra-low-data protocol: fixed test set, seeded nested draws, 80/20 split."""

from __future__ import annotations

import pytest

from dgen_genseg.tasks.protocol import draw_labelled, n_val, split_test, stable_seed

STEMS = [f"case{i:03d}" for i in range(100)]


@pytest.mark.parametrize(("n", "val"), [(2, 1), (3, 1), (9, 2), (10, 2), (40, 8), (50, 10), (100, 20)])
def test_n_val(n, val):
    assert n_val(n) == val


def test_test_set_is_fixed_sorted_and_disjoint():
    test, rest = split_test(STEMS, 0.3)
    assert len(test) == 30 and len(rest) == 70 and not set(test) & set(rest) and set(test) | set(rest) == set(STEMS)
    assert test == sorted(test) and split_test(reversed(STEMS), 0.3) == (test, rest)


def test_test_set_membership_is_stable_when_items_are_added():
    test, _ = split_test(STEMS, 0.5)
    bigger, _ = split_test(STEMS + [f"new{i}" for i in range(4)], 0.5)
    assert len(set(test) & set(bigger)) >= len(test) - 4


def test_labelled_draw_depends_on_seed_is_nested_and_splits_80_20():
    _, rest = split_test(STEMS, 0.5)
    train0, val0 = draw_labelled(rest, 40, seed=0)
    assert (len(train0), len(val0)) == (32, 8) and not set(train0) & set(val0) and set(train0 + val0) <= set(rest)
    assert draw_labelled(rest, 40, seed=0) == (train0, val0)
    train1, _ = draw_labelled(rest, 40, seed=1)
    assert train1 != train0
    small_train, small_val = draw_labelled(rest, 10, seed=0)
    assert (len(small_train), len(small_val)) == (8, 2)
    assert (small_train + small_val) == (train0 + val0)[:10]  # the first 10 drawn for 40


def test_stable_seed_is_fixed():
    assert stable_seed("shapes:test-0000") == stable_seed("shapes:test-0000") != stable_seed("shapes:test-0001")
    assert stable_seed("abc") == 0xBA7816BF8F01CFEA >> 1  # first 8 bytes of sha256("abc"), big-endian
