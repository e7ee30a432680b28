"""How far can a synthetic pair's learned weight move, and does it follow the pair's utility? Printed.

steer's pool (``SyntheticPool``) gives each of ``pool_size`` conditions a weight ``2 sigmoid(logit)``
(``dgen.steer.SampleWeights``), learned by the steer level's Adam (betas (0.5, 0.999), lr ``weights_lr``). Every
``pool_refresh`` steered iterations the pool is refilled: every weight back at 1 and its Adam state dropped, as
``Steer.step`` does. A pair's logit gets a hypergradient only at the iterations that compute one (``hyper_every``,
from ``hyper_start``) and only when the pair is among that iteration's ``batch_size`` draws.

This script replays that schedule over ``iterations`` steered iterations with the real pool (its draws), weights
and optimiser, and feeds each drawn pair a stand-in hypergradient ``g = -u sqrt(snr) + N(0, 1)`` (per draw): ``u =
+-1`` is the pair's true utility (fixed for its life), ``snr`` the signal-to-noise ratio of one estimate
(``benchmarks/hypergrad_noise.py`` measured 0.012-0.025 for the pool weights on polyps). ``snr=inf`` feeds the sign
alone, a perfectly consistent hypergradient. At the end of every pool life it records the draws per pair, the share
of pairs never drawn, the weights' range, their mean distance from 1 and the correlation of the weights with ``u``
(1: the weights rank the pairs by their utility; 0: they do not), and prints the means over lives and ``--repeats``
replays:

    PYTHONPATH=. python benchmarks/pool_weights_reach.py [--lrs 0.01 0.1 1] [--snrs 0.025 1 inf]
"""

from __future__ import annotations

import argparse
import math
import statistics

import torch

from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.steer.pool import SyntheticPool
from dgen_genseg.pipeline.steer.step import STEER_HYPER_EVERY, STEER_HYPER_START


def replay(*, lr: float, snr: float, iterations: int, pool_size: int, pool_refresh: int, batch: int,
           hyper_every: int, hyper_start: int, seed: int) -> list[dict[str, float]]:
    """One run's pool lives: per life ``draws`` (per pair), ``never`` (share never drawn), ``w_min``, ``w_max``,
    ``moved`` (the mean of ``|w - 1|``) and ``corr`` (Pearson correlation of the weights ``(pool_size,)`` with the
    utilities; 0 when the weights are all equal)."""
    pool = SyntheticPool(pool_size, pool_refresh, (1, 1, 1), seed=seed, device=torch.device("cpu"))
    logits = pool.weights.logits
    optimizer = make_optimizer("adam", [logits], lr=lr, gan=True)
    noise = torch.Generator().manual_seed(seed + 1)
    lives: list[dict[str, float]] = []
    utility = draws = torch.zeros(pool_size)
    for k in range(iterations + 1):
        if k % pool_refresh == 0 or k == iterations:
            if k > 0:
                lives.append(_life(pool.utility(), utility, draws))
            if k == iterations:
                break
            pool.weights.reset()
            optimizer.state.pop(logits, None)  # a new pair must not inherit its predecessor's momenta
            utility = torch.where(torch.rand(pool_size, generator=noise) < 0.5, -1.0, 1.0)
            draws = torch.zeros(pool_size)
        index = pool.draw(batch)  # every iteration draws, as steer does; only some compute a hypergradient
        if k < hyper_start or (k - hyper_start) % hyper_every:
            continue
        signal = utility[index] if math.isinf(snr) else utility[index] * math.sqrt(snr)
        grad = torch.zeros(pool_size)
        grad[index] = -signal + (0.0 if math.isinf(snr) else torch.randn(len(index), generator=noise))
        draws[index] += 1
        logits.grad = grad
        optimizer.step()
        logits.grad = None
    return lives


def _life(weights: torch.Tensor, utility: torch.Tensor, draws: torch.Tensor) -> dict[str, float]:
    """The summary of one pool life: weights ``(P,)``, utilities ``(P,)`` in {-1, 1}, draws ``(P,)``."""
    spread = float(weights.std())
    corr = 0.0 if spread == 0 else float(torch.corrcoef(torch.stack([weights, utility]))[0, 1])
    return {"draws": float(draws.mean()), "never": float((draws == 0).float().mean()),
            "w_min": float(weights.min()), "w_max": float(weights.max()), "moved": float((weights - 1).abs().mean()),
            "corr": corr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.01, 0.1, 1.0], help="weights_lr values")
    parser.add_argument("--snrs", type=float, nargs="+", default=[0.025, 1.0, math.inf])
    parser.add_argument("--iterations", type=int, default=1000, help="steered iterations (cpu preset: 1000)")
    parser.add_argument("--pool-size", type=int, default=64)
    parser.add_argument("--pool-refresh", type=int, default=200)
    parser.add_argument("--batch", type=int, default=4, help="pairs drawn per iteration (cpu preset: 4)")
    parser.add_argument("--hyper-every", type=int, default=STEER_HYPER_EVERY)
    parser.add_argument("--hyper-start", type=int, default=STEER_HYPER_START)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"pool {args.pool_size}, refill every {args.pool_refresh}, {args.batch} drawn per iteration, a "
          f"hypergradient every {args.hyper_every} from {args.hyper_start}, {args.iterations} iterations, "
          f"{args.repeats} replays\n")
    print("| weights_lr | snr of one estimate | draws per pair and life | never drawn | weights min-max | "
          "mean abs(w - 1) | corr(weight, utility) |")
    print("|---|---|---|---|---|---|---|")
    for lr in args.lrs:
        for snr in args.snrs:
            lives = [life for seed in range(args.repeats) for life in replay(
                lr=lr, snr=snr, iterations=args.iterations, pool_size=args.pool_size,
                pool_refresh=args.pool_refresh, batch=args.batch, hyper_every=args.hyper_every,
                hyper_start=args.hyper_start, seed=seed)]
            mean = {key: statistics.mean(life[key] for life in lives) for key in lives[0]}
            print(f"| {lr:g} | {snr:g} | {mean['draws']:.2f} | {mean['never']:.2f} | "
                  f"{mean['w_min']:.3f}-{mean['w_max']:.3f} | {mean['moved']:.3f} | "
                  f"{mean['corr']:.2f} |")


if __name__ == "__main__":
    main()
