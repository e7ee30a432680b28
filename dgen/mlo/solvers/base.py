"""What every solver shares: the iteration (hypergradients, then ordinary updates), NaN policy, state."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from torch import Tensor

from dgen.errors import ConfigError, NumericalError, ResumeError, UnknownNameError
from dgen.mlo.context import Context
from dgen.mlo.grads import NonFiniteError, global_norm, level_grads
from dgen.mlo.level import Level
from dgen.mlo.problem import Problem

__all__ = [
    "NAN_POLICIES", "FirstStep", "Hypergradient", "Solver", "check_flag", "check_hyper_every", "check_hyper_start",
]

#: what ``step`` does when a loss or gradient is NaN/Inf
NAN_POLICIES = ("raise", "skip")


@dataclass(frozen=True)
class FirstStep:
    """A level's first look-ahead step: its gradient ``grads`` (one per parameter, detached; ``None`` for a
    parameter the loss does not use) and its loss ``()`` (detached); reusable for that level's ordinary
    update (``reuse_grads``)."""

    grads: list[Tensor | None]
    loss: Tensor


@dataclass(frozen=True)
class Hypergradient:
    """The hypergradient of one level: ``grads`` (one per parameter, detached), the level's loss
    ``()`` at the look-ahead, and the first look-ahead step of every unrolled level by name."""

    grads: list[Tensor]
    loss: Tensor
    first_steps: dict[str, FirstStep]


def check_flag(value: Any, option: str) -> bool:
    """``value`` if it is a bool, else ``ConfigError`` naming ``option``."""
    if not isinstance(value, bool):
        raise ConfigError(f"solver option {option}={value!r}; expected True or False.")
    return value


def _check_count(value: Any, option: str, low: int, meaning: str, example: int) -> int:
    """``value`` if it is an int >= ``low``, else ``ConfigError`` naming ``option``, its ``meaning`` and an example."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(
            f"solver option {option}={value!r}; expected an int >= {low} ({meaning}), e.g. {option}={example}."
        )
    return value


def check_hyper_every(value: Any) -> int:
    """``value`` if it is an int >= 1, else ``ConfigError``."""
    return _check_count(value, "hyper_every", 1, "1: a hypergradient every iteration, k: every k-th iteration", 2)


def check_hyper_start(value: Any) -> int:
    """``value`` if it is an int >= 0, else ``ConfigError``."""
    return _check_count(value, "hyper_start", 0, "the first iteration that computes hypergradients; 0: from the start", 8)


class Solver(ABC):
    """One MLO iteration per :meth:`step`: the hypergradients of all levels that have ``lower``
    (computed at the current variables, then applied by their optimizers), then the ordinary
    update of every other level in topological order with its own loss at the current variables.
    Hypergradient levels that unroll the same levels (``problem.hypergradient_groups``) may share
    one look-ahead (``unroll`` and ``first_order`` do).

    Args:
        problem: the validated problem.
        reuse_grads: a level that was unrolled takes its first look-ahead gradient (detached) for
            its ordinary update instead of recomputing its loss: one forward and backward less per
            such level, but the gradient is taken at the upper variables of the look-ahead, i.e.
            before this iteration's hypergradient update.
        nan_policy: ``"raise"`` a :class:`~dgen.errors.NumericalError` naming the level whose loss or
            gradient is NaN/Inf, or ``"skip"``: that update is not applied, nor any later update of
            the iteration (updates already applied in it stay), and ``stats["skipped"]`` is 1.
        hyper_every: compute hypergradients only every ``hyper_every``-th iteration from ``hyper_start``
            (iterations ``i`` = :attr:`iteration`, from 0). At the others, a hypergradient level with
            ``direct=False`` is not updated, one with ``direct=True`` gets an ordinary update with its
            loss in a live Context (its lower levels at their current values), and every other level
            computes its own loss (there are no look-ahead gradients to reuse).
        hyper_start: the first iteration that computes hypergradients: they come at iterations ``i >=
            hyper_start`` with ``(i - hyper_start) % hyper_every == 0``; before it, every iteration is an off one
            (ordinary updates only), so that no hypergradient is taken through a learner at its initialisation,
            whose look-ahead gave one 30-2400x the later ones in GenSeg's steer runs.
    """

    name: ClassVar[str]

    def __init__(
        self, problem: Problem, *, reuse_grads: bool = False, nan_policy: str = "raise", hyper_every: int = 1,
        hyper_start: int = 0,
    ) -> None:
        if not isinstance(problem, Problem):
            raise ConfigError(
                f"a solver needs a dgen.mlo.Problem; got a {type(problem).__name__}; wrap the levels in Problem([...])."
            )
        if nan_policy not in NAN_POLICIES:
            raise UnknownNameError("nan_policy", str(nan_policy), NAN_POLICIES)
        self.problem = problem
        self.reuse_grads = check_flag(reuse_grads, "reuse_grads")
        self.nan_policy = nan_policy
        self.hyper_every = check_hyper_every(hyper_every)
        self.hyper_start = check_hyper_start(hyper_start)
        self.iteration = 0
        self.skipped = 0

    @abstractmethod
    def _hypergradients(self, targets: Sequence[Level], batch: Any) -> list[Hypergradient]:
        """The hypergradients of ``targets`` (one of ``problem.hypergradient_groups``: levels with ``lower``
        that unroll the same levels) at the current variables, in order."""

    def hypergradients(self, batch: Any) -> dict[str, list[Tensor]]:
        """Hypergradients of all levels that have ``lower``, by name, without applying them
        (computed whatever ``hyper_every`` says)."""
        return {name: hyper.grads for name, hyper in self._all_hypergradients(batch).items()}

    def _all_hypergradients(self, batch: Any) -> dict[str, Hypergradient]:
        """Every hypergradient level's :class:`Hypergradient`, in ``problem.hypergradient_levels`` order."""
        found: dict[str, Hypergradient] = {}
        for group in self.problem.hypergradient_groups:
            found.update(zip(group, self._hypergradients([self.problem.level(n) for n in group], batch), strict=True))
        return {name: found[name] for name in self.problem.hypergradient_levels}

    def step(self, batch: Any) -> dict[str, float]:
        """One MLO iteration on ``batch`` (handed to every level's loss).

        Returns:
            ``loss/<level>`` for every updated level (a hypergradient level's loss at the look-ahead;
            an ordinary level's loss, and a ``direct=True`` hypergradient level's at iterations without
            hypergradients, before its update), ``hypergrad_norm/<level>`` for every hypergradient level
            when hypergradients were computed, ``hyper`` (1 when they were, 0 when ``hyper_every``
            or ``hyper_start`` skipped them), ``skipped`` (0 or 1) and, when skipped, ``nonfinite/<level>`` = 1.
        """
        due = self.iteration >= self.hyper_start and (self.iteration - self.hyper_start) % self.hyper_every == 0
        stats: dict[str, float] = {"hyper": float(due)}
        try:
            self._iterate(batch, stats)
            stats["skipped"] = 0.0
        except NumericalError as err:
            if self.nan_policy == "raise":
                raise
            self.skipped += 1
            stats["skipped"] = 1.0
            if isinstance(err, NonFiniteError):
                stats[f"nonfinite/{err.level}"] = 1.0
        self.iteration += 1
        return stats

    def _iterate(self, batch: Any, stats: dict[str, float]) -> None:
        first_steps: dict[str, FirstStep] = {}
        if stats["hyper"]:
            for name, hyper in self._all_hypergradients(batch).items():
                _apply(self.problem.level(name), hyper.grads)
                stats[f"loss/{name}"] = float(hyper.loss)
                stats[f"hypergrad_norm/{name}"] = global_norm(hyper.grads)
                for unrolled, first in hyper.first_steps.items():
                    first_steps.setdefault(unrolled, first)
        else:
            levels = [self.problem.level(n) for n in self.problem.hypergradient_levels]
            updates = [(level, *_own_gradient(level, batch)) for level in levels if level.direct]  # all, then apply
            for level, grads, loss in updates:
                _apply(level, grads)
                stats[f"loss/{level.name}"] = float(loss)
        for name in self.problem.ordinary_levels:
            level = self.problem.level(name)
            if self.reuse_grads and name in first_steps:
                grads, loss = first_steps[name].grads, first_steps[name].loss
            else:
                grads, loss = _own_gradient(level, batch)
            _apply(level, grads)
            stats[f"loss/{name}"] = float(loss)

    def state_dict(self) -> dict[str, Any]:
        """What resuming needs besides the levels' optimizers (which their owner saves)."""
        return {"solver": self.name, "iteration": self.iteration, "skipped": self.skipped}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output.

        Raises:
            ResumeError: ``state`` is malformed or was saved by another solver.
        """
        if not isinstance(state, Mapping) or set(state) != {"solver", "iteration", "skipped"}:
            keys = sorted(state) if isinstance(state, Mapping) else type(state).__name__
            raise ResumeError(
                f"solver state has keys {keys}; expected ['iteration', 'skipped', 'solver'] as written by "
                f"Solver.state_dict(); resume from a checkpoint written by dgen."
            )
        if state["solver"] != self.name:
            raise ResumeError(
                f"solver state was saved by solver '{state['solver']}' but this is '{self.name}'; "
                f"resume with create_solver('{state['solver']}', ...) or start a new run."
            )
        for key in ("iteration", "skipped"):
            value = state[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ResumeError(f"solver state has {key}={value!r}; expected an int >= 0; the checkpoint is corrupt.")
        self.iteration, self.skipped = state["iteration"], state["skipped"]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.problem!r}, iteration={self.iteration})"


def _own_gradient(level: Level, batch: Any) -> tuple[list[Tensor | None], Tensor]:
    """The gradient of ``level``'s loss in a live Context (``None`` for an unused parameter) and that loss ``()``,
    detached: what its ordinary update applies."""
    loss = level.loss(Context(), batch)
    grads = level_grads(loss, level.params, level, f"the ordinary update of '{level.name}'", keep_unused=True)
    return grads, loss.detach()


def _apply(level: Level, grads: list[Tensor | None]) -> None:
    """Take one step of ``level``'s optimizer with ``grads`` as the parameters' gradients (``None``: unused,
    so the optimizer skips that parameter, as after ``loss.backward()``)."""
    for p, g in zip(level.params, grads, strict=True):
        p.grad = None if g is None else g.detach()
    level.optimizer.step()
    for p in level.params:
        p.grad = None
