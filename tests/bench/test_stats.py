"""Mean ± sd, paired differences and the bootstrap interval against hand-computed small cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from dgen.bench.stats import bootstrap_interval, mean_sd, paired_difference, paired_differences
from dgen.errors import ConfigError


def close(actual, expected, tol=1e-12):
    assert_close(torch.tensor(actual, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64),
                 rtol=0.0, atol=tol)


def test_mean_and_sample_sd():
    close(mean_sd([0.80, 0.82, 0.84]), (0.82, 0.02))  # sd = sqrt((0.02² + 0 + 0.02²) / 2)
    mean, sd = mean_sd([0.7])
    assert mean == 0.7 and math.isnan(sd)
    assert all(math.isnan(v) for v in mean_sd([]))


def test_paired_differences_use_the_seeds_both_ran():
    assert paired_differences({0: 0.9, 1: 0.8, 2: 0.7}, {1: 0.5, 2: 0.6, 3: 0.1}) == pytest.approx({1: 0.3, 2: 0.1})


@pytest.mark.parametrize(
    "diffs, expected",
    [
        ([0.02, 0.02, 0.02], (0.02, 0.02)),  # no spread, no interval width
        ([0.0, 1.0], (0.0, 1.0)),  # resample means 0, .5, 1 with p = 1/4, 1/2, 1/4: both tails hold 25 %
        ([0.01, 0.06, 0.02], (0.01, 0.06)),  # 3 seeds: P(all draws = min) = 1/27 > 2.5 %: the interval is the range
    ],
)
def test_bootstrap_interval_hand_computed(diffs, expected):
    close(bootstrap_interval(diffs), expected)


def test_bootstrap_interval_matches_the_exact_bootstrap_distribution():
    diffs = [0.00, 0.01, 0.03, 0.10]
    exact = np.array([np.mean(c) for c in itertools.product(diffs, repeat=4)])  # all 4^4 equally likely resamples
    expected = np.quantile(exact, [0.05, 0.95])
    close(bootstrap_interval(diffs, resamples=20_000, level=0.90, seed=3), tuple(expected), tol=4e-3)


def test_bootstrap_interval_is_seeded():
    diffs = [0.1, -0.2, 0.3, 0.05, 0.0]
    assert bootstrap_interval(diffs, seed=1) == bootstrap_interval(diffs, seed=1)
    assert bootstrap_interval(diffs, seed=1) != bootstrap_interval(diffs, seed=2)


def test_bootstrap_interval_rejects_bad_settings():
    with pytest.raises(ConfigError, match="resamples >= 1 and 0 < level < 1"):
        bootstrap_interval([0.1], level=95)


def test_paired_difference():
    d = paired_difference({0: 0.80, 1: 0.85, 2: 0.70}, {0: 0.75, 1: 0.80, 2: 0.72})
    close((d.mean, d.low, d.high), ((0.05 + 0.05 - 0.02) / 3, -0.02, 0.05))
    assert (d.n, d.wins) == (3, 2)
    lower = paired_difference({0: 3.0, 1: 5.0}, {0: 4.0, 1: 4.0}, higher_is_better=False)  # e.g. HD95
    assert (lower.mean, lower.wins) == (0.0, 1)
    single = paired_difference({0: 0.9}, {0: 0.8})
    assert single.n == 1 and math.isnan(single.low) and math.isnan(single.high)
