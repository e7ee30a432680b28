"""The training loop's view of a method."""

from __future__ import annotations

from pathlib import Path
from typing import Any, final

import torch
from torch import nn

from dgen.augmenter import Augmenter
from dgen_genseg.pipeline.methods.protocol import Method
from dgen_genseg.pipeline.parts import load_parts, save_parts
from dgen_genseg.pipeline.sampler import PairSampler
from dgen_genseg.pipeline.sample_mode import SampleMode

__all__ = ["MethodTrainer"]


@final
class MethodTrainer:
    """Wraps a :class:`~.protocol.Method` for :func:`dgen_genseg.pipeline.loop.train` (``step``, ``columns``,
    ``total_iterations``, ``segmenter_starts``, ``segmenter``, ``seg_opt``, ``nan_advice``, ``state_dict``,
    ``load_state_dict``, ``optimizers``) and for TensorBoard (``train``, ``generator``, ``augmenter``)."""

    def __init__(self, method: Method) -> None:
        self.method = method
        self.columns = method.columns

    def step(self, iteration: int) -> dict[str, float]:
        return self.method.step(iteration)

    @property
    def total_iterations(self) -> int:
        return self.method.schedule.total

    @property
    def segmenter_starts(self) -> int:
        """The first iteration that trains the segmenter (validation starts there)."""
        return self.method.schedule.segmenter_starts

    @property
    def segmenter(self) -> nn.Module:
        return self.method.seg.segmenter

    @property
    def seg_opt(self) -> torch.optim.Optimizer:
        return self.method.seg.optimizer

    @property
    def train(self) -> PairSampler:
        return self.method.data.train

    @property
    def generator(self) -> nn.Module | None:
        """The mask-conditioned generator, if the method has one."""
        return self.method.networks().get("generator")

    @property
    def sample_mode(self) -> SampleMode:
        """The generator's mode for the segmenter's images, and so for pictures of them (eval without a generator)."""
        return getattr(self.method, "sample_mode", "eval")

    @property
    def augmenter(self) -> Augmenter | None:
        """The mask augmenter of the generator's conditions, if the method has one."""
        return self.method.data.conditions

    def nan_advice(self, level: str) -> str:
        """How to avoid NaN/Inf in ``level``: the learning-rate option to lower, or ``nan_policy=skip``."""
        return self.method.updates.advice(level)

    def state_dict(self) -> dict[str, Any]:
        """The segmenter, its optimiser and the data stream's state, then the method's own parts."""
        return save_parts(self._parts())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s result (a missing entry raises ``KeyError``)."""
        load_parts(self._parts(), state)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimiser of the run by its name in :meth:`state_dict` (checked against a checkpoint's moments)."""
        return {name: part for name, part in self._parts().items() if isinstance(part, torch.optim.Optimizer)}

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        self.method.write_artifacts(run_dir, seed)

    def _parts(self) -> dict[str, Any]:
        seg = self.method.seg
        return {"segmenter": seg.segmenter, "seg_opt": seg.optimizer, **self.method.data.saved(), **self.method.saved()}
