"""Gradients of a level's loss, checked: scalar loss, an autograd path, finite values."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dgen.errors import ConfigError, NumericalError, SolverError
from dgen.mlo.level import Level

__all__ = ["NonFiniteError", "check_grads", "check_loss", "complete_grads", "global_norm", "level_grads"]


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


def check_grads(
    raw: Sequence[Tensor | None], wrt: Sequence[Tensor], level: Level, where: str, *, require_path: bool = True
) -> list[Tensor | None]:
    """Check gradients and return them as a list; ``None`` (a tensor the loss does not use) stays ``None``.

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
    bad = _first_nonfinite([g for g in raw if g is not None])
    if bad is not None:
        raise NonFiniteError(
            f"a gradient of level '{level.name}' (a tensor of shape {bad}) has NaN/Inf entries in {where}; {_advice(level)}",
            level.name,
        )
    return list(raw)


def complete_grads(
    raw: Sequence[Tensor | None], wrt: Sequence[Tensor], level: Level, where: str, *, require_path: bool = True
) -> list[Tensor]:
    """:func:`check_grads`, then ``None`` (unused) gradients replaced by zeros."""
    checked = check_grads(raw, wrt, level, where, require_path=require_path)
    return [torch.zeros_like(w) if g is None else g for g, w in zip(checked, wrt, strict=True)]


def _first_nonfinite(tensors: Sequence[Tensor]) -> tuple[int, ...] | None:
    """The shape of the first tensor with a NaN/Inf entry, or None.

    A sum with a NaN/Inf term is not finite, so one fast reduction per tensor (and one host sync) clears
    the usual all-finite case; only a non-finite sum (or a finite-entry sum that overflows) pays for the
    exact per-entry test.
    """
    if not tensors:
        return None
    with torch.no_grad():
        if bool(torch.isfinite(torch.stack([t.sum() for t in tensors])).all()):
            return None
        return next((tuple(t.shape) for t in tensors if not bool(torch.isfinite(t).all())), None)


def level_grads(
    loss: Tensor,
    wrt: Sequence[Tensor],
    level: Level,
    where: str,
    *,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    require_path: bool = True,
    keep_unused: bool = False,
) -> list[Tensor | None]:
    """``d loss / d wrt`` for ``level``'s ``loss``, checked (see :func:`check_loss`, :func:`check_grads`).

    ``retain_graph``: keep the graph for another gradient through it (``None``: as ``create_graph``).

    ``keep_unused``: a tensor the loss does not use gets ``None``, as ``loss.backward()`` leaves its
    ``.grad`` (so optimizers skip it); otherwise zeros.
    """
    check_loss(loss, level, where)
    if loss.requires_grad:
        raw = torch.autograd.grad(
            loss, list(wrt), create_graph=create_graph, retain_graph=retain_graph, allow_unused=True
        )
    else:
        raw = (None,) * len(wrt)
    if keep_unused:
        return check_grads(raw, wrt, level, where, require_path=require_path)
    return complete_grads(raw, wrt, level, where, require_path=require_path)


def global_norm(tensors: Sequence[Tensor]) -> float:
    """The 2-norm of all ``tensors`` taken as one vector."""
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors])))
