"""From a searched model to a final one: ``derive`` picks each MixedOp's best candidate, ``fix`` keeps only it."""

from __future__ import annotations

import copy

import torch
from torch import nn

from dgen.errors import NumericalError, SearchSpaceError, closest_match
from dgen.search.genotype import Genotype
from dgen.search.mixed_op import MixedOp
from dgen.search.space import mixed_ops

__all__ = ["derive", "fix"]


def derive(model: nn.Module) -> Genotype:
    """The genotype ``{path: candidate with the largest alpha}`` over the MixedOps of ``model`` (ties: first)."""
    found = mixed_ops(model)
    if not found:
        raise SearchSpaceError(
            f"{type(model).__name__} has no MixedOp, so there is no architecture to derive; build its "
            f"searchable cells with Choice([...]).build(in_ch, out_ch) or build_op(choice, in_ch, out_ch)."
        )
    picks = []
    for path, mixed in found:
        alpha = mixed.alpha.detach()
        if torch.isnan(alpha).any():
            raise NumericalError(
                f"alpha of MixedOp {path!r} contains NaN ({alpha.tolist()}); the search diverged: "
                f"lower the architecture learning rate or resume from an earlier checkpoint."
            )
        picks.append((path, mixed.specs[int(torch.argmax(alpha))]))
    return Genotype(picks)


def fix(model: nn.Module, genotype: Genotype) -> nn.Module:
    """A deep copy of ``model`` where each MixedOp is replaced by its candidate chosen in ``genotype``.

    The chosen candidate keeps its trained weights; the other candidates and alpha are dropped. The
    genotype must name exactly the MixedOp paths of ``model`` (as ``derive`` does), each with one of
    that MixedOp's candidates. A MixedOp shared by several paths stays shared.
    """
    if not isinstance(genotype, Genotype):
        raise SearchSpaceError(
            f"fix needs a Genotype, got {type(genotype).__name__}; use derive(model), Genotype.load(path) "
            f"or Genotype({{path: spec}})."
        )
    found = dict(mixed_ops(model))
    for path, mixed in found.items():
        if path not in genotype:
            raise SearchSpaceError(
                f"genotype has no op for MixedOp {path!r} of {type(model).__name__}; derive the genotype "
                f"from a model with this layout (derive(model)) or add an entry for {path!r}."
            )
        if genotype[path] not in mixed.specs:
            raise SearchSpaceError(
                f"genotype picks {genotype[path]!r} at {path!r}, which is not a candidate there "
                f"(candidates: {list(mixed.specs)!r}); use one of them."
            )
    for path in genotype:
        if path not in found:
            hint = closest_match(path, found)
            did_you_mean = f" Did you mean '{hint}'?" if hint else ""
            raise SearchSpaceError(
                f"genotype path {path!r} is not a MixedOp of {type(model).__name__}.{did_you_mean} "
                f"Its MixedOps: {', '.join(found) or '(none)'}; use a genotype derived from this model's layout."
            )

    fixed = copy.deepcopy(model)
    chosen: dict[int, nn.Module] = {}
    for path, mixed in fixed.named_modules(remove_duplicate=False):
        if isinstance(mixed, MixedOp) and id(mixed) not in chosen:  # first path, as in mixed_ops
            chosen[id(mixed)] = mixed.ops[mixed.specs.index(genotype[path])]
    if isinstance(fixed, MixedOp):
        return chosen[id(fixed)]
    for path, mixed in list(fixed.named_modules(remove_duplicate=False)):
        if isinstance(mixed, MixedOp):
            parent_path, _, name = path.rpartition(".")
            setattr(fixed.get_submodule(parent_path), name, chosen[id(mixed)])
    return fixed
