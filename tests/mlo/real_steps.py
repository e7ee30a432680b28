"""Reference hypergradients for any problem: central finite differences of the upper loss after the
unrolled levels' **real** ``torch.optim`` steps, run on the live variables and undone afterwards."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor

from dgen.mlo import Context, Problem


def unrolled_loss(problem: Problem, target: str, batch: Any) -> float:
    """``target``'s loss after ``unroll_steps`` real optimizer steps of each of its unrolled levels (in
    topological order, each loss evaluated live, as ``loss.backward(); optimizer.step()``); every variable,
    optimizer state and ``.grad`` is restored."""
    levels = [problem.level(n) for n in problem.unrolled(target)]
    saved = [([p.detach().clone() for p in lvl.params], copy.deepcopy(lvl.optimizer.state_dict())) for lvl in levels]
    try:
        for level in levels:
            for _ in range(level.unroll_steps):
                level.optimizer.zero_grad(set_to_none=True)
                level.loss(Context(), batch).backward()
                level.optimizer.step()
        with torch.no_grad():
            return float(problem.level(target).loss(Context(), batch))
    finally:
        with torch.no_grad():
            for level, (values, state) in zip(levels, saved):
                for p, v in zip(level.params, values):
                    p.copy_(v)
                level.optimizer.load_state_dict(copy.deepcopy(state))
        for level in problem:
            for p in level.params:
                p.grad = None


def finite_difference(problem: Problem, target: str, batch: Any, h: float = 1e-5) -> list[Tensor]:
    """``(f(v + h) - f(v - h)) / 2h`` of :func:`unrolled_loss` for every entry of every parameter of
    ``target``: one tensor per parameter, of its shape."""
    out = []
    for p in problem.level(target).params:
        grad = torch.zeros_like(p)
        flat, gflat = p.detach().view(-1), grad.view(-1)
        for i in range(flat.numel()):
            value = flat[i].item()
            sides = []
            for sign in (1.0, -1.0):
                flat[i] = value + sign * h
                sides.append(unrolled_loss(problem, target, batch))
            flat[i] = value
            gflat[i] = (sides[0] - sides[1]) / (2 * h)
        out.append(grad)
    return out
