"""The ultra-low-data protocol: a fixed test set, then a seeded draw of labelled pairs.

1. The in-domain test set is fixed first and depends only on the item stems (and
   ``test_fraction``): stems are ordered by ``sha256("test:" + stem)`` and the first
   ``round(test_fraction * N)`` are the test set. It is therefore identical across
   seeds, methods and ``n_labeled``, and an item's membership does not depend on
   the platform, Python or library versions.
2. The ``n_labeled`` labelled pairs are drawn from the remaining stems, ordered by
   ``sha256(f"labelled:{seed}:" + stem)``; the first ``n - n_val`` are the training
   split and the last ``n_val = max(1, round(0.2 * n))`` the validation split
   (40 -> 32 + 8, 9 -> 7 + 2). For one seed, the pairs drawn for a smaller ``n`` are
   the first ones drawn for a larger ``n``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["draw_labelled", "n_val", "split_test", "stable_seed"]


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def stable_seed(text: str) -> int:
    """A 63-bit integer derived from ``text`` (sha256), the same on every platform."""
    return int.from_bytes(_key(text)[:8], "big") >> 1


def n_val(n: int) -> int:
    """Validation pairs among ``n`` labelled ones: ``max(1, round(0.2 * n))``."""
    return max(1, round(0.2 * n))


def split_test(stems: Iterable[str], test_fraction: float) -> tuple[list[str], list[str]]:
    """Split ``stems`` into ``(test, rest)``, both sorted, with ``round(test_fraction * N)`` test items."""
    ordered = sorted(set(stems), key=lambda s: (_key("test:" + s), s))
    n_test = round(test_fraction * len(ordered))
    return sorted(ordered[:n_test]), sorted(ordered[n_test:])


def draw_labelled(stems: Iterable[str], n: int, seed: int) -> tuple[list[str], list[str]]:
    """Draw ``n`` of ``stems`` with ``seed`` and split them into ``(train, val)`` (draw order).

    The caller checks that there are at least ``n`` stems.
    """
    ordered = sorted(set(stems), key=lambda s: (_key(f"labelled:{seed}:{s}"), s))[:n]
    k = n_val(n)
    return ordered[: n - k], ordered[n - k :]
