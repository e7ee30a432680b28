"""Differentiable, functional optimizer steps that equal ``torch.optim``'s ordinary steps.

``step(optimizer, params, grads, states)`` reads the hyper-parameters of ``optimizer``'s
param groups and returns new parameters and new per-parameter state as tensors that carry
the autograd graph of ``params``, ``grads`` and ``states`` (nothing is modified in place, and
the real optimizer is never touched). ``initial_state(optimizer, params)`` starts from the real
optimizer's current state (step count, moments), so a look-ahead continues the run exactly.

Supported: SGD (momentum, dampening, nesterov, weight_decay, maximize), Adam and AdamW
(amsgrad, weight_decay, maximize, decoupled weight decay) and RMSprop (alpha, eps, momentum,
centered, weight_decay, maximize). Implementation flags (foreach, fused, capturable,
differentiable) change no mathematics and are ignored. Tensor-valued hyper-parameters are
read as floats (learned hyper-parameters are not differentiated).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from dgen.errors import SolverError

__all__ = ["SUPPORTED", "check_supported", "initial_state", "step"]

State = dict[str, Any]
Rule = Callable[[dict[str, Any], Tensor, Tensor, State], tuple[Tensor, State]]


def _scalar(value: Any) -> Any:
    return float(value) if isinstance(value, Tensor) else value


class _RootPlusEps(torch.autograd.Function):
    """``sqrt(x) / scale + eps`` (Adam's and RMSprop's denominator, computed as ``torch.optim`` does) whose
    derivative is 0, not inf, where ``x == 0``, so a zero gradient entry does not turn the backward pass into
    NaN (``inf * 0``). One saved tensor; its backward is not differentiable again (nothing needs it)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, scale: float, eps: float) -> Tensor:
        root = x.sqrt()
        ctx.save_for_backward(root)
        ctx.scale = scale
        return _denominator(root, scale, eps)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (root,) = ctx.saved_tensors
        positive = root > 0
        inverse = torch.where(positive, root, 1.0).reciprocal_().mul_(0.5 / ctx.scale).masked_fill_(~positive, 0.0)
        return grad * inverse, None, None


def _denominator(root: Tensor, scale: float, eps: float) -> Tensor:
    return (root / scale).add_(eps) if scale != 1.0 else root + eps


def _root_plus_eps(x: Tensor, scale: float, eps: float) -> Tensor:
    return _RootPlusEps.apply(x, scale, eps) if x.requires_grad else _denominator(x.sqrt(), scale, eps)


def _sgd(group: dict[str, Any], p: Tensor, g: Tensor, st: State) -> tuple[Tensor, State]:
    if group["maximize"]:
        g = -g
    weight_decay = _scalar(group["weight_decay"])
    if weight_decay != 0:
        g = torch.add(g, p, alpha=weight_decay)
    momentum = _scalar(group["momentum"])
    new: State = {}
    if momentum != 0:
        buf = st.get("momentum_buffer")
        buf = g if buf is None else torch.add(buf * momentum, g, alpha=1 - _scalar(group["dampening"]))
        new["momentum_buffer"] = buf
        g = torch.add(g, buf, alpha=momentum) if group["nesterov"] else buf
    return torch.add(p, g, alpha=-_scalar(group["lr"])), new


def _adam(group: dict[str, Any], p: Tensor, g: Tensor, st: State, *, decoupled: bool) -> tuple[Tensor, State]:
    if group["maximize"]:
        g = -g
    lr, eps = _scalar(group["lr"]), _scalar(group["eps"])
    beta1, beta2 = (_scalar(b) for b in group["betas"])
    weight_decay = _scalar(group["weight_decay"])
    step_count = st.get("step", 0.0) + 1
    if weight_decay != 0:
        if decoupled or group.get("decoupled_weight_decay", False):
            p = p * (1 - lr * weight_decay)
        else:
            g = torch.add(g, p, alpha=weight_decay)
    exp_avg = st.get("exp_avg")
    exp_avg_sq = st.get("exp_avg_sq")
    exp_avg = torch.lerp(torch.zeros_like(p) if exp_avg is None else exp_avg, g, 1 - beta1)
    if exp_avg_sq is None:
        exp_avg_sq = (1 - beta2) * g * g
    else:
        exp_avg_sq = torch.addcmul(exp_avg_sq * beta2, g, g, value=1 - beta2)
    new: State = {"step": step_count, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    bias_correction1 = 1 - beta1**step_count
    bias_correction2_sqrt = (1 - beta2**step_count) ** 0.5
    second = exp_avg_sq
    if group["amsgrad"]:
        previous = st.get("max_exp_avg_sq")
        second = exp_avg_sq if previous is None else torch.maximum(previous, exp_avg_sq)
        new["max_exp_avg_sq"] = second
    denom = _root_plus_eps(second, bias_correction2_sqrt, eps)
    return torch.addcdiv(p, exp_avg, denom, value=-(lr / bias_correction1)), new


def _rmsprop(group: dict[str, Any], p: Tensor, g: Tensor, st: State) -> tuple[Tensor, State]:
    if group["maximize"]:
        g = -g
    alpha, eps, lr = _scalar(group["alpha"]), _scalar(group["eps"]), _scalar(group["lr"])
    weight_decay, momentum = _scalar(group["weight_decay"]), _scalar(group["momentum"])
    if weight_decay != 0:
        g = torch.add(g, p, alpha=weight_decay)
    square_avg = st.get("square_avg")
    if square_avg is None:
        square_avg = (1 - alpha) * g * g
    else:
        square_avg = torch.addcmul(square_avg * alpha, g, g, value=1 - alpha)
    new: State = {"step": st.get("step", 0.0) + 1, "square_avg": square_avg}
    if group["centered"]:
        grad_avg = st.get("grad_avg")
        grad_avg = torch.lerp(torch.zeros_like(p) if grad_avg is None else grad_avg, g, 1 - alpha)
        new["grad_avg"] = grad_avg
        avg = _root_plus_eps(torch.addcmul(square_avg, grad_avg, grad_avg, value=-1), 1.0, eps)
    else:
        avg = _root_plus_eps(square_avg, 1.0, eps)
    if momentum > 0:
        buf = st.get("momentum_buffer")
        buf = g / avg if buf is None else torch.addcdiv(buf * momentum, g, avg)
        new["momentum_buffer"] = buf
        return torch.add(p, buf, alpha=-lr), new
    return torch.addcdiv(p, g, avg, value=-lr), new


_RULES: dict[type[torch.optim.Optimizer], Rule] = {
    torch.optim.SGD: _sgd,
    torch.optim.Adam: partial(_adam, decoupled=False),
    torch.optim.AdamW: partial(_adam, decoupled=True),
    torch.optim.RMSprop: _rmsprop,
}

#: names of the optimizer classes that have a differentiable step
SUPPORTED: tuple[str, ...] = tuple(cls.__name__ for cls in _RULES)


def check_supported(optimizer: torch.optim.Optimizer, level: str) -> None:
    """Raise ``SolverError`` unless ``optimizer``'s exact class has a differentiable step."""
    if type(optimizer) not in _RULES:
        raise SolverError(
            f"level '{level}' uses {type(optimizer).__name__}, which has no differentiable step; "
            f"supported: {', '.join(SUPPORTED)} (exact classes, not subclasses); switch that level's "
            f"optimizer, or use the 'darts' solver (plain SGD look-ahead)."
        )


def initial_state(optimizer: torch.optim.Optimizer, params: Sequence[Tensor]) -> list[State]:
    """Per-parameter state of ``optimizer`` for ``params`` (empty before its first step).

    The step count becomes a float; tensors are shared, never modified.
    """
    return [
        {k: (float(v) if k == "step" else v) for k, v in optimizer.state[p].items()} if p in optimizer.state else {}
        for p in params
    ]


def step(
    optimizer: torch.optim.Optimizer,
    reference: Sequence[Tensor],
    params: Sequence[Tensor],
    grads: Sequence[Tensor | None],
    states: Sequence[State],
    *,
    lr: float | None = None,
) -> tuple[list[Tensor], list[State]]:
    """One step of ``optimizer``'s algorithm, functionally.

    Args:
        optimizer: a supported ``torch.optim`` optimizer (see :func:`check_supported`).
        reference: the live parameters held by ``optimizer``; ``params[i]`` is stepped with the
            hyper-parameters of the param group that holds ``reference[i]``.
        params: current (look-ahead) values, ``params[i]`` of ``reference[i]``'s shape.
        grads: gradients, same shapes as ``params``; ``None`` for a parameter the loss does not use,
            which keeps its value and state, as ``torch.optim`` skips a parameter whose ``.grad`` is None.
        states: per-parameter states from :func:`initial_state` or a previous :func:`step`.
        lr: replaces every param group's ``lr`` for this step (a fixed look-ahead step, see
            ``Level.lookahead_lr``); None: the groups' own (possibly scheduled) lr.

    Returns:
        ``(new_params, new_states)``.
    """
    rule = _RULES[type(optimizer)]
    groups = [group if lr is None else {**group, "lr": lr} for group in optimizer.param_groups]
    group_of = {id(p): group for group in groups for p in group["params"]}
    new_params: list[Tensor] = []
    new_states: list[State] = []
    for ref, p, g, st in zip(reference, params, grads, states, strict=True):
        if g is not None:
            p, st = rule(group_of[id(ref)], p, g, st)
        new_params.append(p)
        new_states.append(st)
    return new_params, new_states
