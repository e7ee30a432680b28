"""Named generator presets (registry factories)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dgen_genseg.gan.generator import Pix2PixGenerator

__all__ = ["PIX2PIX_SMALL", "pix2pix_small"]

#: a CPU-sized GenSeg generator for 64 x 64 inputs: ngf 8, 6 levels (1 x 1 bottleneck), channels
#: capped at 4 x ngf, no dropout; about 1.2 M parameters with both sides searchable.
PIX2PIX_SMALL: Mapping[str, Any] = MappingProxyType({"ngf": 8, "num_downs": 6, "max_mult": 4, "dropout": 0.0})


def pix2pix_small(**kwargs: Any) -> Pix2PixGenerator:
    """Searchable pix2pix U-Net sized for 64 x 64 inputs on a CPU (see :data:`PIX2PIX_SMALL`); kwargs override it.

    Rebuild its final form with ``Pix2PixGenerator.from_genotype(genotype, **PIX2PIX_SMALL, **kwargs)``.
    """
    return Pix2PixGenerator(**{**PIX2PIX_SMALL, **kwargs})
