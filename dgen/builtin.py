"""The built-in plugin ``dgen``: the MLO solvers and the toy task and pipeline.

It is loaded through the ``dgen`` entry point like any third-party plugin.
"""

from __future__ import annotations

import functools
import inspect

from dgen.hookspecs import Register, hookimpl
from dgen.mlo import SOLVERS, create_solver
from dgen.toy.pipeline import ToyPipeline
from dgen.toy.task import ToyTask

__version__ = "0.1.0"


@hookimpl
def register_solvers(register: Register) -> None:
    for name, cls in SOLVERS.items():
        doc = (inspect.getdoc(cls) or name).splitlines()[0]
        register(name, functools.partial(create_solver, name), description=doc)


@hookimpl
def register_tasks(register: Register) -> None:
    register("toy", ToyTask, description="vector pairs x = tanh(W m + b) + noise; no files, for demos and tests")


@hookimpl
def register_pipelines(register: Register) -> None:
    register("toy", ToyPipeline, description="3-level MLO searching the toy generator's op, CPU, seconds")
