"""The plugin module named by the ``dgen`` entry point: one hook per kind of component it adds."""

from __future__ import annotations

from dgen.hookspecs import Register, hookimpl

from dgen_casefolder import __version__
from dgen_casefolder.augmenter import Dihedral
from dgen_casefolder.task import CaseFolderTask

#: ``__version__`` is what `dgen plugins` shows when the package is not installed (else the distribution's)
__all__ = ["__version__", "register_augmenters", "register_tasks"]


@hookimpl
def register_tasks(register: Register) -> None:
    register("casefolder", CaseFolderTask, tiny={"n_labeled": 4, "image_size": 16, "seed": 0},
             description="cases as folders: <case>/image.png + <case>/label.png")


@hookimpl
def register_augmenters(register: Register) -> None:
    register("dihedral", Dihedral, description="one of the 8 symmetries of the square per sample (exact, no blur)")
