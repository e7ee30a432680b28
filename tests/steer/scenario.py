"""A float64 learner trained on generated, weighted, appearance-augmented images, with up to five upper
levels over it (each ``lower=("learner",)``):

* ``appearance``: the magnitudes of a :class:`LearnableAppearance` (``direct=False``);
* ``weights``: a :class:`SampleWeights` over the generated pool (``direct=False``);
* ``weightnet``: a :class:`WeightNet` over each generated sample's features (fixed data of the batch), its weight
  multiplying the pool's (``direct=False``);
* ``generator``: a 1x1-conv generator of images from masks; its loss is its own fit to the real pairs
  plus ``BETA`` x the learner's validation loss (``direct=True``);
* ``alpha``: an alpha-like mix of two candidate renderings of the generated images (``direct=False``).

Every module is always used; an upper that is not a level keeps its values as constants, so a problem
with one upper computes that level's hypergradient on its own.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from dgen.mlo import Context, Level, Problem
from dgen.steer import LearnableAppearance, SampleWeights, WeightNet, weighted_mean
from tests.mlo.chains import OPTIMIZERS

UPPERS = ("appearance", "weights", "weightnet", "generator", "alpha")
BETA = 0.5
N, C, H, W = 4, 2, 4, 4


class _Level(Level):
    def __init__(self, name: str, params: list[Tensor], loss: Any, **edges: Any) -> None:
        super().__init__(name, params, torch.optim.Adam(params, lr=0.01), **edges)
        self._loss = loss

    def loss(self, ctx: Context, batch: Any) -> Tensor:
        return self._loss(ctx, batch)


class Learner(Level):
    """A small conv net regressing one number per image; its loss counts its evaluations."""

    def __init__(self, scenario: Scenario, optimizer: str, steps: int, uppers: tuple[str, ...]) -> None:
        self.scenario, self.calls = scenario, 0
        params = list(scenario.net.parameters())
        super().__init__("learner", params, OPTIMIZERS[optimizer](params), upper=uppers, unroll_steps=steps)

    def loss(self, ctx: Context, batch: Any) -> Tensor:
        self.calls += 1
        s = self.scenario
        augmented = ctx.call(s.appearance, s.generated(ctx), batch["draw"])
        weights = ctx.call(s.weights, batch["index"]) * ctx.call(s.weightnet, batch["features"])
        return weighted_mean(s.per_sample(ctx, augmented, s.targets), weights) + s.per_sample(ctx, s.real, s.targets).mean()


class Scenario:
    """Levels ``uppers`` (a subset of :data:`UPPERS`) over the learner, in float64, with the batch
    ``{"draw": AppearanceDraw, "index": arange(N), "features": (N, 2)}`` drawn once."""

    def __init__(self, uppers: tuple[str, ...] = UPPERS, optimizer: str = "sgd", steps: int = 1, *, seed: int = 0,
                 normalize: bool = False) -> None:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)

        def rand(*shape: int, low: float = 0.0, high: float = 1.0) -> Tensor:
            return low + (high - low) * torch.rand(*shape, generator=gen, dtype=torch.float64)

        self.masks, self.real_masks = rand(N, 1, H, W), rand(N, 1, H, W)
        self.real, self.val = rand(N, C, H, W, low=0.3, high=0.7), rand(N, C, H, W, low=0.3, high=0.7)
        self.targets, self.val_targets = rand(N, low=-1.0), rand(N, low=-1.0)
        self.generator = nn.Conv2d(1, C, 1).double()
        self.alpha = nn.Parameter(0.5 * torch.randn(2, generator=gen, dtype=torch.float64))
        self.appearance = LearnableAppearance(initial=0.2).double()
        self.weights = SampleWeights(N).double()
        self.weightnet = WeightNet(2, hidden=3, normalize=normalize).double()
        self.net = nn.Sequential(nn.Conv2d(C, 3, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(3 * H * W, 1)).double()
        with torch.no_grad():
            self.weights.logits.copy_(0.5 * torch.randn(N, generator=gen, dtype=torch.float64))
            for p in self.weightnet.parameters():  # away from the zero output layer, so every parameter has a slope
                p.copy_(0.7 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
        self.batch = {"draw": self.appearance.draw(N, C, H, W, generator=gen, dtype=torch.float64), "index": torch.arange(N),
                      "features": rand(N, 2, low=-1.0)}
        with torch.no_grad():  # no pixel at the clamp, so the augmentation is smooth around the test point
            out = self.appearance(self.generated(Context()), self.batch["draw"])
        assert 0 < float(out.min()) and float(out.max()) < 1

        variables = {
            "appearance": (list(self.appearance.parameters()), self.validation, False),
            "weights": (list(self.weights.parameters()), self.validation, False),
            "weightnet": (list(self.weightnet.parameters()), self.validation, False),
            "generator": (list(self.generator.parameters()), self.generator_loss, True),
            "alpha": ([self.alpha], self.validation, False),
        }
        self.levels = [
            _Level(name, variables[name][0], variables[name][1], lower=("learner",), direct=variables[name][2])
            for name in UPPERS
            if name in uppers
        ]
        self.learner = Learner(self, optimizer, steps, tuple(uppers))
        self.problem = Problem([*self.levels, self.learner])

    def generated(self, ctx: Context) -> Tensor:
        """The generated images ``(N, C, H, W)`` in (0.09, 0.7): softmax(alpha) mixes s and s² of s = 0.3 + 0.4 sigmoid(G(masks))."""
        s = 0.3 + 0.4 * torch.sigmoid(ctx.call(self.generator, self.masks))
        mix = torch.softmax(ctx.param(self.alpha), dim=0)
        return mix[0] * s + mix[1] * s * s

    def per_sample(self, ctx: Context, images: Tensor, targets: Tensor) -> Tensor:
        """Squared errors ``(N,)`` of the learner on ``images``."""
        return (ctx.call(self.net, images).squeeze(1) - targets) ** 2

    def validation(self, ctx: Context, _: Any) -> Tensor:
        return self.per_sample(ctx, self.val, self.val_targets).mean()

    def generator_loss(self, ctx: Context, batch: Any) -> Tensor:
        fit = ((0.3 + 0.4 * torch.sigmoid(ctx.call(self.generator, self.real_masks)) - self.real) ** 2).mean()
        return fit + BETA * self.validation(ctx, batch)

    def warm_up(self, iterations: int = 3) -> None:
        """Give the learner's optimizer a state with ordinary updates."""
        for _ in range(iterations):
            self.learner.optimizer.zero_grad()
            self.learner.loss(Context(), self.batch).backward()
            self.learner.optimizer.step()
        for module in (self.generator, self.appearance, self.weights, self.weightnet, self.net):
            module.zero_grad(set_to_none=True)
        self.alpha.grad = None
        self.learner.calls = 0
