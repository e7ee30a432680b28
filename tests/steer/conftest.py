"""Tiny tensors: every steer test runs on one intra-op thread (the root conftest's ``one_thread``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> None:
    """Applies ``one_thread`` to every test here."""
