"""A method's checkpoint state: ``{name: state}`` of its named parts (modules, optimisers, samplers, solvers,
``torch.Generator``s), and the level each entry belongs to (for NaN/Inf messages)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

__all__ = ["save_parts", "load_parts", "state_level"]

_STATE_LEVELS = {
    "segmenter": "seg", "seg_opt": "seg", "generator": "gen", "gen_opt": "gen", "arch_opt": "arch",
    "discriminator": "discriminator", "disc_opt": "discriminator",
    "pair_generator": "gen", "pair_gen_opt": "gen", "critic": "discriminator", "critic_opt": "discriminator",
}


def save_parts(parts: Mapping[str, Any]) -> dict[str, Any]:
    """``{name: state}`` of every part (a ``torch.Generator``'s state, else the part's ``state_dict()``)."""
    return {
        name: part.get_state() if isinstance(part, torch.Generator) else part.state_dict() for name, part in parts.items()
    }


def load_parts(parts: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    """Restore every part from :func:`save_parts`'s result (a missing entry raises ``KeyError``)."""
    for name, part in parts.items():
        if isinstance(part, torch.Generator):
            part.set_state(state[name])
        else:
            part.load_state_dict(state[name])


def state_level(path: str) -> str | None:
    """The level owning the entry ``path`` of a method's state (``"seg_opt/state/0/exp_avg"`` -> ``"seg"``,
    ``"generator/down.0.conv.alpha"`` -> ``"arch"``), or None for bookkeeping entries."""
    top, _, rest = path.partition("/")
    return "arch" if top == "generator" and rest.endswith(".alpha") else _STATE_LEVELS.get(top)
