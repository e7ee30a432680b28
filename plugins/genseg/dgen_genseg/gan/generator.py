"""GenSeg's mask-to-image generator: a pix2pix U-Net whose encoder and decoder cells are searchable.

Level ``i`` (0 = outermost) has ``ch(i) = ngf * min(2**i, max_mult)`` channels. Its down block is
``LeakyReLU(0.2) -> conv cell -> norm`` (no activation on level 0, no norm on the outermost and
innermost levels) and its up block ``ReLU -> transposed-conv cell -> norm [-> dropout]`` (level 0:
``ReLU -> cell -> tanh``). Every up block but the innermost reads its level's skip features
concatenated with the output of the level below, as in pix2pix's ``UnetGenerator``.

A cell is an op spec (a fixed op) or a :class:`~dgen.search.Choice` (a searchable ``MixedOp`` with an
``alpha``). The cell modules live at ``down.<i>.conv`` and ``up.<i>.conv``, so ``fix(gen, derive(gen))``
and ``Pix2PixGenerator.from_genotype(derive(gen), ...)`` have the same ``state_dict`` keys.

The generator works in the tanh range: feed ``to_tanh_range(mask)`` and read images in [-1, 1]
(see :mod:`dgen_genseg.gan.losses`).
"""

from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from dgen.errors import ConfigError, DataError, SearchSpaceError
from dgen.generator import Generator
from dgen.errors import UnknownNameError
from dgen.search import Choice, Conv, ConvT, DilConv, Genotype, OpSpec, SepConv, UpDilConv, UpSepConv, build_op
from dgen_genseg.gan.checks import check_int
from dgen_genseg.gan.norm import check_norm, make_norm

__all__ = [
    "Pix2PixGenerator",
    "Cell",
    "DOWN_CHOICE",
    "UP_CHOICE",
    "PIX2PIX_DOWN",
    "PIX2PIX_UP",
    "FUNCTIONAL_DOWN_CHOICE",
    "FUNCTIONAL_UP_CHOICE",
    "SEARCH_SPACES",
    "DOWN_PATH",
    "UP_PATH",
]

#: a cell of the U-Net: a fixed op spec or a Choice among specs.
Cell = OpSpec | Choice

#: GenSeg's searchable encoder cell: three convolutions that each halve H and W.
DOWN_CHOICE = Choice([Conv(4, 2, 1), Conv(6, 2, 2), Conv(8, 2, 3)])
#: GenSeg's searchable decoder cell: three transposed convolutions that each double H and W.
UP_CHOICE = Choice([ConvT(4, 2, 1), ConvT(6, 2, 2), ConvT(8, 2, 3)])
#: a searchable encoder cell whose candidates differ as functions (each ``ceil(H / 2)``): a plain conv, the DARTS
#: separable conv (ReLU inside, two stages) and the DARTS dilated conv (ReLU, dilation 2). Unlike
#: :data:`DOWN_CHOICE`, a mix of them is not one linear op.
FUNCTIONAL_DOWN_CHOICE = Choice([Conv(3, 2, 1), SepConv(3, 2, 1), DilConv(3, 2, 2, 2)])
#: the decoder twin (each doubles H and W): pix2pix's transposed conv, and nearest 2x upsampling followed by
#: the separable or the dilated conv.
FUNCTIONAL_UP_CHOICE = Choice([ConvT(4, 2, 1), UpSepConv(3, 1), UpDilConv(3, 2, 2)])
#: the searchable cells of each search space: ``(down, up)``.
SEARCH_SPACES: dict[str, tuple[Choice, Choice]] = {
    "paper": (DOWN_CHOICE, UP_CHOICE),
    "functional": (FUNCTIONAL_DOWN_CHOICE, FUNCTIONAL_UP_CHOICE),
}
#: the plain pix2pix cells.
PIX2PIX_DOWN = Conv(4, 2, 1)
PIX2PIX_UP = ConvT(4, 2, 1)
#: module paths of the cells (patterns for :meth:`Genotype.sequence`).
DOWN_PATH = "down.{}.conv"
UP_PATH = "up.{}.conv"

_OWNER = "Pix2PixGenerator"
_CELL_PATH = re.compile(r"(down|up)\.(0|[1-9][0-9]*)\.conv")
_SCALES = {
    "down": ("halve", lambda spec: all(spec.out_len(n) == n // 2 for n in range(2, 257, 2))),
    "up": ("double", lambda spec: all(spec.out_len(n) == 2 * n for n in range(1, 129))),
}


def _specs(cell: Cell) -> tuple[OpSpec, ...]:
    return cell.candidates if isinstance(cell, Choice) else (cell,)


def _check_cells(side: str, cells: Sequence[Cell], num_downs: int, example: Cell) -> list[Cell]:
    """``cells`` as a list after checking there is one per level and each halves (down) or doubles (up) H and W."""
    if isinstance(cells, (str, bytes, OpSpec, Choice)) or not isinstance(cells, Sequence) or len(cells) != num_downs:
        raise ConfigError(
            f"{_OWNER} {side}={cells!r} must list one cell per level ({num_downs} for num_downs={num_downs}); "
            f"pass e.g. {side}=[{example!r}] * {num_downs}."
        )
    verb, scales = _SCALES[side]
    for i, cell in enumerate(cells):
        if not isinstance(cell, (OpSpec, Choice)):
            raise SearchSpaceError(
                f"{_OWNER} {side} cell {i} is {cell!r} ({type(cell).__name__}); expected an op spec or a Choice, "
                f"e.g. {example!r}."
            )
        for spec in _specs(cell):
            if not scales(spec):
                raise SearchSpaceError(
                    f"{_OWNER} {side} cell {i} {spec!r} maps a 64x64 input to {spec.out_len(64)}x{spec.out_len(64)}; "
                    f"every {side} cell must {verb} H and W: use e.g. {example!r}."
                )
    return list(cells)


def _with_bias(cell: Cell, bias: bool) -> Cell:
    """``cell`` with the ``bias`` flag of its Conv/ConvT specs set to ``bias`` (other specs unchanged)."""

    def set_bias(spec: OpSpec) -> OpSpec:
        has_bias = any(f.name == "bias" for f in dataclasses.fields(spec))  # type: ignore[arg-type]
        return dataclasses.replace(spec, bias=bias) if has_bias else spec  # type: ignore[type-var]

    return Choice([set_bias(s) for s in cell.candidates]) if isinstance(cell, Choice) else set_bias(cell)


class Pix2PixGenerator(Generator):
    """Searchable pix2pix U-Net: condition ``(B, in_channels, H, W)`` -> image ``(B, out_channels, H, W)`` in [-1, 1].

    H and W must be multiples of ``2**num_downs`` (see :meth:`check_input_size`). The defaults are
    the paper's generator (pix2pix ``unet_256``: ngf 64, 8 levels, channels capped at 8 x ngf,
    BatchNorm, dropout 0.5) with both encoder and decoder searchable.

    The generator owns the ``bias`` flag of Conv/ConvT cells: a cell followed by a norm layer is
    built without bias (the norm removes it, so it would get no gradient), the others with one.

    Args:
        in_channels: channels of the condition (1 for a binary mask).
        out_channels: channels of the generated image (1 grey, 3 RGB).
        ngf: channels of the outermost level.
        num_downs: number of levels (down/up cell pairs); the bottleneck is ``H / 2**num_downs``.
        max_mult: channel cap as a multiple of ``ngf`` (pix2pix: 8).
        norm: ``"batch"`` or ``"instance"``.
        dropout: dropout probability after the up blocks whose input and output are both at the
            channel cap, except the innermost (pix2pix: 0.5 in three blocks of ``unet_256``); 0 = off.
        search_space: the searchable cells ``search_down`` / ``search_up`` use: ``"paper"`` (:data:`DOWN_CHOICE`,
            :data:`UP_CHOICE`: three concentric (transposed) convolutions, equal to one 8x8 conv for any alpha) or
            ``"functional"`` (:data:`FUNCTIONAL_DOWN_CHOICE`, :data:`FUNCTIONAL_UP_CHOICE`: candidates with their
            own nonlinearity). See docs/search.md.
        search_down: when ``down`` is not given, use the search space's down Choice (True) or the plain
            :data:`PIX2PIX_DOWN` (False) at every level.
        search_up: likewise for the decoder (its up Choice or :data:`PIX2PIX_UP`).
        down: explicit encoder cells, outermost first, one per level (overrides ``search_down``).
        up: explicit decoder cells, outermost first, one per level (overrides ``search_up``).
    """

    def __init__(
        self,
        *,
        in_channels: int = 1,
        out_channels: int = 3,
        ngf: int = 64,
        num_downs: int = 8,
        max_mult: int = 8,
        norm: str = "batch",
        dropout: float = 0.5,
        search_space: str = "paper",
        search_down: bool = True,
        search_up: bool = True,
        down: Sequence[Cell] | None = None,
        up: Sequence[Cell] | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_int(_OWNER, "in_channels", in_channels, 1, 1)
        self.out_channels = check_int(_OWNER, "out_channels", out_channels, 1, 3)
        self.ngf = check_int(_OWNER, "ngf", ngf, 1, 64)
        self.num_downs = check_int(_OWNER, "num_downs", num_downs, 1, 8)
        self.max_mult = check_int(_OWNER, "max_mult", max_mult, 1, 8)
        self.norm = check_norm(norm)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ConfigError(
                f"{_OWNER} dropout={dropout!r} is invalid: expected a probability in [0, 1); "
                f"pass e.g. dropout=0.5, or 0 for none."
            )
        self.dropout = float(dropout)
        if search_space not in SEARCH_SPACES:
            raise UnknownNameError("search_space", str(search_space), SEARCH_SPACES)
        self.search_space = search_space
        down_choice, up_choice = SEARCH_SPACES[search_space]
        levels = self.num_downs
        if down is None:
            down = [down_choice if search_down else PIX2PIX_DOWN] * levels
        if up is None:
            up = [up_choice if search_up else PIX2PIX_UP] * levels
        self.down_cells = _check_cells("down", down, levels, PIX2PIX_DOWN)
        self.up_cells = _check_cells("up", up, levels, PIX2PIX_UP)

        ch = [self.level_channels(i) for i in range(levels)]
        cap = self.ngf * self.max_mult
        self.down = nn.ModuleList()
        for i in range(levels):
            has_norm = 0 < i < levels - 1
            block: OrderedDict[str, nn.Module] = OrderedDict()
            if i > 0:
                block["act"] = nn.LeakyReLU(0.2)
            in_ch = self.in_channels if i == 0 else ch[i - 1]
            block["conv"] = build_op(_with_bias(self.down_cells[i], not has_norm), in_ch, ch[i])
            if has_norm:
                block["norm"] = make_norm(self.norm, ch[i])
            self.down.append(nn.Sequential(block))
        self.up = nn.ModuleList()
        for i in range(levels):
            outermost, innermost = i == 0, i == levels - 1
            in_ch = ch[i] if innermost else 2 * ch[i]  # skip concatenation doubles the input
            out_ch = self.out_channels if outermost else ch[i - 1]
            block = OrderedDict(act=nn.ReLU())
            block["conv"] = build_op(_with_bias(self.up_cells[i], outermost), in_ch, out_ch)
            if outermost:
                block["tanh"] = nn.Tanh()
            else:
                block["norm"] = make_norm(self.norm, out_ch)
                if self.dropout > 0 and not innermost and ch[i - 1] == ch[i] == cap:
                    block["dropout"] = nn.Dropout(self.dropout)
            self.up.append(nn.Sequential(block))

    def level_channels(self, level: int) -> int:
        """Channels of level ``level`` (0 = outermost): ``ngf * min(2**level, max_mult)``."""
        return self.ngf * min(2**level, self.max_mult)

    def check_input_size(self, height: int, width: int) -> None:
        """Raise ``ConfigError`` naming the nearest valid sizes unless H and W are multiples of ``2**num_downs``."""
        factor = 2**self.num_downs
        if height % factor == 0 and width % factor == 0 and min(height, width) >= factor:
            return

        def up(n: int) -> int:
            return max(factor, -(-n // factor) * factor)

        def options(n: int) -> str:
            below, above = (n // factor) * factor, up(n)
            return f"{below} or {above}" if factor <= below < above else str(above)

        raise ConfigError(
            f"{_OWNER} with num_downs={self.num_downs} needs H and W divisible by 2**{self.num_downs} = {factor}, "
            f"got {height}x{width}; resize or pad to {up(height)}x{up(width)} (valid H: {options(height)}; "
            f"valid W: {options(width)}), or lower num_downs."
        )

    def forward(self, condition: Tensor) -> Tensor:
        """``(B, in_channels, H, W)`` condition in [-1, 1] -> ``(B, out_channels, H, W)`` image in [-1, 1]."""
        if condition.dim() != 4 or condition.shape[1] != self.in_channels:
            raise DataError(
                f"{_OWNER} got a condition of shape {tuple(condition.shape)}; expected (B, {self.in_channels}, H, W); "
                f"pass {self.in_channels}-channel conditions with a batch axis, or build the generator with a matching "
                f"in_channels."
            )
        self.check_input_size(condition.shape[-2], condition.shape[-1])
        skips = []
        h = condition
        for block in self.down:
            h = block(h)  # (B, ch(i), H / 2**(i+1), W / 2**(i+1))
            skips.append(h)
        for i in reversed(range(self.num_downs)):
            if i < self.num_downs - 1:
                h = torch.cat([skips[i], h], dim=1)  # (B, 2 ch(i), H / 2**(i+1), W / 2**(i+1))
            h = self.up[i](h)
        return h

    @classmethod
    def from_genotype(cls, genotype: Genotype, **kwargs: Any) -> Pix2PixGenerator:
        """The final generator for ``genotype``: the chosen plain op in every searched cell, no alpha.

        Pass the keyword arguments the searched generator was built with; ``num_downs`` defaults to
        the genotype's depth and ``search_down`` / ``search_up`` are ignored. Each genotype entry
        ``down.<i>.conv`` / ``up.<i>.conv`` replaces cell ``i`` of ``down=`` / ``up=`` (the plain pix2pix
        op at every level when not given); a Choice left without an entry raises
        ``SearchSpaceError``. The result loads the state dict of ``fix(searched, genotype)``.
        """
        if not isinstance(genotype, Genotype):
            raise SearchSpaceError(
                f"{_OWNER}.from_genotype needs a Genotype, got {type(genotype).__name__}; "
                f"use derive(generator) or Genotype.load(path)."
            )
        picks: dict[str, dict[int, OpSpec]] = {"down": {}, "up": {}}
        for path, spec in genotype.items():
            match = _CELL_PATH.fullmatch(path)
            if match is None:
                raise SearchSpaceError(
                    f"genotype path {path!r} is not a cell of {_OWNER} (its cells are down.<i>.conv and "
                    f"up.<i>.conv); pass a genotype derived from a {_OWNER}."
                )
            picks[match.group(1)][int(match.group(2))] = spec
        kwargs.pop("search_down", None)
        kwargs.pop("search_up", None)
        kwargs.pop("search_space", None)
        deepest = max((i for side in picks.values() for i in side), default=7)
        levels = check_int(_OWNER, "num_downs", kwargs.setdefault("num_downs", deepest + 1), 1, 8)
        for side, plain in (("down", PIX2PIX_DOWN), ("up", PIX2PIX_UP)):
            given = kwargs.get(side)
            cells = [plain] * levels if given is None else _check_cells(side, given, levels, plain)
            for i, spec in picks[side].items():
                if i >= levels:
                    raise SearchSpaceError(
                        f"genotype chooses {side}.{i}.conv but the generator has {levels} levels "
                        f"(num_downs={levels}); pass the num_downs the search used."
                    )
                cells[i] = spec
            open_cells = [i for i, cell in enumerate(cells) if isinstance(cell, Choice)]
            if open_cells:
                raise SearchSpaceError(
                    f"genotype has no op for the searchable cell {side}.{open_cells[0]}.conv; "
                    f"pass the genotype derive() returned for this generator."
                )
            kwargs[side] = cells
        return cls(search_down=False, search_up=False, **kwargs)
