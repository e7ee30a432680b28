"""Options and metrics of the fake pipeline of the bench tests (no torch: imported by a subprocess).

Metric values are simple functions of method, seed and n_labeled so that tests can compute them by hand:
in-domain test dice ``0.6 + EFFECT[method] + 0.01 * seed + 0.001 * n_labeled``, out-of-domain dice 0.2 lower,
validation dice 0.05 higher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dgen.records import Axis, BestOf, Records, ValCurve

#: what the fake runs record (shaped like a segmentation pipeline's declaration).
FAKE_RECORDS = Records(
    metrics=("dice", "jaccard", "hd95"), headline="dice", paired_metrics=("dice", "jaccard"), lower_is_better=("hd95",),
    axes=(Axis("task"), Axis("backbone"), Axis("method"), Axis("n_labeled", int, "n", "[10, 40]")),
    compared="method", sweep="n_labeled", baseline="none",
    references=(BestOf("best classic", "Best classic augmentation", ("rotate", "flip", "translate", "combine")),),
    curve=ValCurve(x="seg_iteration", x_label="segmenter iteration", note="segmenter updates"),
    facts=("image_size", "iterations"), per_value_facts=("solver",),
    info=("solver", "wall_seconds", "best_iteration", "iterations", "image_size", "device"),
)

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
    """A ``metrics.json`` shaped like a segmentation pipeline's; ``<task>_ood`` is out-of-domain."""
    dice = fake_dice(config.method, config.seed, config.n_labeled)
    return {
        "pipeline": "benchfake", "task": config.task, "backbone": config.backbone, "method": config.method,
        "solver": "unroll" if config.method == "genseg" else None, "seed": config.seed,
        "n_train": config.n_labeled - 1, "n_val": 1, "image_size": 32, "iterations": config.iterations,
        "best_iteration": config.iterations // 2, "val": {"dice": dice + 0.05, "jaccard": 0.5},
        "test": {config.task: _scores(dice), f"{config.task}_ood": _scores(dice - 0.2)},
        "out_of_domain": [f"{config.task}_ood"],
        "wall_seconds": 1.5, "device": "cpu",
    }
