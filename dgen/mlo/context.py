"""The view of all levels' variables that a loss is evaluated in: live values or look-aheads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor, nn
from torch.func import functional_call

__all__ = ["Context"]


class Context:
    """Holds look-ahead values that replace parameters, keyed by parameter identity.

    A Context without overrides is *live*: :meth:`call` runs the module as it is, so a loss
    evaluated for an ordinary update behaves exactly like normal training (BatchNorm running
    statistics are updated). A Context with overrides is a *look-ahead*: :meth:`call` runs the
    module with :func:`torch.func.functional_call` on the override-or-live parameters and on
    clones of its buffers, so look-ahead passes never mutate running statistics.

    Args:
        overrides: ``{parameter: value}`` (or ``(parameter, value)`` pairs); each value has the
            parameter's shape and usually carries the autograd graph of a look-ahead.
        update_buffers: a look-ahead Context that passes the modules' real buffers instead of
            clones, so BatchNorm running statistics are updated as in an ordinary training step.
            Solvers set it for the look-ahead step whose gradient replaces the ordinary update
            (``reuse_grads``): without it, running statistics would never be updated.
    """

    def __init__(
        self,
        overrides: Mapping[Tensor, Tensor] | Iterable[tuple[Tensor, Tensor]] | None = None,
        *,
        update_buffers: bool = False,
    ) -> None:
        self.update_buffers = update_buffers
        pairs = overrides.items() if isinstance(overrides, Mapping) else (overrides or ())
        self._values: dict[int, Tensor] = {}
        self._keep: list[Tensor] = []  # keeps keyed parameters alive so their ids stay unique
        for param, value in pairs:
            self._values[id(param)] = value
            self._keep.append(param)

    @property
    def lookahead(self) -> bool:
        """True when some parameter is replaced (buffers are then cloned in :meth:`call`)."""
        return bool(self._values)

    def param(self, p: Tensor) -> Tensor:
        """The current value of parameter ``p``: its override, else ``p`` itself."""
        return self._values.get(id(p), p)

    def call(self, module: nn.Module, *args: Any, **kwargs: Any) -> Any:
        """Run ``module(*args, **kwargs)`` with this Context's parameter values.

        Live Context: a plain call. Look-ahead Context: ``functional_call`` with every parameter
        replaced by :meth:`param` and every buffer by a clone (the buffer itself with ``update_buffers``).
        """
        if not self._values:
            return module(*args, **kwargs)
        tensors: dict[str, Tensor] = {name: self.param(p) for name, p in module.named_parameters()}
        tensors.update({name: b if self.update_buffers else b.clone() for name, b in module.named_buffers()})
        return functional_call(module, tensors, args, kwargs)
