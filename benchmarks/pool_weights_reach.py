"""How far can a synthetic pair's learned weight move, and does it follow the pair's utility? Printed.

steer's pool (``SyntheticPool``) gives each of ``pool_size`` conditions a weight ``2 sigmoid(logit)``
(``dgen.steer.SampleWeights``), learned by the steer level's Adam (betas (0.5, 0.999), lr ``weights_lr``). Every
``pool_refresh`` steered iterations the pool is refilled: every weight back at 1 and its Adam state dropped, as
``Steer.step`` does. A pair's logit gets a hypergradient only at the iterations that compute one (``hyper_every``,
from ``hyper_start``) and only when the pair is among that iteration's ``batch_size`` draws.

This script replays that schedule over ``iterations`` steered iterations with the real pool (its draws), weights
and optimiser, and feeds each pair in a hypergradient's batch a stand-in hypergradient ``g = -u sqrt(snr) + N(0, 1)``:
``u = +-1`` is the pair's true utility (fixed for its life), ``snr`` the signal-to-noise ratio of one pair's
hypergradient in one batch; ``snr=inf`` feeds the sign alone, a perfectly consistent hypergradient.

``benchmarks/hypergrad_noise.py`` measured the snr of the whole ``(pool_size,)`` hypergradient, 0.012-0.025 on polyps.
Only the ``b`` pairs of the batch have a non-zero entry in one estimate, so with ``p = b / pool_size`` that vector snr
is ``p s / (1 + s (1 - p))`` for a per-pair snr ``s``: :func:`per_pair_snr` inverts it (0.012 -> 0.23, 0.025 -> 0.64
for 4 of 64), and ``--measured`` adds those rows.

At the end of every pool life it records the hypergradients per pair, the share of pairs that got none, the weights'
range, their mean distance from 1 and the correlation of the weights with ``u`` (1: the weights rank the pairs by
their utility; 0: they do not), and prints the means over lives and ``--repeats`` replays:

    PYTHONPATH=. python benchmarks/pool_weights_reach.py [--lrs 0.01 0.1 1] [--snrs 1 inf] [--measured 0.012 0.025]
"""

from __future__ import annotations

import argparse
import math
import statistics

import torch

from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.steer.pool import SyntheticPool
from dgen_genseg.pipeline.steer.step import STEER_HYPER_EVERY, STEER_HYPER_START


def per_pair_snr(vector_snr: float, share: float) -> float:
    """The snr ``s`` of one pair's hypergradient when a hypergradient of the whole pool, whose entries are non-zero for
    a ``share`` of the pairs (the batch), has the snr ``vector_snr`` (``|E g|^2 / tr Cov g``): the inverse of
    ``share s / (1 + s (1 - share))``; ``inf`` when ``vector_snr`` reaches its bound ``share / (1 - share)``."""
    if not 0 < share <= 1 or vector_snr < 0:
        raise ValueError(f"share={share} must be in (0, 1] and vector_snr={vector_snr} >= 0")
    room = share - vector_snr * (1 - share)
    return math.inf if room <= 0 else vector_snr / room


def replay(*, lr: float, snr: float, iterations: int, pool_size: int, pool_refresh: int, batch: int,
           hyper_every: int, hyper_start: int, seed: int) -> list[dict[str, float]]:
    """One run's pool lives: per life ``draws`` (hypergradients per pair), ``never`` (share of pairs that got none),
    ``w_min``, ``w_max``,
    ``moved`` (the mean of ``|w - 1|``) and ``corr`` (Pearson correlation of the weights ``(pool_size,)`` with the
    utilities; 0 when the weights are all equal)."""
    pool = SyntheticPool(pool_size, pool_refresh, (1, 1, 1), seed=seed, device=torch.device("cpu"))
    logits = pool.weights.logits
    optimizer = make_optimizer("adam", [logits], lr=lr, gan=True)
    noise = torch.Generator().manual_seed(seed + 1)
    lives: list[dict[str, float]] = []
    utility, draws = torch.zeros(pool_size), torch.zeros(pool_size)
    for k in range(iterations + 1):
        if k % pool_refresh == 0:
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
    """The summary of one pool life: weights ``(P,)``, utilities ``(P,)`` in {-1, 1}, hypergradients per pair
    ``(P,)``."""
    spread = float(weights.std())
    corr = 0.0 if spread == 0 else float(torch.corrcoef(torch.stack([weights, utility]))[0, 1])
    return {"draws": float(draws.mean()), "never": float((draws == 0).float().mean()),
            "w_min": float(weights.min()), "w_max": float(weights.max()), "moved": float((weights - 1).abs().mean()),
            "corr": corr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.01, 0.1, 1.0], help="weights_lr values")
    parser.add_argument("--snrs", type=float, nargs="*", default=[1.0, math.inf],
                        help="snr of one pair's hypergradient in one batch (inf: its sign alone)")
    parser.add_argument("--measured", type=float, nargs="*", default=[0.012, 0.025],
                        help="snr of the whole pool's hypergradient as benchmarks/hypergrad_noise.py measures it, "
                             "with this --pool-size and --batch; converted to one pair's (per_pair_snr)")
    parser.add_argument("--iterations", type=int, default=1000, help="steered iterations (cpu preset: 1000)")
    parser.add_argument("--pool-size", type=int, default=64)
    parser.add_argument("--pool-refresh", type=int, default=200)
    parser.add_argument("--batch", type=int, default=4, help="pairs drawn per iteration (cpu preset: 4)")
    parser.add_argument("--hyper-every", type=int, default=STEER_HYPER_EVERY)
    parser.add_argument("--hyper-start", type=int, default=STEER_HYPER_START)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    counts = {"--pool-size": args.pool_size, "--pool-refresh": args.pool_refresh, "--batch": args.batch,
              "--hyper-every": args.hyper_every, "--repeats": args.repeats}
    for flag, value in counts.items():
        if value < 1:
            parser.error(f"{flag}={value} must be >= 1")
    if args.iterations < args.pool_refresh or args.iterations % args.pool_refresh:
        parser.error(f"--iterations={args.iterations} must be a multiple of --pool-refresh={args.pool_refresh} "
                     f"(whole pool lives)")
    torch.set_num_threads(1)
    share = min(args.batch, args.pool_size) / args.pool_size
    rows = [(per_pair_snr(v, share), f" (measured {v:g})") for v in args.measured]
    rows += [(snr, "") for snr in args.snrs]
    print(f"pool {args.pool_size}, refill every {args.pool_refresh}, {args.batch} drawn per iteration, a "
          f"hypergradient every {args.hyper_every} from {args.hyper_start}, {args.iterations} iterations, "
          f"{args.repeats} replays\n")
    print("| weights_lr | snr of one pair's hypergradient | hypergradients per pair and life | pairs with none | "
          "weights min-max | mean abs(w - 1) | corr(weight, utility) |")
    print("|---|---|---|---|---|---|---|")
    for lr in args.lrs:
        for snr, note in rows:
            lives = [life for seed in range(args.repeats) for life in replay(
                lr=lr, snr=snr, iterations=args.iterations, pool_size=args.pool_size,
                pool_refresh=args.pool_refresh, batch=args.batch, hyper_every=args.hyper_every,
                hyper_start=args.hyper_start, seed=seed)]
            mean = {key: statistics.mean(life[key] for life in lives) for key in lives[0]}
            print(f"| {lr:g} | {snr:.2g}{note} | {mean['draws']:.2f} | {mean['never']:.2f} | "
                  f"{mean['w_min']:.3f}-{mean['w_max']:.3f} | {mean['moved']:.3f} | {mean['corr']:.2f} |")


if __name__ == "__main__":
    main()
