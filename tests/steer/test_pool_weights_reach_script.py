"""``benchmarks/pool_weights_reach.py``: the replay of steer's pool schedule counts each pair's hypergradients
exactly, resets every weight and its momenta at a refill, its weights follow the utilities with a signal and not with
noise, and the measured snr of the whole pool's hypergradient converts to one pair's as computed by hand."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "pool_weights_reach.py"


def _module():
    spec = importlib.util.spec_from_file_location("pool_weights_reach", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replay(**overrides):
    options = dict(lr=0.01, snr=math.inf, iterations=100, pool_size=8, pool_refresh=50, batch=2, hyper_every=5,
                   hyper_start=5, seed=0)
    return _module().replay(**{**options, **overrides})


def test_each_life_counts_the_hypergradient_draws_of_the_schedule():
    lives = _replay()
    # life 1: iterations 5, 10, ..., 45 (9 hypergradients); life 2: 50, 55, ..., 95 (10); 2 pairs each, 8 in the pool
    assert [life["draws"] for life in lives] == [9 * 2 / 8, 10 * 2 / 8]


def test_a_refill_starts_every_weight_and_its_momenta_again():
    # one hypergradient per life (iterations 5 and 55), every pair drawn: a fresh Adam's first step is lr exactly
    lives = _replay(lr=0.5, batch=8, hyper_every=50)
    up, down = 2 * torch.sigmoid(torch.tensor(0.5)), 2 * torch.sigmoid(torch.tensor(-0.5))
    for life in lives:  # the second life as the first: weights back at 1, Adam's state dropped
        assert life["w_max"] == pytest.approx(float(up), abs=1e-6)
        assert life["w_min"] == pytest.approx(float(down), abs=1e-6)
        assert life["moved"] == pytest.approx(float(up) - 1, abs=1e-6)  # every pair, whatever its sign before


def test_the_weights_follow_the_utility_with_signal_not_with_noise():
    many = dict(iterations=400, pool_refresh=400, pool_size=256, batch=16, hyper_every=1, hyper_start=0)
    consistent, noise = _replay(**many), _replay(**many, snr=1e-6)
    # 256 pairs: a correlation with pure noise has a standard deviation of about 1/16
    assert consistent[0]["corr"] > 0.95 and abs(noise[0]["corr"]) < 0.3


def test_the_pool_snr_converts_to_one_pairs_snr():
    module = _module()
    # 4 of 64 pairs per batch, per-pair snr 0.64: 0.0625 * 0.64 / (1 + 0.64 * 0.9375) = 0.025 (by hand)
    assert module.per_pair_snr(0.025, 4 / 64) == pytest.approx(0.64)
    assert module.per_pair_snr(0.0, 0.5) == 0.0 and module.per_pair_snr(1.0, 0.5) == math.inf
    with pytest.raises(ValueError, match="share"):
        module.per_pair_snr(0.1, 0.0)


def test_a_partial_pool_life_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pool_weights_reach.py", "--iterations", "250", "--pool-refresh", "200"])
    with pytest.raises(SystemExit):
        _module().main()


def test_the_script_prints_one_row_per_rate_and_signal(monkeypatch, capsys):
    module = _module()
    monkeypatch.setattr(sys, "argv", ["pool_weights_reach.py", "--lrs", "0.01", "1", "--snrs", "inf", "--measured",
                                      "--repeats", "2", "--iterations", "200"])
    module.main()
    pattern = r"^\| ([0-9.]+) \| inf \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+)-([0-9.]+) \| ([0-9.]+) \| (-?[0-9.]+) \|$"
    rows = re.findall(pattern, capsys.readouterr().out, flags=re.M)
    assert [row[0] for row in rows] == ["0.01", "1"]
    small, large = ([float(x) for x in row[1:]] for row in rows)
    assert small[2] > 0.9 and small[3] < 1.1  # weights_lr 0.01: within 10 % of 1 whatever the signal
    assert large[2] < 0.1 and large[3] > 1.9  # weights_lr 1: to the ends of (0, 2)
