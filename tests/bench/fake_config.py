"""Options and metrics of the fake pipeline of the bench tests (no torch: imported by a subprocess).

Metric values are simple functions of method, seed and n_labeled so that tests can compute them by hand:
in-domain test dice ``0.6 + EFFECT[method] + 0.01 * seed + 0.001 * n_labeled``, out-of-domain dice 0.2 lower,
validation dice 0.05 higher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: added to the dice of each method.
EFFECT = {"none": 0.0, "flip": 0.01, "combine": 0.02, "genseg": 0.05}


@dataclass
class FakeBenchConfig:
    """Options of the fake pipeline; ``sleep`` delays a fresh run (not a resumed one), ``fail`` makes it exit 1,
    ``rendezvous`` N makes a fresh run wait (up to 60 s) until N runs of its grid have started."""

    task: str = "shapes"
    backbone: str = "unet"
    method: Literal["none", "flip", "combine", "genseg"] = "none"
    n_labeled: int = 8
    seed: int = 0
    iterations: int = 10
    sleep: float = 0.0
    fail: bool = False
    rendezvous: int = 0


def fake_dice(method: str, seed: int, n_labeled: int) -> float:
    """The in-domain test dice of a fake run."""
    return 0.6 + EFFECT[method] + 0.01 * seed + 0.001 * n_labeled


def _scores(dice: float) -> dict[str, Any]:
    return {"dice": dice, "jaccard": dice / (2 - dice), "hd95": 10 * (1 - dice), "n": 20}


def fake_metrics(config: FakeBenchConfig) -> dict[str, Any]:
    """A ``metrics.json`` shaped like the GenSeg pipeline's (no ``out_of_domain`` list: the convention applies)."""
    dice = fake_dice(config.method, config.seed, config.n_labeled)
    return {
        "pipeline": "benchfake", "task": config.task, "backbone": config.backbone, "method": config.method,
        "solver": "unroll" if config.method == "genseg" else None, "seed": config.seed,
        "n_train": config.n_labeled - 1, "n_val": 1, "image_size": 32, "iterations": config.iterations,
        "best_iteration": config.iterations // 2, "val": {"dice": dice + 0.05, "jaccard": 0.5},
        "test": {config.task: _scores(dice), f"{config.task}_ood": _scores(dice - 0.2)},
        "wall_seconds": 1.5, "device": "cpu",
    }
