"""Op specs: frozen, hashable descriptions of one candidate operation of a search cell.

A spec knows its output shape analytically (``out_size``, ``out_channels``), builds the module
(``build(in_ch, out_ch)``), has a short stable ``key`` for logs, and round-trips through JSON
(``to_dict`` / ``op_from_dict``) and through ``eval(repr(spec))``. Arguments are checked when the
spec is created; channel counts when it is built.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from torch import nn

from dgen.errors import SearchSpaceError, closest_match
from dgen.search.layers import ZeroOp, dil_conv, sep_conv, upsampled

__all__ = [
    "OpSpec",
    "Conv",
    "ConvT",
    "Identity",
    "Zero",
    "SepConv",
    "DilConv",
    "MaxPool",
    "AvgPool",
    "UpSepConv",
    "UpDilConv",
    "OP_SPECS",
    "op_from_dict",
]

# Integer fields: (smallest valid value, what it means). Shared by every spec.
_INT_FIELDS = {
    "k": (1, "kernel size"),
    "s": (1, "stride"),
    "p": (0, "padding"),
    "d": (1, "dilation"),
    "stride": (1, "stride"),
}
_KEY_NAMES = {"stride": "s"}


def conv_len(n: int, k: int, s: int, p: int, d: int = 1) -> int:
    """Output length of a (dilated) convolution or pooling along one axis; <= 0 means n is too small."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


class OpSpec(ABC):
    """Base of all op specs. Concrete specs are frozen dataclasses; do not subclass them further."""

    op: ClassVar[str]  # the name used in JSON, e.g. "conv"
    keeps_channels: ClassVar[bool] = False  # True: output channels == input channels (identity, pooling)

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if field.type in ("bool", bool):
                if not isinstance(value, bool):
                    raise SearchSpaceError(
                        f"{type(self).__name__} {field.name}={value!r} is invalid: expected True or False; "
                        f"pass {field.name}=True or {field.name}=False."
                    )
                continue
            low, meaning = _INT_FIELDS[field.name]
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SearchSpaceError(
                    f"{type(self).__name__} {meaning} {field.name}={value!r} is invalid: expected an integer "
                    f">= {low}; set {field.name} to {low} or more."
                )

    # ------------------------------------------------------------------ shape
    @abstractmethod
    def out_len(self, n: int) -> int:
        """Output length along one spatial axis for input length ``n``; a value <= 0 means n is too small."""

    def out_channels(self, in_ch: int, out_ch: int) -> int:
        """Channels of the output when built with ``build(in_ch, out_ch)``."""
        return in_ch if self.keeps_channels else out_ch

    def min_input(self) -> int:
        """Smallest input length (H or W) this op accepts."""
        n = 1
        while self.out_len(n) < 1:
            n += 1
        return n

    def out_size(self, h: int, w: int) -> tuple[int, int]:
        """Output ``(H', W')`` for an input of spatial size ``(H, W)``, computed without running the op."""
        for name, value in (("h", h), ("w", w)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SearchSpaceError(f"{self!r}.out_size: {name}={value!r} is invalid; pass an integer >= 1.")
        out = (self.out_len(h), self.out_len(w))
        if min(out) < 1:
            raise SearchSpaceError(
                f"{self!r} cannot take a {h}x{w} input (the output would be {out[0]}x{out[1]}); "
                f"it needs H and W >= {self.min_input()}: feed a larger input or use fewer down-sampling cells."
            )
        return out

    # ------------------------------------------------------------------ module
    @abstractmethod
    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        """The module, for channel counts already checked."""

    def build(self, in_ch: int, out_ch: int) -> nn.Module:
        """Module mapping ``(B, in_ch, H, W) -> (B, out_channels(in_ch, out_ch), *out_size(H, W))``."""
        for name, value in (("in_ch", in_ch), ("out_ch", out_ch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SearchSpaceError(f"{self!r}.build: {name}={value!r} is invalid; pass an integer >= 1.")
        if self.out_channels(in_ch, out_ch) != out_ch:
            raise SearchSpaceError(
                f"{self!r} keeps the channel count but was built with in_ch={in_ch}, out_ch={out_ch}; "
                f"build it with in_ch == out_ch, or use an op that changes channels such as Conv(1, 1, 0)."
            )
        return self._make(in_ch, out_ch)

    # ------------------------------------------------------------------ naming and serialisation
    @property
    def key(self) -> str:
        """Short stable name, e.g. ``"conv_k4s2p1"``; boolean fields appear only when not default (``_nobias``)."""
        parts = ""
        flags = []
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if isinstance(value, bool):
                if value != field.default:
                    flags.append(("" if value else "no") + field.name)
            else:
                parts += f"{_KEY_NAMES.get(field.name, field.name)}{value}"
        return "_".join([self.op] + ([parts] if parts else []) + flags)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, e.g. ``{"op": "conv", "k": 4, "s": 2, "p": 1, "bias": true}``."""
        return {"op": self.op, **dataclasses.asdict(self)}  # type: ignore[call-overload]

    def __repr__(self) -> str:
        args = []
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if field.default is dataclasses.MISSING:
                args.append(repr(value))
            elif value != field.default:
                args.append(f"{field.name}={value!r}")
        return f"{type(self).__name__}({', '.join(args)})"


@dataclass(frozen=True, repr=False)
class Conv(OpSpec):
    """``nn.Conv2d(in_ch, out_ch, k, stride=s, padding=p, bias=bias)``; H' = floor((H + 2p - k) / s) + 1."""

    op: ClassVar[str] = "conv"
    k: int
    s: int
    p: int
    bias: bool = True

    def out_len(self, n: int) -> int:
        return conv_len(n, self.k, self.s, self.p)

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return nn.Conv2d(in_ch, out_ch, self.k, self.s, self.p, bias=self.bias)


@dataclass(frozen=True, repr=False)
class ConvT(OpSpec):
    """``nn.ConvTranspose2d(in_ch, out_ch, k, stride=s, padding=p, bias=bias)``; H' = (H - 1) s - 2p + k."""

    op: ClassVar[str] = "convt"
    k: int
    s: int
    p: int
    bias: bool = True

    def out_len(self, n: int) -> int:
        return (n - 1) * self.s - 2 * self.p + self.k

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return nn.ConvTranspose2d(in_ch, out_ch, self.k, self.s, self.p, bias=self.bias)


@dataclass(frozen=True, repr=False)
class Identity(OpSpec):
    """Skip connection (``nn.Identity``); needs in_ch == out_ch and keeps H and W."""

    op: ClassVar[str] = "identity"
    keeps_channels: ClassVar[bool] = True

    def out_len(self, n: int) -> int:
        return n

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return nn.Identity()


@dataclass(frozen=True, repr=False)
class Zero(OpSpec):
    """The DARTS "none" op: zeros of shape ``(B, out_ch, ceil(H / stride), ceil(W / stride))``."""

    op: ClassVar[str] = "zero"
    stride: int = 1

    def out_len(self, n: int) -> int:
        return -(-n // self.stride)

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return ZeroOp(self.stride, out_ch)


@dataclass(frozen=True, repr=False)
class SepConv(OpSpec):
    """DARTS separable conv: (ReLU, depthwise k x k stride s, pointwise 1 x 1, BN) then the same with stride 1.

    Both stages use padding p, so H' = conv(conv(H, k, s, p), k, 1, p). Convs have no bias.
    """

    op: ClassVar[str] = "sepconv"
    k: int
    s: int
    p: int

    def out_len(self, n: int) -> int:
        first = conv_len(n, self.k, self.s, self.p)
        return conv_len(first, self.k, 1, self.p) if first >= 1 else first

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return sep_conv(in_ch, out_ch, self.k, self.s, self.p)


@dataclass(frozen=True, repr=False)
class DilConv(OpSpec):
    """DARTS dilated conv: ReLU, depthwise k x k (stride s, dilation d), pointwise 1 x 1, BN.

    H' = floor((H + 2p - d (k - 1) - 1) / s) + 1. Convs have no bias.
    """

    op: ClassVar[str] = "dilconv"
    k: int
    s: int
    p: int
    d: int

    def out_len(self, n: int) -> int:
        return conv_len(n, self.k, self.s, self.p, self.d)

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return dil_conv(in_ch, out_ch, self.k, self.s, self.p, self.d)


@dataclass(frozen=True, repr=False)
class UpSepConv(OpSpec):
    """Nearest 2x upsampling, then the DARTS separable conv with stride 1 (two ReLU-depthwise-pointwise-BN stages).

    H' = conv(conv(2H, k, 1, p), k, 1, p); with ``p = (k - 1) / 2`` it doubles H and W, like ``ConvT(4, 2, 1)``.
    """

    op: ClassVar[str] = "upsepconv"
    k: int
    p: int

    def out_len(self, n: int) -> int:
        first = conv_len(2 * n, self.k, 1, self.p)
        return conv_len(first, self.k, 1, self.p) if first >= 1 else first

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return upsampled(sep_conv(in_ch, out_ch, self.k, 1, self.p))


@dataclass(frozen=True, repr=False)
class UpDilConv(OpSpec):
    """Nearest 2x upsampling, then the DARTS dilated conv with stride 1 (ReLU, depthwise dilation d, pointwise, BN).

    H' = 2H + 2p - d (k - 1); with ``p = d (k - 1) / 2`` it doubles H and W.
    """

    op: ClassVar[str] = "updilconv"
    k: int
    p: int
    d: int

    def out_len(self, n: int) -> int:
        return conv_len(2 * n, self.k, 1, self.p, self.d)

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return upsampled(dil_conv(in_ch, out_ch, self.k, 1, self.p, self.d))


class _Pool(OpSpec):
    """Shared rules of the pooling specs: channels are kept and p may be at most k / 2 (as PyTorch requires)."""

    keeps_channels: ClassVar[bool] = True
    k: int
    s: int
    p: int

    def __post_init__(self) -> None:
        super().__post_init__()
        if 2 * self.p > self.k:
            raise SearchSpaceError(
                f"{type(self).__name__} padding p={self.p} is more than half the kernel size k={self.k}, "
                f"which PyTorch rejects; use p <= {self.k // 2}."
            )

    def out_len(self, n: int) -> int:
        return conv_len(n, self.k, self.s, self.p)


@dataclass(frozen=True, repr=False)
class MaxPool(_Pool):
    """``nn.MaxPool2d(k, s, p)``; keeps channels, H' = floor((H + 2p - k) / s) + 1."""

    op: ClassVar[str] = "maxpool"
    k: int
    s: int
    p: int

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return nn.MaxPool2d(self.k, self.s, self.p)


@dataclass(frozen=True, repr=False)
class AvgPool(_Pool):
    """``nn.AvgPool2d(k, s, p, count_include_pad=False)`` (as in DARTS); keeps channels."""

    op: ClassVar[str] = "avgpool"
    k: int
    s: int
    p: int

    def _make(self, in_ch: int, out_ch: int) -> nn.Module:
        return nn.AvgPool2d(self.k, self.s, self.p, count_include_pad=False)


OP_SPECS: Mapping[str, type[OpSpec]] = MappingProxyType(
    {cls.op: cls for cls in (Conv, ConvT, Identity, Zero, SepConv, DilConv, MaxPool, AvgPool, UpSepConv, UpDilConv)}
)


def op_from_dict(data: Mapping[str, Any]) -> OpSpec:
    """Inverse of ``OpSpec.to_dict``; fields with defaults (``bias``, ``stride``) may be left out."""
    example = '{"op": "conv", "k": 4, "s": 2, "p": 1, "bias": true}'
    if not isinstance(data, Mapping):
        raise SearchSpaceError(f"op spec {data!r} is a {type(data).__name__}; write it as an object like {example}.")
    name = data.get("op")
    if not isinstance(name, str) or name not in OP_SPECS:
        available = ", ".join(sorted(OP_SPECS))
        if name is None:
            raise SearchSpaceError(f"op spec {dict(data)!r} has no 'op' key; add one, e.g. {example}. Ops: {available}.")
        hint = closest_match(str(name), OP_SPECS)
        did_you_mean = f" Did you mean '{hint}'?" if hint else ""
        raise SearchSpaceError(f"unknown op {name!r}.{did_you_mean} Available: {available}.")
    cls = OP_SPECS[name]
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    expected = ", ".join(f.name for f in fields) or "(none)"
    given = {k: v for k, v in data.items() if k != "op"}
    unknown = sorted(set(given) - {f.name for f in fields})
    missing = [f.name for f in fields if f.default is dataclasses.MISSING and f.name not in given]
    if unknown or missing:
        problem = f"unknown field(s) {unknown}" if unknown else f"missing field(s) {missing}"
        raise SearchSpaceError(f"op {name!r} has {problem}; its fields are: {expected}.")
    return cls(**given)
