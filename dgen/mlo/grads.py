"""Gradients of a level's loss, checked: scalar loss, an autograd path, finite values."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dgen.errors import ConfigError, NumericalError, SolverError
from dgen.mlo.level import Level

__all__ = ["NonFiniteError", "check_loss", "complete_grads", "global_norm", "level_grads"]


class NonFiniteError(NumericalError):
    """A loss or gradient of level ``level`` is NaN or Inf."""

    def __init__(self, message: str, level: str) -> None:
        super().__init__(message)
        self.level = level


def _advice(level: Level) -> str:
    lr = level.optimizer.param_groups[0].get("lr")
    lr_text = f" (now {float(lr):g})" if lr is not None else ""
    return (
        f"lower level '{level.name}''s learning rate{lr_text} or guard its loss against log(0) and division by "
        f"zero; nan_policy='skip' skips such iterations instead of raising."
    )


def check_loss(loss: Tensor, level: Level, where: str) -> None:
    """Raise unless ``loss`` is a finite scalar tensor ``()``."""
    if not isinstance(loss, Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ConfigError(
            f"the loss of level '{level.name}' returned {shape}; expected a scalar tensor (); reduce it, e.g. with .mean()."
        )
    if not bool(torch.isfinite(loss)):
        raise NonFiniteError(
            f"the loss of level '{level.name}' is {loss.item()} in {where}; {_advice(level)}", level.name
        )


def complete_grads(
    raw: Sequence[Tensor | None], wrt: Sequence[Tensor], level: Level, where: str, *, require_path: bool = True
) -> list[Tensor]:
    """Replace ``None`` (unused) gradients by zeros and check that all are finite.

    Raises:
        SolverError: ``require_path`` and no tensor of ``wrt`` is reached from the loss at all
            (the loss bypasses ``ctx``, or detaches, so the update would be identically zero).
        NonFiniteError: a gradient has a NaN or Inf entry.
    """
    if require_path and all(g is None for g in raw):
        raise SolverError(
            f"in {where}, the loss of level '{level.name}' has no autograd path to the variables it is differentiated "
            f"with respect to, so that gradient would be identically zero; run every module through "
            f"ctx.call(module, ...), read raw parameters through ctx.param(p), and do not .detach() generated data."
        )
    grads = [torch.zeros_like(w) if g is None else g for g, w in zip(raw, wrt, strict=True)]
    if grads and not bool(torch.stack([torch.isfinite(g).all() for g in grads]).all()):
        bad = next(tuple(g.shape) for g in grads if not bool(torch.isfinite(g).all()))
        raise NonFiniteError(
            f"a gradient of level '{level.name}' (a tensor of shape {bad}) has NaN/Inf entries in {where}; {_advice(level)}",
            level.name,
        )
    return grads


def level_grads(
    loss: Tensor,
    wrt: Sequence[Tensor],
    level: Level,
    where: str,
    *,
    create_graph: bool = False,
    require_path: bool = True,
) -> list[Tensor]:
    """``d loss / d wrt`` for ``level``'s ``loss``, checked (see :func:`check_loss`, :func:`complete_grads`)."""
    check_loss(loss, level, where)
    if loss.requires_grad:
        raw = torch.autograd.grad(loss, list(wrt), create_graph=create_graph, allow_unused=True)
    else:
        raw = (None,) * len(wrt)
    return complete_grads(raw, wrt, level, where, require_path=require_path)


def global_norm(tensors: Sequence[Tensor]) -> float:
    """The 2-norm of all ``tensors`` taken as one vector."""
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors])))
