"""Fixtures shared by the test trees of dgen (tests/) and of dgen-genseg (plugins/genseg/tests/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread (fastest for tiny tensors, reproducible, immune to other processes
    on a 2-core machine), then restore the previous setting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
