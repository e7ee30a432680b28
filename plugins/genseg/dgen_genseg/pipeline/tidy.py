"""What a finished run keeps: the files a user needs, not the ones only a resume needs.

After ``metrics.json`` is written the run cannot be resumed any more (``--resume`` says it has
finished), so ``checkpoint.safetensors`` (every network and optimiser: 139 MB for preset ``cpu``)
and ``segmenter_best.safetensors`` (the same weights as ``segmenter.safetensors``) are removed,
unless the option ``keep_checkpoint`` is true (e.g. to inspect the optimisers' state).
``progress.json`` stays: it is tiny and records the finished state and the run's thread count.
"""

from __future__ import annotations

from pathlib import Path

from dgen_genseg.rundir import BEST_SEGMENTER, CHECKPOINT

__all__ = ["RESUME_ONLY", "remove_resume_files"]

#: files a finished run no longer needs.
RESUME_ONLY = (CHECKPOINT, BEST_SEGMENTER)


def remove_resume_files(run_dir: Path) -> None:
    """Delete :data:`RESUME_ONLY` from a finished run's ``run_dir`` (those present)."""
    for name in RESUME_ONLY:
        (Path(run_dir) / name).unlink(missing_ok=True)
