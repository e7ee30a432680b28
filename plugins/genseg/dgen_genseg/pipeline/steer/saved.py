"""The learned variables a ``steer`` run keeps in its directory, written after training and read by ``dgen generate``.

- ``synthetic_pool.safetensors``: the last pool's conditions ``masks`` ``(P, 1, S, S)``, learned ``weights`` ``(P,)``
  (each pair's utility) and ``sources`` ``(P,)`` (the training index each mask was augmented from);
- ``appearance.safetensors``: the learned appearance module; ``appearance.json``: its magnitudes, for people;
- ``geometry.safetensors``, ``geometry.json``: the same of the learned geometry (``steer=geometry``; ``dgen generate``
  does not apply it: a warp of the training pairs, like the classic augmenters, not part of what the generator makes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor

from dgen.checkpoint import load_weights, save_weights
from dgen.errors import ConfigError, DataError
from dgen.steer import LearnableAppearance, LearnableGeometry
from dgen_genseg.pipeline.steer.pool import SyntheticPool
from dgen_genseg.rundir import APPEARANCE_FILE, APPEARANCE_WEIGHTS, GEOMETRY_FILE, GEOMETRY_WEIGHTS, POOL_FILE

__all__ = ["POOL_FILE", "APPEARANCE_WEIGHTS", "APPEARANCE_FILE", "GEOMETRY_WEIGHTS", "GEOMETRY_FILE", "LearnedPool",
           "save_pool", "save_magnitudes", "read_pool", "read_appearance"]


@dataclass(frozen=True)
class LearnedPool:
    """A run's last pool of synthetic pairs' conditions and their learned weights.

    Attributes:
        masks: ``(P, 1, S, S)`` in {0, 1}.
        weights: ``(P,)`` in (0, 2), the pairs' utility (1 = neutral).
        sources: ``(P,)`` the training index each mask was augmented from.
    """

    masks: Tensor
    weights: Tensor
    sources: Tensor

    def eligible(self, min_utility: float | None) -> Tensor:
        """Indices ``(k,)`` of the pairs whose weight is at least ``min_utility`` (all of them for None).

        Raises:
            ConfigError: no pair reaches ``min_utility`` (naming the highest weight).
        """
        if min_utility is None:
            return torch.arange(len(self.weights))
        index = torch.nonzero(self.weights >= min_utility).flatten()
        if len(index) == 0:
            raise ConfigError(
                f"--min-utility {min_utility:g} keeps none of the run's {len(self.weights)} synthetic pairs (the highest "
                f"weight is {float(self.weights.max()):.3f}); give a lower threshold."
            )
        return index


def save_pool(run_dir: Path, pool: SyntheticPool, utility: Tensor) -> None:
    """Write ``pool``'s masks, its pairs' ``utility`` ``(P,)`` (as ``weights``) and sources to ``run_dir / POOL_FILE``."""
    save_weights(run_dir / POOL_FILE, {"masks": pool.masks, "weights": utility, "sources": pool.sources})


def save_magnitudes(run_dir: Path, module: LearnableAppearance | LearnableGeometry) -> None:
    """Write a learned appearance or geometry module and its magnitudes (``APPEARANCE_WEIGHTS`` and
    ``APPEARANCE_FILE``, or ``GEOMETRY_WEIGHTS`` and ``GEOMETRY_FILE``)."""
    weights, readable = ((APPEARANCE_WEIGHTS, APPEARANCE_FILE) if isinstance(module, LearnableAppearance)
                         else (GEOMETRY_WEIGHTS, GEOMETRY_FILE))
    save_weights(run_dir / weights, module.state_dict())
    magnitudes = {name: float(value.detach()) for name, value in module.magnitudes().items()}
    (run_dir / readable).write_text(json.dumps({"magnitudes": magnitudes}, indent=2) + "\n")


def read_pool(run_dir: Path, device: torch.device) -> Optional[LearnedPool]:
    """The pool a run saved, or None when it has none (its method learned no pair weights)."""
    path = run_dir / POOL_FILE
    if not path.is_file():
        return None
    tensors = load_weights(path, device)
    return LearnedPool(tensors["masks"], tensors["weights"].cpu(), tensors["sources"].cpu())


def read_appearance(run_dir: Path, device: torch.device, transforms: tuple[str, ...]) -> Optional[LearnableAppearance]:
    """The learned appearance module a run saved (eval mode), or None when it has none.

    Args:
        transforms: the run's ``appearance_transforms``. A run from before that option saved a blur that was the
            identity (a sampled Gaussian of std < 0.4 px); its config reads as the default, which leaves blur out.

    Raises:
        DataError: the saved module lacks one of ``transforms``.
    """
    path = run_dir / APPEARANCE_WEIGHTS
    if not path.is_file():
        return None
    state = load_weights(path, device)
    missing = [name for name in transforms if f"raw.{name}" not in state]
    if missing:
        raise DataError(f"{path} has no learned {', '.join(missing)} although the run's config names "
                        f"appearance_transforms={','.join(transforms)}; the files come from different runs: use an "
                        "intact run directory.")
    appearance = LearnableAppearance(transforms)
    appearance.load_state_dict({f"raw.{name}": state[f"raw.{name}"] for name in transforms})
    return appearance.to(device).eval()
