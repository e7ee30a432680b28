"""How much signal a stochastic (hyper)gradient carries: repeated estimates at fixed variables -> signal vs noise.

    samples = torch.stack([flat_hypergradient(fresh_batch()) for _ in range(48)])   # (N, D)
    noise = gradient_noise(samples)
    noise.snr, noise.samples_needed, noise.halves

One estimate g = μ + ε has signal |μ|² and noise E|ε|² = tr Σ. An optimiser that steps on single estimates
moves along μ only as far as the signal-to-noise ratio allows: with snr = |μ|²/tr Σ ≪ 1 its steps are a
random walk. Averaging k independent estimates divides tr Σ by k (``noise`` = sqrt(tr Σ) by sqrt(k)), so ``1/snr``
estimates reach snr 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from dgen.errors import ConfigError

__all__ = ["GradientNoise", "gradient_noise"]


@dataclass(frozen=True, eq=False)
class GradientNoise:
    """Signal and noise of one gradient estimator, from N estimates.

    Attributes:
        n: estimates.
        dim: coordinates of one estimate.
        mean_norm: |mean of the estimates|.
        noise: sqrt(tr Σ), Σ the covariance of one estimate (unbiased).
        signal: |μ|² estimated without bias (|mean|² − tr Σ / N), clipped at 0.
        halves: cosine between the mean of the first and of the second half of the estimates (nan if one is 0; with
            N odd the last estimate is left out of the halves).
        t: each coordinate's mean in units of its standard error ``(D,)``.
    """

    n: int
    dim: int
    mean_norm: float
    noise: float
    signal: float
    halves: float
    t: Tensor

    @property
    def snr(self) -> float:
        """|μ|² / tr Σ: the signal against the noise of one estimate (inf without noise; nan when every estimate
        is 0: nothing was measured)."""
        if self.noise > 0:
            return self.signal / self.noise**2
        return math.inf if self.signal > 0 else math.nan

    @property
    def samples_needed(self) -> float:
        """Estimates to average for snr 1 (inf when no signal is measurable; nan when every estimate is 0)."""
        snr = self.snr
        return math.nan if math.isnan(snr) else 1 / snr if snr > 0 else math.inf


def gradient_noise(samples: Tensor) -> GradientNoise:
    """The :class:`GradientNoise` of ``samples`` ``(N, D)``: N ≥ 4 independent estimates of one gradient
    (computed in float64).

    Raises:
        ConfigError: ``samples`` is not 2-D, has fewer than 4 rows, or holds a NaN/Inf.
    """
    if samples.dim() != 2 or samples.shape[0] < 4:
        raise ConfigError(f"samples has shape {tuple(samples.shape)}; expected (N, D) with N >= 4 estimates, "
                          f"one flattened gradient per row.")
    x = samples.detach().double()
    if not bool(torch.isfinite(x).all()):
        raise ConfigError("samples holds a NaN or Inf; measure finite gradients (skip or fix the failing estimate).")
    n = x.shape[0]
    mean = x.mean(dim=0)
    variance = x.var(dim=0, unbiased=True)  # (D,)
    trace = float(variance.sum())
    half = n // 2
    a, b = x[:half].mean(dim=0), x[half: 2 * half].mean(dim=0)
    halves = float(torch.dot(a, b) / (a.norm() * b.norm())) if a.norm() > 0 and b.norm() > 0 else math.nan
    se = (variance / n).sqrt()
    t = torch.where(se > 0, mean / se.clamp_min(1e-300), torch.where(mean == 0, 0.0, math.inf * mean.sign()))
    return GradientNoise(n=n, dim=x.shape[1], mean_norm=float(mean.norm()), noise=math.sqrt(trace),
                         signal=max(0.0, float(mean.square().sum()) - trace / n), halves=halves, t=t)
