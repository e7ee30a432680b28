"""A multi-level optimisation problem: levels and the graph of their dependencies, validated."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dgen.errors import GraphError, UnknownNameError, closest_match
from dgen.mlo.level import Level

__all__ = ["Problem"]


class Problem:
    """Levels of an MLO problem, checked as a graph at construction.

    ``A in B.upper`` means B's problem is parametrised by A's variables; ``C in A.lower`` means
    A's loss reads C's (approximate) solution, so A is updated with a hypergradient.

    Attributes:
        order: level names in topological order of ``upper`` (upper levels first).
        hypergradient_levels: levels with ``lower``, in ``order``; updated by hypergradients.
        hypergradient_groups: the hypergradient levels grouped by identical :meth:`unrolled` tuples
            (each group in ``order``, groups by their first member); the solvers build one look-ahead
            per group and per iteration and differentiate every member's loss at it.
        ordinary_levels: the other levels, in ``order``; updated with their own loss.

    Raises:
        GraphError: duplicate or unknown names, a cycle of ``upper``, an unconnected level, a
            ``lower`` level that does not depend on its reader, parameters shared between levels,
            ``direct=False`` without ``lower``, or a hypergradient level nested inside another's unroll.
    """

    def __init__(self, levels: Sequence[Level]) -> None:
        levels = list(levels)
        if not levels:
            raise GraphError("a Problem needs at least one Level; got none; pass Problem([Level(...), ...]).")
        for i, level in enumerate(levels):
            if not isinstance(level, Level):
                raise GraphError(
                    f"Problem level #{i} is a {type(level).__name__}; expected a dgen.mlo.Level subclass instance."
                )
        self._levels: dict[str, Level] = {}
        for level in levels:
            if level.name in self._levels:
                raise GraphError(f"two levels are named '{level.name}'; level names must be unique; rename one.")
            self._levels[level.name] = level
        self._check_edges()
        self.order: tuple[str, ...] = self._topological_order()
        self._dependents = {name: self._collect_dependents(name) for name in self.order}
        self._check_connected()
        self._check_lower()
        self._check_shared_params()
        self.hypergradient_levels = tuple(n for n in self.order if self._levels[n].lower)
        self.ordinary_levels = tuple(n for n in self.order if not self._levels[n].lower)
        self._unrolled = {n: self._collect_unrolled(n) for n in self.hypergradient_levels}
        self._check_nesting()
        groups: dict[tuple[str, ...], list[str]] = {}
        for name in self.hypergradient_levels:
            groups.setdefault(self._unrolled[name], []).append(name)
        self.hypergradient_groups: tuple[tuple[str, ...], ...] = tuple(tuple(g) for g in groups.values())

    # -- public queries --------------------------------------------------------------------

    def level(self, name: str) -> Level:
        """The level called ``name``."""
        if name not in self._levels:
            raise UnknownNameError("level", name, self._levels)
        return self._levels[name]

    def __iter__(self) -> Iterator[Level]:
        """Levels in topological order (upper first)."""
        return (self._levels[n] for n in self.order)

    def __len__(self) -> int:
        return len(self._levels)

    def dependents(self, name: str) -> frozenset[str]:
        """Levels whose solution depends on ``name`` through chains of ``upper`` (``name`` excluded)."""
        self.level(name)
        return self._dependents[name]

    def unrolled(self, name: str) -> tuple[str, ...]:
        """Levels unrolled for ``name``'s hypergradient: every level on an ``upper``-path from
        ``name`` to one of its ``lower`` levels (those included), in topological order."""
        if name not in self._unrolled:
            raise GraphError(
                f"level '{name}' has no lower levels, so it has no hypergradient; "
                f"hypergradient levels: {', '.join(self.hypergradient_levels) or '(none)'}."
            )
        return self._unrolled[name]

    def __repr__(self) -> str:
        return f"Problem({', '.join(self.order)})"

    # -- validation ------------------------------------------------------------------------

    def _check_edges(self) -> None:
        names = list(self._levels)
        for level in self._levels.values():
            for field in ("upper", "lower"):
                listed = getattr(level, field)
                for other in listed:
                    if other == level.name:
                        raise GraphError(
                            f"level '{level.name}' lists itself in {field}; remove '{other}' from its {field}."
                        )
                    if other not in self._levels:
                        hint = closest_match(other, names)
                        did_you_mean = f" Did you mean '{hint}'?" if hint else ""
                        raise GraphError(
                            f"level '{level.name}' lists {field} '{other}', which is not a level of this problem."
                            f"{did_you_mean} Levels: {', '.join(names)}; fix the name in {field}=...."
                        )
                    if listed.count(other) > 1:
                        raise GraphError(f"level '{level.name}' lists '{other}' twice in {field}; list it once.")
            both = set(level.upper) & set(level.lower)
            if both:
                name = sorted(both)[0]
                raise GraphError(
                    f"level '{level.name}' lists '{name}' both in upper and in lower, a cycle; "
                    f"keep it in upper if '{name}' parametrises '{level.name}', in lower if '{level.name}' reads its solution."
                )

    def _topological_order(self) -> tuple[str, ...]:
        order: list[str] = []
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        path: list[str] = []

        def visit(name: str) -> None:
            state[name] = 1
            path.append(name)
            for up in self._levels[name].upper:
                if state.get(up) == 1:
                    cycle = path[path.index(up) :] + [up]
                    raise GraphError(
                        f"the upper relation has a cycle: {' -> '.join(cycle)} (each level lists the next in upper); "
                        f"remove one of these upper entries."
                    )
                if up not in state:
                    visit(up)
            path.pop()
            state[name] = 2
            order.append(name)

        for name in self._levels:
            if name not in state:
                visit(name)
        return tuple(order)

    def _collect_dependents(self, name: str) -> frozenset[str]:
        found: set[str] = set()
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for other in self._levels.values():
                if current in other.upper and other.name not in found:
                    found.add(other.name)
                    frontier.append(other.name)
        return frozenset(found)

    def _check_connected(self) -> None:
        if len(self._levels) < 2:
            return
        referenced = {n for level in self._levels.values() for n in (*level.upper, *level.lower)}
        for level in self._levels.values():
            if not level.upper and not level.lower and level.name not in referenced:
                raise GraphError(
                    f"level '{level.name}' is not connected to any other level (no upper, no lower, and no level "
                    f"lists it); add it to another level's upper/lower, or give it upper=(...) or lower=(...)."
                )

    def _check_lower(self) -> None:
        for level in self._levels.values():
            for low in level.lower:
                if low not in self._dependents[level.name]:
                    raise GraphError(
                        f"level '{level.name}' lists lower '{low}', but '{low}' does not depend on '{level.name}' "
                        f"through upper, so its solution would not change with '{level.name}'; add '{level.name}' "
                        f"to the upper of '{low}' (or of a level on its upper chain), or remove '{low}' from lower."
                    )
            if not level.direct and not level.lower:
                raise GraphError(
                    f"level '{level.name}' has direct=False but no lower levels, so its loss would not depend on its "
                    f"variables at all; give it lower=(...) or set direct=True."
                )

    def _check_shared_params(self) -> None:
        owner: dict[int, str] = {}
        for level in self._levels.values():
            for p in level.params:
                if id(p) in owner:
                    shape = "(" + ", ".join(str(s) for s in p.shape) + ")"
                    raise GraphError(
                        f"levels '{owner[id(p)]}' and '{level.name}' share a parameter of shape {shape}; each tensor "
                        f"must belong to one level; split the params (e.g. gen.arch_parameters() vs gen.weight_parameters())."
                    )
                owner[id(p)] = level.name

    def _collect_unrolled(self, name: str) -> tuple[str, ...]:
        lower = self._levels[name].lower
        on_path = {
            other
            for other in self._dependents[name]
            if any(other == low or low in self._dependents[other] for low in lower)
        }
        return tuple(n for n in self.order if n in on_path)

    def _check_nesting(self) -> None:
        for name, unrolled in self._unrolled.items():
            nested = [n for n in unrolled if self._levels[n].lower]
            if nested:
                raise GraphError(
                    f"level '{nested[0]}' has lower levels and also lies between '{name}' and its lower levels "
                    f"({', '.join(self._levels[name].lower)}); nested hypergradients are not supported; "
                    f"remove lower from '{nested[0]}' or restructure the graph."
                )
