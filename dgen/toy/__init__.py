"""A 3-level MLO toy problem mirroring GenSeg, small enough for CPU tests and demos."""

from dgen.toy.problem import (
    CANDIDATES,
    ToyBatch,
    ToyData,
    ToyGenerator,
    build_toy_problem,
    evaluate,
)

__all__ = ["CANDIDATES", "ToyBatch", "ToyData", "ToyGenerator", "build_toy_problem", "evaluate"]
