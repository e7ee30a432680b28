"""Fixtures shared by the test trees of dgen (tests/) and of dgen-genseg (plugins/genseg/tests/)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

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


def _help_row(output: str, option: str) -> list[str]:
    """The cells of ``option``'s row in the options table of ``dgen run PIPELINE --help`` (after the command's
    own options), each cell's wrapped lines joined by a space."""
    lines = output[output.index(" options: --name value"):].splitlines()
    first = next(i for i, line in enumerate(lines) if f"│ --{option.replace('_', '-')} " in line)
    wrapped = itertools.takewhile(lambda line: line.startswith("│ ") and line[2] == " ", lines[first + 1:])
    cells = zip(*([cell.strip() for cell in line.strip()[1:-1].split("│")] for line in [lines[first], *wrapped]))
    return [" ".join(part for part in parts if part) for parts in cells]


@pytest.fixture
def help_row() -> Callable[[str, str], list[str]]:
    """``help_row(output, "n_labeled")``: that option's cells in the pipeline options table of ``--help``."""
    return _help_row
