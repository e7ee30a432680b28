"""Choice: the candidates of one searchable cell.

``Choice([Conv(4, 2, 1), Conv(6, 2, 2)])`` checks when it is created that every candidate changes
H and W in the same way (over every input size in ``CHECK_SIZES`` that all candidates accept), and
when it is built that every candidate gives ``out_ch`` channels. ``build`` returns a ``MixedOp``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dgen.errors import SearchSpaceError
from dgen.search.mixed_op import MixedOp
from dgen.search.ops import OpSpec

__all__ = ["Choice", "CHECK_SIZES"]

# Input sizes (H and W) over which candidates must agree: even and odd sizes alike.
CHECK_SIZES = range(8, 65)


def _shape(spec: OpSpec, n: int, sizes: list[int]) -> str:
    """``"17x17 (2H+1 x 2W+1)"``: the output for an n x n input, with the rule when it is affine in H over ``sizes``."""
    size = f"{spec.out_len(n)}x{spec.out_len(n)}"
    slopes = {spec.out_len(m + 1) - spec.out_len(m) for m in sizes[:-1]}
    if len(slopes) != 1:
        return size
    slope = slopes.pop()
    offset = spec.out_len(n) - slope * n
    rule = {0: "", 1: "{}"}.get(slope, f"{slope}{{}}") + (f"{offset:+d}" if offset else "")
    return f"{size} ({rule.format('H')} x {rule.format('W')})"


@dataclass(frozen=True, repr=False, init=False)
class Choice:
    """An ordered, non-empty set of distinct op specs that all map an input to the same output shape."""

    candidates: tuple[OpSpec, ...]

    def __init__(self, candidates: Sequence[OpSpec]) -> None:
        if isinstance(candidates, (str, bytes, Mapping)) or not isinstance(candidates, Iterable):
            raise SearchSpaceError(
                f"Choice candidates {candidates!r} are not a list of op specs; "
                f"write e.g. Choice([Conv(4, 2, 1), Conv(6, 2, 2)])."
            )
        object.__setattr__(self, "candidates", tuple(candidates))
        self._check_candidates()
        self._check_sizes()

    def __repr__(self) -> str:
        return f"Choice({list(self.candidates)!r})"

    def __len__(self) -> int:
        return len(self.candidates)

    def _check_candidates(self) -> None:
        if not self.candidates:
            raise SearchSpaceError("Choice([]) has no candidates; give at least one, e.g. Choice([Conv(3, 1, 1)]).")
        for i, spec in enumerate(self.candidates):
            if isinstance(spec, Choice):
                raise SearchSpaceError(
                    f"Choice candidate {i} is itself a Choice {spec!r}; Choices do not nest: "
                    f"list its op specs directly in the outer Choice."
                )
            if not isinstance(spec, OpSpec):
                raise SearchSpaceError(
                    f"Choice candidate {i} {spec!r} is a {type(spec).__name__}, not an op spec; "
                    f"use specs from dgen.search such as Conv(3, 1, 1) or ConvT(4, 2, 1)."
                )
            if spec in self.candidates[:i]:
                first = self.candidates.index(spec)
                raise SearchSpaceError(
                    f"Choice candidate {i} {spec!r} repeats candidate {first}; remove the duplicate "
                    f"(a genotype names its pick by spec, so candidates must differ)."
                )

    def _check_sizes(self) -> None:
        valid = [n for n in CHECK_SIZES if all(c.out_len(n) >= 1 for c in self.candidates)]
        if not valid:
            worst = max(range(len(self)), key=lambda i: self.candidates[i].min_input())
            raise SearchSpaceError(
                f"Choice candidate {worst} {self.candidates[worst]!r} needs inputs of at least "
                f"{self.candidates[worst].min_input()}, so no size in {CHECK_SIZES.start}..{CHECK_SIZES.stop - 1} "
                f"suits every candidate; use smaller kernels or more padding."
            )
        for n in valid:
            lens = [c.out_len(n) for c in self.candidates]
            counts = Counter(lens)
            if len(counts) == 1:
                continue
            # The shape most candidates agree on is the reference; ties go to the earliest candidate.
            ref = max(lens, key=lambda v: (counts[v], -lens.index(v)))
            odd = next(i for i, v in enumerate(lens) if v != ref)
            agree = [i for i, v in enumerate(lens) if v == ref]
            spec, reference = self.candidates[odd], self.candidates[agree[0]]
            others = f"candidate {agree[0]} gives" if len(agree) == 1 else f"candidates {', '.join(map(str, agree))} give"
            raise SearchSpaceError(
                f"Choice candidate {odd} {spec!r} gives {_shape(spec, n, valid)} for input {n}x{n} while "
                f"{others} {_shape(reference, n, valid)}; every candidate must change H and W the same way: "
                f"{self._fix_hint(spec, reference, valid)}"
            )

    @staticmethod
    def _fix_hint(spec: OpSpec, reference: OpSpec, sizes: list[int]) -> str:
        """A same-kernel, different-padding replacement for ``spec`` that matches ``reference``, if one exists."""
        if "p" in {f.name for f in dataclasses.fields(spec)}:  # type: ignore[arg-type]
            for p in range(0, 2 * getattr(spec, "k") + 1):
                try:
                    fixed = dataclasses.replace(spec, p=p)  # type: ignore[type-var]
                except SearchSpaceError:
                    continue
                if all(fixed.out_len(n) == reference.out_len(n) for n in sizes):
                    return f"use {fixed!r} instead."
        return f"change its kernel size, stride or padding to match {reference!r}, or remove it."

    def check(self, in_ch: int, out_ch: int) -> None:
        """Raise SearchSpaceError unless every candidate built as ``(in_ch, out_ch)`` gives ``out_ch`` channels."""
        for name, value in (("in_ch", in_ch), ("out_ch", out_ch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SearchSpaceError(f"{self!r}.build: {name}={value!r} is invalid; pass an integer >= 1.")
        for i, spec in enumerate(self.candidates):
            got = spec.out_channels(in_ch, out_ch)
            if got != out_ch:
                raise SearchSpaceError(
                    f"Choice candidate {i} {spec!r} keeps the channel count, so it gives {got} channels while the "
                    f"Choice is built with out_ch={out_ch}; build with in_ch == out_ch or remove that candidate."
                )

    def build(self, in_ch: int, out_ch: int) -> MixedOp:
        """A MixedOp over the candidates, mapping ``(B, in_ch, H, W) -> (B, out_ch, H', W')``."""
        return MixedOp(self, in_ch, out_ch)
