"""What a training method of the ``genseg`` pipeline is, and how it is built.

A method is a small final class composed of the shared parts (:mod:`dgen_genseg.pipeline.parts`); it is
registered through the ``register_methods`` hook with ``pipeline="genseg"`` and chosen with
``--method NAME``. The pipeline wraps it in a :class:`~.trainer.MethodTrainer`, which gives the training
loop everything else (iterations, segmenter, checkpoint state, NaN advice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from dgen.task import Task
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.parts import PairStream, Schedule, SegmenterStep, Updates
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["Method", "MethodFactory"]


class Method(Protocol):
    """One way of training the segmenter.

    Attributes:
        columns: the keys of :meth:`step`'s result, the loss columns of ``log.csv`` (always ``seg`` and ``skipped``).
        schedule: its warm-up and segmenter iterations.
        updates: its guarded optimiser steps (shared by its parts).
        seg: the segmenter's step (the segmenter and its optimiser).
        data: where its batches come from; ``data.val`` is set only if it trains on validation pairs.
        solver_name: the MLO solver it uses (``metrics.json``'s ``solver``), or None.
    """

    columns: tuple[str, ...]
    schedule: Schedule
    updates: Updates
    seg: SegmenterStep
    data: PairStream
    solver_name: str | None

    def step(self, iteration: int) -> dict[str, float]:
        """Train for the 0-based ``iteration``; the log entries (finite losses, NaN where skipped, ``skipped``)."""

    def saved(self) -> dict[str, Any]:
        """``{name: part}`` of everything a checkpoint must hold to resume bit for bit (modules, optimisers,
        samplers, solvers, ``torch.Generator``s)."""

    def networks(self) -> dict[str, nn.Module]:
        """The networks besides the segmenter whose input size the preflight check verifies (``{}`` for none)."""

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        """Write the method's own files into ``run_dir`` after training (its GAN's weights and samples)."""


class MethodFactory(Protocol):
    """What ``register("name", factory, pipeline="genseg")`` registers: builds the method's networks for
    ``task`` on ``device`` and the method. ``config`` has its preset resolved; a bad option raises
    ``ConfigError`` here, in the run's preflight check, before anything is trained."""

    def __call__(
        self, *, config: GenSegConfig, task: Task, train: PairSampler, val: PairSampler, device: torch.device
    ) -> Method: ...
