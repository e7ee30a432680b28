"""dgen: differentiable data generation through multi-level optimisation."""

__version__ = "0.1.0"
