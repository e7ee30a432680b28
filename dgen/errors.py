"""The one exception family of dgen.

Every message is a single line that says what was wrong (with the value), what
was expected, and how to fix it. The CLI prints it in red and exits 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "DgenError",
    "ConfigError",
    "UnknownNameError",
    "RegistryError",
    "GraphError",
    "SolverError",
    "SearchSpaceError",
    "DataError",
    "NumericalError",
    "ResumeError",
    "closest_match",
]


class DgenError(Exception):
    """Base class of every error dgen raises on purpose."""


class ConfigError(DgenError):
    """An option, configuration value or argument is invalid."""


class RegistryError(DgenError):
    """A plugin registered something malformed or conflicting."""


class GraphError(DgenError):
    """A multi-level optimisation graph is malformed (cycle, unknown or unconnected level)."""


class SolverError(DgenError):
    """A solver cannot be used for the problem it was given."""


class SearchSpaceError(DgenError):
    """A search space (Choice, genotype) is inconsistent."""


class DataError(DgenError):
    """Input data is missing, corrupt or has the wrong form."""


class NumericalError(DgenError):
    """A loss or gradient became NaN or Inf."""


class ResumeError(DgenError):
    """A run directory cannot be resumed."""


def closest_match(name: str, choices: Iterable[str]) -> str | None:
    """Return the choice most similar to ``name`` (difflib), or None if nothing is close."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


class UnknownNameError(ConfigError):
    """A name (task, backbone, solver, ...) is not registered.

    The message lists the available names and the closest match.
    """

    def __init__(self, kind: str, name: str, choices: Iterable[str]) -> None:
        ordered = sorted(choices)
        self.kind, self.name, self.choices = kind, name, ordered
        hint = closest_match(name, ordered)
        did_you_mean = f" Did you mean '{hint}'?" if hint else ""
        available = ", ".join(ordered) if ordered else "(none registered)"
        super().__init__(f"unknown {kind} '{name}'.{did_you_mean} Available: {available}.")
