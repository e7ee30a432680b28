"""DARTS search-space DSL: op specs, Choice, MixedOp, architecture parameters, genotypes.

>>> DOWN = Choice([Conv(4, 2, 1), Conv(6, 2, 2), Conv(8, 2, 3)])   # each halves H and W
>>> op = DOWN.build(in_ch=16, out_ch=32)                           # MixedOp with alpha of shape (3,)

See docs/search.md.
"""

from dgen.search.choice import CHECK_SIZES, Choice
from dgen.search.derive import derive, fix
from dgen.search.genotype import Genotype
from dgen.search.mixed_op import MixedOp
from dgen.search.ops import __all__ as _OPS_ALL
from dgen.search.ops import (
    OP_SPECS,
    AvgPool,
    Conv,
    ConvT,
    DilConv,
    Identity,
    MaxPool,
    OpSpec,
    SepConv,
    UpDilConv,
    UpSepConv,
    Zero,
    op_from_dict,
)
from dgen.search.space import arch_entropy, arch_parameters, build_op, mixed_ops, weight_parameters

__all__ = [
    *_OPS_ALL,
    "Choice",
    "CHECK_SIZES",
    "MixedOp",
    "mixed_ops",
    "arch_parameters",
    "weight_parameters",
    "arch_entropy",
    "build_op",
    "Genotype",
    "derive",
    "fix",
]
