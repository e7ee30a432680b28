"""Queries over a model that contains MixedOps: which parameters are architecture, which are weights.

``arch_parameters`` and ``weight_parameters`` split ``module.parameters()`` into two disjoint lists
(no duplicates, nothing left out), for the two optimisers of a DARTS search.
"""

from __future__ import annotations

import torch
from torch import nn

from dgen.errors import SearchSpaceError
from dgen.search.choice import Choice
from dgen.search.mixed_op import MixedOp
from dgen.search.ops import OpSpec

__all__ = ["mixed_ops", "arch_parameters", "weight_parameters", "arch_entropy", "build_op"]


def mixed_ops(module: nn.Module) -> list[tuple[str, MixedOp]]:
    """``(path, MixedOp)`` for every MixedOp in ``module``, in ``named_modules()`` order, each once.

    A MixedOp reachable by several paths (shared) is listed under the first; the module itself has path "".
    """
    return [(path, m) for path, m in module.named_modules() if isinstance(m, MixedOp)]


def arch_parameters(module: nn.Module) -> list[nn.Parameter]:
    """The ``alpha`` of every MixedOp in ``module`` (each of shape ``(n_candidates,)``), each once."""
    unique = {id(m.alpha): m.alpha for _, m in mixed_ops(module)}
    return list(unique.values())


def weight_parameters(module: nn.Module) -> list[nn.Parameter]:
    """Every parameter of ``module`` that is not an architecture parameter, in ``parameters()`` order."""
    arch = {id(p) for p in arch_parameters(module)}
    return [p for p in module.parameters() if id(p) not in arch]


@torch.no_grad()
def arch_entropy(module: nn.Module) -> dict[str, float]:
    """Entropy (nats) of ``softmax(alpha)`` per MixedOp path: ``log(n)`` when uniform, 0 when one-hot."""
    return {path: float(torch.special.entr(m.weights()).sum()) for path, m in mixed_ops(module)}


def build_op(op: OpSpec | Choice, in_ch: int, out_ch: int) -> nn.Module:
    """A MixedOp for a Choice, the plain module for an OpSpec: ``(B, in_ch, H, W) -> (B, out_ch, H', W')``.

    Lets one model constructor serve both the search (``Choice``) and the final network (the specs of
    a genotype).
    """
    if isinstance(op, (Choice, OpSpec)):
        return op.build(in_ch, out_ch)
    raise SearchSpaceError(
        f"build_op got {op!r} ({type(op).__name__}); expected an op spec such as Conv(3, 1, 1) "
        f"or a Choice([...]) of them."
    )
