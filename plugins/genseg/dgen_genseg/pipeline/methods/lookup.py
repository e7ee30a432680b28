"""Finding the ``genseg`` pipeline's methods in dgen's ``methods`` registry, and building the one a run names."""

from __future__ import annotations

from functools import partial

import torch

from dgen.errors import UnknownNameError
from dgen.plugins import registry
from dgen.registry import Entry
from dgen.task import Task
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.methods.method_options import check_declared_reads
from dgen_genseg.pipeline.methods.trainer import MethodTrainer
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["PIPELINE", "method_entries", "method_entry", "build_trainer"]

#: the ``pipeline`` of the ``methods`` entries this pipeline uses.
PIPELINE = "genseg"


def method_entries() -> list[Entry]:
    """The registered methods of the ``genseg`` pipeline (entries with ``pipeline="genseg"``), by name.

    Raises:
        RegistryError: a method declares ``reads`` that are not method options (:mod:`.method_options`).
    """
    entries = [e for e in registry("methods").entries() if e.meta.get("pipeline") == PIPELINE]
    for entry in entries:
        check_declared_reads(entry)
    return entries


def method_entry(name: str) -> Entry:
    """The entry of method ``name`` (or ``plugin:name``, or ``family:variant`` of a method registered as a family,
    whose factory then receives the whole name first, e.g. ``steer:appearance+generator``).

    Raises:
        UnknownNameError: no method of the ``genseg`` pipeline has that name; lists them and the closest.
        RegistryError: a method declares ``reads`` that are not method options (:mod:`.method_options`).
    """
    methods = registry("methods")
    if name in methods and methods.get(name).meta.get("pipeline") == PIPELINE:
        method_entries()  # every method's declaration checked, not only this one's
        return methods.get(name)
    raise UnknownNameError("method", name, [e.name for e in method_entries()])


def build_trainer(
    config: GenSegConfig, task: Task, train: PairSampler, val: PairSampler, device: torch.device
) -> MethodTrainer:
    """Build the networks of ``config.method`` for ``task`` on ``device``, the method, and the loop's view of it."""
    entry = method_entry(config.method)
    factory = partial(entry.factory, config.method) if entry.meta.get("family") else entry.factory
    return MethodTrainer(factory(config=config, task=task, train=train, val=val, device=device))
