"""Statistics over seeds: mean and sample sd, paired differences, percentile-bootstrap intervals.

Runs of two methods with the same seed share the same data split, so methods are compared by the
difference of their scores per seed (a paired design), never by comparing two independent means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dgen.errors import ConfigError

__all__ = ["mean_sd", "paired_differences", "bootstrap_interval", "PairedDifference", "paired_difference"]


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (ddof 1) of ``values``; sd is NaN for one value,
    both are NaN for none."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return math.nan, math.nan
    return float(data.mean()), float(data.std(ddof=1)) if data.size > 1 else math.nan


def paired_differences(values: Mapping[int, float], reference: Mapping[int, float]) -> dict[int, float]:
    """``{seed: values[seed] - reference[seed]}`` over the seeds both have, in seed order."""
    return {seed: values[seed] - reference[seed] for seed in sorted(set(values) & set(reference))}


def bootstrap_interval(
    differences: Sequence[float], *, resamples: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of ``differences``.

    Draws ``resamples`` samples of ``len(differences)`` values with replacement (NumPy generator
    seeded with ``seed``), and returns the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles
    of their means. With 3 values each extreme value is drawn three times with probability
    1/27 > 2.5 %, so the 95 % interval is exactly ``(min, max)`` of the differences.
    """
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ConfigError(f"bootstrap needs resamples >= 1 and 0 < level < 1, got {resamples} and {level}; "
                          "use e.g. resamples=10000, level=0.95.")
    data = np.asarray(differences, dtype=np.float64)
    if data.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)  # (resamples,)
    low, high = np.quantile(means, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(low), float(high)


@dataclass(frozen=True)
class PairedDifference:
    """Method minus reference over the seeds both ran.

    Attributes:
        mean: mean paired difference.
        low, high: bootstrap interval of the mean (NaN with fewer than 2 seeds).
        n: number of paired seeds.
        wins: seeds on which the method scored better than the reference.
    """

    mean: float
    low: float
    high: float
    n: int
    wins: int


def paired_difference(
    values: Mapping[int, float], reference: Mapping[int, float], *, resamples: int = 10_000, level: float = 0.95,
    seed: int = 0, higher_is_better: bool = True,
) -> PairedDifference:
    """The :class:`PairedDifference` of ``values`` against ``reference`` (both ``{seed: score}``);
    ``higher_is_better`` says which sign counts as a win (False for distances and errors)."""
    diffs = list(paired_differences(values, reference).values())
    mean = mean_sd(diffs)[0]
    low, high = math.nan, math.nan  # one seed: no interval
    if len(diffs) > 1:
        low, high = bootstrap_interval(diffs, resamples=resamples, level=level, seed=seed)
    wins = sum((d > 0) if higher_is_better else (d < 0) for d in diffs)
    return PairedDifference(mean, low, high, len(diffs), wins)
