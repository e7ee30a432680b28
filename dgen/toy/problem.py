"""A 3-level MLO in miniature that mirrors GenSeg on vectors and runs on a CPU in seconds.

Real data: "masks" m ~ N(0, I) in R^3 and "images" x = tanh(W m + b) + noise in R^6 (W ~ N(0, 0.25)), with few
labelled pairs. Levels (GenSeg's Eq. 4, GAN replaced by a regression fit):

* ``gen`` (upper: ``arch``): a searchable generator G_alpha(m) = sum_k softmax(alpha)_k op_k(m) over
  three candidate maps (linear, tanh, sin of a linear map) fits the real pairs, ``|G(m) - x|^2``;
* ``seg`` (upper: ``gen``): a "segmenter" S (MLP with BatchNorm) maps images back to masks, trained
  on synthetic pairs (G(m_aug), m_aug) from augmented masks plus ``gamma`` x the real pairs;
* ``arch`` (lower: ``seg``, ``direct=False``): alpha minimises S's validation loss at its look-ahead.

The true process is the ``tanh`` candidate, so a working hypergradient moves alpha towards it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dgen.errors import ConfigError, UnknownNameError
from dgen.mlo import Context, Level, Problem

__all__ = [
    "CANDIDATES",
    "ToyArchLevel",
    "ToyBatch",
    "ToyData",
    "ToyGenLevel",
    "ToyGenerator",
    "ToySegLevel",
    "build_toy_problem",
    "evaluate",
    "toy_segmenter",
]

COND_DIM = 3
IMAGE_DIM = 6
_WEIGHT_SCALE = 0.5  # keeps tanh out of saturation, so images determine their masks
#: candidate operations of the toy generator, in the order of alpha's entries
CANDIDATES = ("linear", "tanh", "sin")
_ACTIVATIONS = {"linear": lambda t: t, "tanh": torch.tanh, "sin": torch.sin}
SPLITS = ("train", "val", "test")


class ToyGenerator(nn.Module):
    """Searchable generator: a softmax(alpha) mix of :data:`CANDIDATES` applied to linear maps.

    Maps masks ``(B, 3)`` to images ``(B, 6)``; ``alpha`` has shape ``(3,)``.
    """

    def __init__(self, cond_dim: int = COND_DIM, image_dim: int = IMAGE_DIM) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(len(CANDIDATES)))
        self.maps = nn.ModuleList(nn.Linear(cond_dim, image_dim) for _ in CANDIDATES)

    def forward(self, masks: Tensor) -> Tensor:
        weights = torch.softmax(self.alpha, dim=0)  # (K,)
        outs = torch.stack([_ACTIVATIONS[n](op(masks)) for n, op in zip(CANDIDATES, self.maps)])  # (K, B, 6)
        return torch.einsum("k,kbd->bd", weights, outs)  # (B, 6)

    def arch_parameters(self) -> list[Tensor]:
        """``[alpha]``."""
        return [self.alpha]

    def weight_parameters(self) -> list[Tensor]:
        """The candidate maps' weights and biases (disjoint from :meth:`arch_parameters`)."""
        return list(self.maps.parameters())

    def chosen(self) -> str:
        """The candidate with the largest alpha."""
        return CANDIDATES[int(self.alpha.argmax())]


def toy_segmenter(hidden: int = 16) -> nn.Sequential:
    """Images ``(B, 6)`` -> masks ``(B, 3)``; with BatchNorm, like real segmenters."""
    return nn.Sequential(nn.Linear(IMAGE_DIM, hidden), nn.BatchNorm1d(hidden), nn.Tanh(), nn.Linear(hidden, COND_DIM))


@dataclass(frozen=True)
class ToyBatch:
    """What every level's loss receives in one iteration.

    Attributes:
        masks, images: the real training pairs, ``(N, 3)`` and ``(N, 6)``.
        aug_masks: augmented masks ``(A, 3)``, the conditions of the synthetic images.
        val_masks, val_images: the validation pairs ``(V, 3)``, ``(V, 6)`` (read by ``arch`` only).
    """

    masks: Tensor
    images: Tensor
    aug_masks: Tensor
    val_masks: Tensor
    val_images: Tensor


@dataclass(frozen=True)
class ToyData:
    """The toy's data splits (``masks``/``images`` per split) and its batch stream."""

    seed: int
    masks: dict[str, Tensor]
    images: dict[str, Tensor]
    n_aug: int
    aug_noise: float

    def batch(self, iteration: int) -> ToyBatch:
        """The batch of ``iteration``: all real pairs plus fresh augmented masks; deterministic."""
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + iteration)
        train = self.masks["train"]
        picks = torch.randint(len(train), (self.n_aug,), generator=gen)
        noise = torch.randn(self.n_aug, COND_DIM, generator=gen).to(train)
        return ToyBatch(
            masks=train,
            images=self.images["train"],
            aug_masks=train[picks.to(train.device)] + self.aug_noise * noise,
            val_masks=self.masks["val"],
            val_images=self.images["val"],
        )


class ToyArchLevel(Level):
    """Alpha's loss: the segmenter's validation loss at its look-ahead."""

    def __init__(self, generator: ToyGenerator, segmenter: nn.Module, lr: float) -> None:
        params = generator.arch_parameters()
        optimizer = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), weight_decay=1e-5)
        super().__init__("arch", params, optimizer, lower=("seg",), direct=False)
        self.segmenter = segmenter

    def loss(self, ctx: Context, batch: ToyBatch) -> Tensor:
        return F.mse_loss(ctx.call(self.segmenter, batch.val_images), batch.val_masks)


class ToyGenLevel(Level):
    """The generator's weights fit the real pairs (the GAN level of GenSeg, simplified)."""

    def __init__(self, generator: ToyGenerator, lr: float, unroll_steps: int) -> None:
        params = generator.weight_parameters()
        optimizer = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), weight_decay=1e-3)
        super().__init__("gen", params, optimizer, upper=("arch",), unroll_steps=unroll_steps)
        self.generator = generator

    def loss(self, ctx: Context, batch: ToyBatch) -> Tensor:
        return F.mse_loss(ctx.call(self.generator, batch.masks), batch.images)


class ToySegLevel(Level):
    """The segmenter on synthetic pairs (G(m_aug), m_aug) plus ``gamma`` x the real pairs."""

    def __init__(
        self, generator: ToyGenerator, segmenter: nn.Module, lr: float, gamma: float, unroll_steps: int
    ) -> None:
        params = list(segmenter.parameters())
        optimizer = torch.optim.RMSprop(params, lr=lr, momentum=0.9, weight_decay=1e-3)
        super().__init__("seg", params, optimizer, upper=("gen",), unroll_steps=unroll_steps)
        self.generator, self.segmenter, self.gamma = generator, segmenter, gamma

    def loss(self, ctx: Context, batch: ToyBatch) -> Tensor:
        synthetic = ctx.call(self.generator, batch.aug_masks)  # (A, 6)
        fake = F.mse_loss(ctx.call(self.segmenter, synthetic), batch.aug_masks)
        real = F.mse_loss(ctx.call(self.segmenter, batch.images), batch.masks)
        return fake + self.gamma * real


def _make_data(
    seed: int, sizes: dict[str, int], noise: float, dtype: torch.dtype, device: torch.device
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    weight = _WEIGHT_SCALE * torch.randn(IMAGE_DIM, COND_DIM, generator=gen, dtype=torch.float64)
    bias = 0.3 * torch.randn(IMAGE_DIM, generator=gen, dtype=torch.float64)
    masks, images = {}, {}
    for split in SPLITS:
        m = torch.randn(sizes[split], COND_DIM, generator=gen, dtype=torch.float64)
        x = torch.tanh(m @ weight.T + bias) + noise * torch.randn(
            sizes[split], IMAGE_DIM, generator=gen, dtype=torch.float64
        )
        masks[split], images[split] = m.to(device, dtype), x.to(device, dtype)
    return masks, images


def build_toy_problem(
    seed: int,
    dtype: torch.dtype = torch.float32,
    *,
    device: str | torch.device = "cpu",
    n_train: int = 16,
    n_val: int = 16,
    n_test: int = 512,
    n_aug: int = 32,
    aug_noise: float = 0.6,
    noise: float = 0.05,
    gamma: float = 1.0,
    unroll_steps: int = 1,
    lr_arch: float = 0.1,
    lr_gen: float = 1e-2,
    lr_seg: float = 3e-3,
) -> tuple[Problem, ToyData]:
    """The toy problem and its data, deterministic given ``seed`` (the global RNG is left untouched).

    Args:
        seed: seeds the data, the augmentation stream and the initial weights.
        dtype: of the weights and data (float64 for numerical tests).
        device: where the weights and data live.
        n_train, n_val, n_test: sizes of the real splits; n_aug: augmented masks per batch.
        aug_noise: std of the Gaussian mask augmentation; noise: std of the image noise.
        gamma: weight of the real pairs in the segmenter's loss (GenSeg's gamma).
        unroll_steps: K of the ``gen`` and ``seg`` levels.
        lr_arch, lr_gen, lr_seg: learning rates (Adam, Adam, RMSprop with momentum 0.9, as in GenSeg).

    Returns:
        ``(problem, data)``: levels ``arch``, ``gen``, ``seg``; iterate with ``data.batch(i)``.
    """
    if not dtype.is_floating_point:
        raise ConfigError(f"build_toy_problem(dtype={dtype}) needs a floating dtype, e.g. torch.float32.")
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    for split, size in sizes.items():
        if size < 2:
            raise ConfigError(
                f"build_toy_problem(n_{split}={size}): BatchNorm needs at least 2 samples; pass n_{split} >= 2."
            )
    device = torch.device(device)
    masks, images = _make_data(seed, sizes, noise, dtype, device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = ToyGenerator().to(device, dtype)
        segmenter = toy_segmenter().to(device, dtype)
    problem = Problem(
        [
            ToyArchLevel(generator, segmenter, lr_arch),
            ToyGenLevel(generator, lr_gen, unroll_steps),
            ToySegLevel(generator, segmenter, lr_seg, gamma, unroll_steps),
        ]
    )
    return problem, ToyData(seed=seed, masks=masks, images=images, n_aug=n_aug, aug_noise=aug_noise)


def evaluate(problem: Problem, data: ToyData, split: str = "val") -> float:
    """Mean squared error of the toy segmenter (eval mode) on ``split`` (lower is better)."""
    if split not in SPLITS:
        raise UnknownNameError("split", split, SPLITS)
    level: Any = problem.level("seg")
    if not isinstance(level, ToySegLevel):
        raise ConfigError(
            f"evaluate() needs a problem from build_toy_problem(); its 'seg' level is a {type(level).__name__}."
        )
    segmenter = level.segmenter
    was_training = segmenter.training
    segmenter.eval()
    try:
        with torch.no_grad():
            return float(F.mse_loss(segmenter(data.images[split]), data.masks[split]))
    finally:
        segmenter.train(was_training)
