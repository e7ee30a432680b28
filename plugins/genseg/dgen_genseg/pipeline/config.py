"""Options of the GenSeg pipeline and its presets.

Every option can be set with ``--set key=value``. Options left at ``None`` are filled
from the preset: ``paper`` (the paper's settings, meant for a GPU), ``cpu`` (small
widths and image size so that a 40-image ISIC run finishes in about 20 minutes on
two CPU cores and still trains every level) or ``auto`` (``paper`` on CUDA, else ``cpu``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import torch

from dgen.errors import ConfigError

__all__ = ["GenSegConfig", "PRESETS", "BACKBONE_PRESETS", "resolve_preset"]

Solver = Literal["unroll", "darts", "first_order"]
Optim = Literal["adam", "adamw", "rmsprop", "sgd"]


@dataclass
class GenSegConfig:
    """All options of ``dgen run genseg`` (``None`` = take the preset's value)."""

    task: str = "shapes"
    backbone: str = "unet"
    method: str = "genseg"  # a registered method of this pipeline: `dgen list methods`
    solver: Solver = "unroll"
    preset: Literal["auto", "paper", "cpu"] = "auto"
    seed: int = 0
    # data
    data_root: Optional[Path] = None
    data_dir: Optional[Path] = None
    ood_dirs: tuple[Path, ...] = ()
    n_labeled: int = 40
    image_size: Optional[int] = None
    batch_size: Optional[int] = None
    # schedule
    iterations: Optional[int] = None
    warmup_iterations: Optional[int] = None
    val_every: Optional[int] = None
    checkpoint_every: Optional[int] = None
    # segmenter
    backbone_options: dict[str, Any] = field(default_factory=dict)
    seg_optimizer: Optional[Optim] = None
    seg_lr: Optional[float] = None
    seg_weight_decay: Optional[float] = None
    seg_plateau_patience: Optional[int] = None
    seg_loss: Literal["bce_dice", "bce_jaccard", "bce"] = "bce_dice"
    gamma: float = 1.0
    # generator / discriminator
    ngf: Optional[int] = None
    num_downs: Optional[int] = None
    max_mult: Optional[int] = None
    ndf: Optional[int] = None
    gen_lr: Optional[float] = None
    gen_weight_decay: Optional[float] = None
    lambda_l1: float = 100.0
    n_critic: int = 5  # method wgan: critic steps per generator step
    augmenter: str = "combine"
    real_augmenter: str = "none"
    # architecture (alpha)
    arch_lr: Optional[float] = None
    arch_weight_decay: Optional[float] = None
    # MLO solver options
    unroll_steps: int = 1
    reuse_grads: bool = True
    backend: Literal["func", "higher"] = "func"
    nan_policy: Literal["raise", "skip"] = "raise"

    def __post_init__(self) -> None:
        if self.n_labeled < 2:
            raise ConfigError(f"n_labeled={self.n_labeled} is too small: a run needs at least 2 pairs (1 train + 1 val).")
        if self.gamma < 0:
            raise ConfigError(f"gamma={self.gamma} must be >= 0 (weight of the real-data loss; the paper uses 1).")
        for name in ("image_size", "batch_size", "iterations", "val_every", "checkpoint_every", "unroll_steps", "n_critic"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name}={value} must be a positive integer.")


#: preset values for every option left at None.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": dict(
        image_size=256, batch_size=2, iterations=5000, warmup_iterations=0, val_every=50, checkpoint_every=250,
        seg_optimizer="rmsprop", seg_lr=1e-5, seg_weight_decay=1e-3, seg_plateau_patience=2,
        ngf=64, num_downs=8, max_mult=8, ndf=64,
        gen_lr=1e-5, gen_weight_decay=1e-3, arch_lr=1e-4, arch_weight_decay=1e-5,
    ),
    "cpu": dict(
        image_size=64, batch_size=4, iterations=1000, warmup_iterations=200, val_every=25, checkpoint_every=50,
        seg_optimizer="adam", seg_lr=1e-3, seg_weight_decay=0.0, seg_plateau_patience=4,
        ngf=8, num_downs=6, max_mult=4, ndf=8,
        gen_lr=2e-4, gen_weight_decay=0.0, arch_lr=3e-3, arch_weight_decay=1e-5,
    ),
}

#: default segmenter options per preset and backbone (merged under the user's backbone_options).
BACKBONE_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {"unet": {"encoder": "resnet34"}, "deeplabv3plus": {"encoder": "resnet34"}},
    "cpu": {
        "unet": {"encoder": "resnet18", "encoder_depth": 4},
        "deeplabv3plus": {"encoder": "resnet18"},
        "swinunet": {"embed_dim": 24, "depths": (2, 2, 2), "num_heads": (2, 4, 8)},
    },
}


def resolve_preset(config: GenSegConfig, device: torch.device) -> tuple[GenSegConfig, str]:
    """Fill every ``None`` option from the preset; return the filled config and the preset's name."""
    name = config.preset if config.preset != "auto" else ("paper" if device.type == "cuda" else "cpu")
    values = {k: v for k, v in PRESETS[name].items() if getattr(config, k) is None}
    options = {**BACKBONE_PRESETS[name].get(config.backbone, {}), **config.backbone_options}
    return dataclasses.replace(config, **values, backbone_options=options), name
