"""The ``higher`` backend of the ``unroll`` solver: look-ahead by ``higher.optim`` differentiable optimizers.

The only module of dgen that imports ``higher``. Its differentiable optimizers deviate from
``torch.optim`` (measured with torch 2.14.1, documented in docs/mlo.md and pinned by tests):

* Adam adds ``eps`` before the bias correction of the second moment, i.e. it is ``torch.optim.Adam``
  with ``eps / sqrt(1 - beta2**t)`` at step t (x31.6 at t=1 for beta2=0.999);
* AdamW is not supported, and ``maximize`` and Adam's ``decoupled_weight_decay`` are silently
  ignored: those are refused here with a ``SolverError``;
* SGD and RMSprop equal ``torch.optim`` (to float rounding), but RMSprop warns on every
  construction that its gradients are not correct where the squared average is exactly 0
  (it masks those entries, as the ``func`` backend's safe square root does). Our tests check
  its hypergradients against the ``func`` backend, so the warning is silenced here.
"""

from __future__ import annotations

import warnings

import higher
import torch
from torch import Tensor

from dgen.errors import SolverError
from dgen.mlo.grads import check_grads, check_loss
from dgen.mlo.level import Level

__all__ = ["HIGHER_SUPPORTED", "HigherTrajectory", "check_higher_supported"]

_CLASSES = (torch.optim.SGD, torch.optim.Adam, torch.optim.RMSprop)
#: optimizer classes the ``higher`` backend accepts
HIGHER_SUPPORTED: tuple[str, ...] = tuple(cls.__name__ for cls in _CLASSES)


def check_higher_supported(optimizer: torch.optim.Optimizer, level: str) -> None:
    """Raise ``SolverError`` for what ``higher`` would get wrong silently or cannot do."""
    fix = "use backend='func' (the default), which supports it exactly"
    if type(optimizer) not in _CLASSES:
        raise SolverError(
            f"backend 'higher' cannot step level '{level}''s {type(optimizer).__name__}; it supports "
            f"{', '.join(HIGHER_SUPPORTED)}; {fix}."
        )
    for group in optimizer.param_groups:
        if group.get("maximize", False):
            raise SolverError(
                f"backend 'higher' ignores maximize=True of level '{level}''s {type(optimizer).__name__}; {fix}."
            )
        if group.get("decoupled_weight_decay", False):
            raise SolverError(f"backend 'higher' ignores decoupled_weight_decay of level '{level}''s Adam; {fix}.")


class HigherTrajectory:
    """Look-ahead of ``level`` by ``higher.optim.get_diff_optim`` steps, always keeping graphs (the level's
    ``lookahead_lr``, when set, overrides every group's lr)."""

    def __init__(self, level: Level) -> None:
        self.level = level
        self.params: list[Tensor] = list(level.params)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Differentiable RMSprop suffers", category=UserWarning)
            override = None if level.lookahead_lr is None else {"lr": [level.lookahead_lr] * len(level.optimizer.param_groups)}
            self._optimizer = higher.optim.get_diff_optim(
                level.optimizer, level.params, override=override, track_higher_grads=True
            )

    def evaluation_params(self) -> list[Tensor]:
        return self.params

    def step(self, loss: Tensor, where: str) -> list[Tensor | None]:
        check_loss(loss, self.level, where)
        if not loss.requires_grad:  # higher's autograd.grad would fail obscurely: raise dgen's SolverError
            check_grads((None,) * len(self.params), self.params, self.level, where)
        taken: list[list[Tensor | None]] = []

        def check(raw: tuple[Tensor | None, ...]) -> list[Tensor | None]:
            grads = check_grads(raw, self.params, self.level, where)  # higher skips None (unused), as torch.optim
            taken.append(grads)
            return grads

        self.params = list(self._optimizer.step(loss, params=self.params, grad_callback=check))
        return [None if g is None else g.detach() for g in taken[0]]
