"""One level of a multi-level optimisation problem: its variables, optimizer, loss and edges."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from dgen.errors import ConfigError

if TYPE_CHECKING:
    from dgen.mlo.context import Context

__all__ = ["Level"]


def _shape(t: Tensor) -> str:
    return f"({', '.join(str(s) for s in t.shape)})"


def _names(value: Any, level: str, field: str) -> tuple[str, ...]:
    """``upper``/``lower`` as a tuple of level names; a bare string is refused (a common slip)."""
    if isinstance(value, str):
        raise ConfigError(
            f"level '{level}': {field}={value!r} is a string; expected a tuple of level names; "
            f"write {field}=({value!r},)."
        )
    try:
        names = tuple(value)
    except TypeError:
        raise ConfigError(
            f"level '{level}': {field}={value!r} is not a sequence; expected a tuple of level names, "
            f"e.g. {field}=('gen',)."
        ) from None
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"level '{level}': {field} contains {name!r}; expected non-empty level names (str).")
    return names


def _check_lookahead_lr(value: Any, level: str) -> float | None:
    """``value`` as a float if it is None or a finite number > 0, else ``ConfigError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
        raise ConfigError(
            f"level '{level}': lookahead_lr={value!r}; expected a finite number > 0 (e.g. lookahead_lr=1e-3), "
            f"or None to look ahead with the optimizer's current lr."
        )
    return float(value)


class Level(ABC):
    """A level of an MLO problem; subclass it and implement :meth:`loss`.

    Args:
        name: unique name of the level in its :class:`~dgen.mlo.Problem` (``"arch"``, ``"seg"``).
        params: the level's variables: leaf tensors with ``requires_grad=True``, owned by no other level.
        optimizer: a ``torch.optim`` optimizer over exactly ``params``; it applies this level's updates.
        upper: levels whose variables parametrise this level's problem (its solution is a function
            of theirs), e.g. the generator's weights for the segmenter.
        lower: levels whose approximate solutions this level's loss reads; this level is then
            updated with a hypergradient through their look-ahead.
        unroll_steps: K, the number of differentiable optimizer steps that approximate this
            level's solution when another level's hypergradient is unrolled through it.
        direct: False declares that :meth:`loss` reads this level's own variables only through
            its lower levels (GenSeg's architecture alpha), so it has no direct gradient.
        lookahead_lr: the learning rate of this level's look-ahead steps (those another level's
            hypergradient is unrolled through): each look-ahead step is the optimizer's own step with
            every param group's ``lr`` replaced by this value, so the hypergradient does not shrink
            when a scheduler decays the optimizer's lr. ``None`` (default): the optimizer's current lr.
            The level's ordinary updates always use the optimizer's own lr.

    Raises:
        ConfigError: a malformed argument, or an optimizer not built over exactly ``params``.
    """

    def __init__(
        self,
        name: str,
        params: Iterable[Tensor],
        optimizer: torch.optim.Optimizer,
        *,
        upper: Sequence[str] = (),
        lower: Sequence[str] = (),
        unroll_steps: int = 1,
        direct: bool = True,
        lookahead_lr: float | None = None,
    ) -> None:
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError(f"level name {name!r} is invalid; expected a non-empty string without '/', e.g. 'seg'.")
        self.name = name
        self.params: list[Tensor] = self._check_params(list(params))
        self.optimizer = self._check_optimizer(optimizer)
        self.upper = _names(upper, name, "upper")
        self.lower = _names(lower, name, "lower")
        if isinstance(unroll_steps, bool) or not isinstance(unroll_steps, int) or unroll_steps < 1:
            raise ConfigError(
                f"level '{name}': unroll_steps={unroll_steps!r}; expected an int >= 1, e.g. unroll_steps=1."
            )
        self.unroll_steps = unroll_steps
        if not isinstance(direct, bool):
            raise ConfigError(f"level '{name}': direct={direct!r}; expected True or False.")
        self.direct = direct
        self.lookahead_lr = _check_lookahead_lr(lookahead_lr, name)

    @abstractmethod
    def loss(self, ctx: Context, batch: Any) -> Tensor:
        """This level's objective, a scalar tensor ``()``.

        Every module whose parameters belong to a level must be run through ``ctx.call(module, ...)``
        (and a raw parameter read through ``ctx.param(p)``), so that the solver can substitute
        look-ahead values; a direct ``module(x)`` would silently cut the hypergradient.
        """

    def _check_params(self, params: list[Tensor]) -> list[Tensor]:
        if not params:
            raise ConfigError(
                f"level '{self.name}' has no params; pass the tensors it optimises, e.g. list(model.parameters())."
            )
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise ConfigError(f"level '{self.name}': params[{i}] is a {type(p).__name__}; expected a torch.Tensor.")
            if not p.is_leaf or not p.requires_grad:
                raise ConfigError(
                    f"level '{self.name}': params[{i}] of shape {_shape(p)} is not a leaf tensor with requires_grad=True; "
                    f"pass nn.Parameter objects (e.g. model.parameters()), not derived tensors."
                )
            if not p.is_floating_point():
                raise ConfigError(
                    f"level '{self.name}': params[{i}] has dtype {p.dtype}; expected a real floating dtype."
                )
            if id(p) in seen:
                raise ConfigError(
                    f"level '{self.name}': params[{i}] of shape {_shape(p)} is listed twice; list each tensor once."
                )
            seen.add(id(p))
        return params

    def _check_optimizer(self, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ConfigError(
                f"level '{self.name}': optimizer is a {type(optimizer).__name__}; expected a torch.optim.Optimizer "
                f"over the level's params, e.g. torch.optim.Adam(params, lr=1e-4)."
            )
        mine = {id(p) for p in self.params}
        held = [p for group in optimizer.param_groups for p in group["params"]]
        extra = [p for p in held if id(p) not in mine]
        missing = [p for p in self.params if id(p) not in {id(q) for q in held}]
        if extra or missing:
            what = []
            if extra:
                what.append(
                    f"holds {len(extra)} tensor(s) that are not in params (shapes {', '.join(_shape(p) for p in extra[:3])})"
                )
            if missing:
                what.append(f"misses {len(missing)} of the params (shapes {', '.join(_shape(p) for p in missing[:3])})")
            raise ConfigError(
                f"level '{self.name}': its {type(optimizer).__name__} {' and '.join(what)}; "
                f"build the optimizer over exactly the level's params, e.g. {type(optimizer).__name__}(params, ...)."
            )
        return optimizer

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, params={len(self.params)} tensors, "
            f"optimizer={type(self.optimizer).__name__}, upper={self.upper}, lower={self.lower}, "
            f"unroll_steps={self.unroll_steps}, direct={self.direct}, lookahead_lr={self.lookahead_lr})"
        )
