"""Range rules for numeric options: one table per config class, checked when the config is built.

A pipeline lists, for each numeric field of its config dataclass, the values it accepts::

    RULES = {"lr": Range(low=0, low_open=True, example="0.001", meaning="a learning rate"),
             "iterations": Range(low=1, example="200")}

and calls :func:`check_ranges` from ``__post_init__``. Every float must also be finite (NaN and
Inf are refused whatever the range). Fields left at ``None`` (filled later from a preset) are
not checked. The first violation raises one ``ConfigError`` naming the value, the range and a
valid example.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dgen.errors import ConfigError

__all__ = ["Range", "check_ranges", "unruled_fields"]


@dataclass(frozen=True)
class Range:
    """The values a numeric option accepts.

    Attributes:
        low, high: bounds (``None``: unbounded on that side).
        low_open: whether ``low`` itself is refused (``> low`` instead of ``>= low``).
        example: a valid value, shown in the fix.
        meaning: what the option is, shown in the message (e.g. ``"a learning rate"``).
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    example: str = ""
    meaning: str = ""

    def describe(self) -> str:
        """``"> 0"``, ``">= 1"``, ``"in [0, 4294967295]"``."""
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"<= {self.high:g}"
        return "finite"

    def problem(self, value: float) -> str | None:
        """Why ``value`` is refused (``"is not a finite number"``, ``"must be > 0"``), or None."""
        if isinstance(value, float) and not math.isfinite(value):
            return "is not a finite number"
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return f"must be {self.describe()}"
        if self.high is not None and value > self.high:
            return f"must be {self.describe()}"
        return None


def check_ranges(config: Any, rules: Mapping[str, Range]) -> None:
    """Check every field of ``config`` named in ``rules`` (``None`` values are skipped).

    Raises:
        ConfigError: ``"seg_lr=-0.001 must be > 0 (a learning rate); give e.g. --set seg_lr=0.001."``
    """
    for name, rule in rules.items():
        value = getattr(config, name)
        if value is None or isinstance(value, bool):
            continue
        why = rule.problem(value)
        if why is not None:
            meaning = f" ({rule.meaning})" if rule.meaning else ""
            example = f"; give e.g. --set {name}={rule.example}" if rule.example else ""
            raise ConfigError(f"{name}={value!r} {why}{meaning}{example}.")


def unruled_fields(config_class: type, rules: Mapping[str, Range]) -> list[str]:
    """The int/float fields of ``config_class`` that ``rules`` forgets (for a test that the table is complete)."""
    import typing

    hints = typing.get_type_hints(config_class)
    numeric = []
    for f in dataclasses.fields(config_class):
        args = typing.get_args(hints[f.name]) or (hints[f.name],)
        if any(a in (int, float) for a in args):
            numeric.append(f.name)
    return [name for name in numeric if name not in rules]
