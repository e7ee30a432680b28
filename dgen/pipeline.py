"""The `Pipeline` interface: what ``dgen run NAME`` runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import torch

from dgen.records import Records

__all__ = ["Pipeline", "RunContext"]


@dataclass(frozen=True)
class RunContext:
    """Where and how a run happens.

    Attributes:
        run_dir: the run directory (created by the caller); every artifact goes there.
        device: the torch device to compute on.
        resume: continue the run saved in ``run_dir`` instead of starting afresh.
        progress: show a progress bar.
        heartbeat: call ``heartbeat(done, total)`` after each iteration: it writes ``progress.json`` (shown
            live by ``dgen bench``) and re-sizes the run's CPU thread share between iterations
            (:class:`dgen.progress.Heartbeat`).
    """

    run_dir: Path
    device: torch.device
    resume: bool = False
    progress: bool = True
    heartbeat: Callable[[int, int], None] = lambda done, total: None


class Pipeline(ABC):
    """A runnable experiment with typed options.

    ``config_class`` is a dataclass whose fields are the pipeline's options (set with
    ``--set key=value``, ``--config FILE`` or, for the fields ``task``, ``backbone`` and
    ``seed``, the options of the same name). :meth:`run` returns the metrics it also
    writes to ``run_dir/metrics.json``. Each field's meaning is an entry of the
    ``Attributes:`` section of ``config_class``'s docstring; ``dgen run NAME --help``
    lists them (see :mod:`dgen.options`).

    ``presets`` names sets of values for the options left at ``None`` (``{"cpu":
    {"iterations": 1000}}``); the pipeline applies them itself, ``--help`` shows them.
    ``records`` declares what its runs record, for ``dgen bench`` (:class:`dgen.records.Records`;
    None: the pipeline cannot be benchmarked).
    """

    config_class: ClassVar[type]
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    records: ClassVar[Records | None] = None

    @abstractmethod
    def run(self, config: Any, context: RunContext) -> dict[str, Any]:
        """Run with ``config`` (an instance of ``config_class``); return the metrics."""
