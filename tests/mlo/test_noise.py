"""``gradient_noise``: signal and noise of repeated gradient estimates, against hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from dgen.errors import ConfigError, DgenError
from dgen.mlo import gradient_noise


def test_a_one_coordinate_case_by_hand():
    # mean 2, unbiased variance ((1)^2 * 4) / 3 = 4/3; signal 4 - (4/3)/4 = 11/3; snr (11/3)/(4/3) = 11/4
    noise = gradient_noise(torch.tensor([[1.0], [3.0], [1.0], [3.0]]))
    assert (noise.n, noise.dim) == (4, 1)
    assert noise.mean_norm == pytest.approx(2.0)
    assert noise.noise == pytest.approx(math.sqrt(4 / 3))
    assert noise.signal == pytest.approx(11 / 3)
    assert noise.snr == pytest.approx(11 / 4)
    assert noise.samples_needed == pytest.approx(4 / 11)
    assert noise.halves == pytest.approx(1.0)  # both halves' means are 2
    assert noise.t.tolist() == pytest.approx([2 / math.sqrt(4 / 3 / 4)])


def test_pure_noise_has_no_signal_and_needs_infinitely_many_samples():
    noise = gradient_noise(torch.tensor([[1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, 1.0]]))
    assert noise.mean_norm == 0 and noise.signal == 0 and noise.snr == 0
    assert noise.samples_needed == math.inf
    assert noise.halves == pytest.approx(-1.0)  # (0, 0) would be nan; these halves point opposite ways
    assert noise.t.tolist() == [0.0, 0.0]


def test_a_constant_gradient_is_all_signal():
    noise = gradient_noise(torch.tensor([[3.0, 4.0, 0.0]] * 5))
    assert noise.noise == 0 and noise.signal == pytest.approx(25.0)
    assert noise.snr == math.inf and noise.samples_needed == 0
    assert noise.t.tolist() == [math.inf, math.inf, 0.0]


def test_all_zero_estimates_measure_nothing():
    noise = gradient_noise(torch.zeros(6, 3))
    assert noise.signal == 0 and noise.noise == 0
    assert math.isnan(noise.snr) and math.isnan(noise.samples_needed) and math.isnan(noise.halves)


def test_with_an_odd_count_the_halves_leave_the_last_estimate_out():
    # halves of rows 0-1 and 2-3: (1, 0) and (0, 1), orthogonal; the fifth row would tilt the second half
    noise = gradient_noise(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [5.0, 0.0]]))
    assert noise.halves == pytest.approx(0.0, abs=1e-12) and noise.n == 5


def test_a_known_signal_to_noise_ratio_is_recovered():
    # mu = (1, 0, ..., 0), unit noise on 10 coordinates: snr = 1/10, 10 estimates for snr 1
    g = torch.Generator().manual_seed(0)
    mu = torch.zeros(10, dtype=torch.float64)
    mu[0] = 1
    samples = mu + torch.randn(4000, 10, generator=g, dtype=torch.float64)
    noise = gradient_noise(samples)
    assert noise.snr == pytest.approx(0.1, rel=0.1)
    assert noise.samples_needed == pytest.approx(10, rel=0.1)
    assert noise.halves > 0.8 and noise.t[0] > 40 and bool((noise.t[1:].abs() < 4).all())


@pytest.mark.parametrize("bad, says", [
    (torch.ones(8), "expected (N, D)"),
    (torch.ones(3, 2), "N >= 4"),
    (torch.tensor([[1.0], [math.nan], [1.0], [2.0]]), "NaN or Inf"),
])
def test_bad_samples_are_refused_with_the_fix(bad, says):
    with pytest.raises(ConfigError) as err:
        gradient_noise(bad)
    assert says in str(err.value) and isinstance(err.value, DgenError)
