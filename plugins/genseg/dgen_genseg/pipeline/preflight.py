"""Checks before training: a GenSeg run fails within seconds, before it loads pixels into
memory or trains, and says everything that is wrong.

1. The task (:func:`make_task`): its name, the options it takes, its data root and folders
   and their number of pairs (building a task scans its folders, reading no pixel).
2. The networks and their trainer (:func:`check_setup`), built on the ``meta`` device (no
   memory, no weights, the global RNGs untouched): backbone, augmenter and solver names and
   options, the optimisers the solver can differentiate, the image size every network takes
   (naming the nearest sizes all of them take), the batch sizes the segmenter needs.
3. The data (:func:`check_data`): every image and mask file of every dataset of the task is
   read (``FileTask.check``, the same check as ``dgen data check``); all errors become one
   ``DataError`` naming the first ones, how many there are and the command that lists them all;
   warnings are printed.

:func:`forget_failed_start` undoes a fresh start that fails (a check, or anything else before
training), so the same command can be run again once the problem is fixed; the directory of a
resumed run is never touched.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from rich.console import Console
from torch import nn

from dgen.errors import ConfigError, DataError, DgenError
from dgen.plugins import create, registry
from dgen.task import Task
from dgen.terminal import print_plain
from dgen_genseg.data.problem import Problem
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.sampler import PairSampler
from dgen_genseg.pipeline.methods import MethodTrainer, build_trainer, method_entry
from dgen_genseg.pipeline.methods.reads import check_method_options

__all__ = ["preflight", "make_task", "check_setup", "check_data", "forget_failed_start"]

_SHOWN_PROBLEMS = 2
_META = torch.device("meta")


def preflight(config: GenSegConfig, *, console: Console) -> Task:
    """Run every check (task, networks, data) and return the task.

    Args:
        config: the run's options, preset resolved.
        console: where data warnings are printed.

    Raises:
        ConfigError: an unknown name, an option the task or a network does not take, an image
            size or batch size a network cannot take.
        DataError: missing data root or folder, too few pairs, or bad files (all of them summarised).
    """
    method_entry(config.method)  # an unknown method, with the closest name
    check_method_options(config)  # an option the method would ignore
    task = make_task(config)
    check_setup(config, task)
    check_data(task, console=console)
    return task


def make_task(config: GenSegConfig) -> Task:
    """Build the task of ``config`` after checking that it takes the options given.

    Raises:
        UnknownNameError: no task of that name.
        ConfigError: an option the task does not take, or one it needs and was not given.
    """
    factory = registry("tasks").get(config.task).factory
    given = {
        "data_root": config.data_root, "data_dir": config.data_dir, "ood_dirs": list(config.ood_dirs) or None,
        "n_labeled": config.n_labeled, "image_size": config.image_size, "seed": config.seed,
    }
    given = {k: v for k, v in given.items() if v is not None}
    parameters = inspect.signature(factory).parameters
    takes = [n for n, p in parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        unknown = [k for k in given if k not in takes]
        if unknown:
            raise ConfigError(
                f"task '{config.task}' does not take {', '.join(unknown)} (it takes {', '.join(takes)}); "
                f"drop --set {unknown[0]}=..."
            )
    missing = [n for n in takes if parameters[n].default is inspect.Parameter.empty and n not in given]
    if missing:
        raise ConfigError(f"task '{config.task}' needs {missing[0]}; give it, e.g. --set {missing[0]}=<value>.")
    return create("tasks", config.task, **given)


def _build(config: GenSegConfig, task: Task, device: torch.device) -> MethodTrainer:
    side = config.image_size
    pairs = [(torch.zeros(task.channels, side, side), torch.zeros(task.mask_channels, side, side))] * 2
    sampler = PairSampler(pairs, device, config.seed)
    return build_trainer(config, task, sampler, sampler, device)


def _trainer_without_weights(config: GenSegConfig, task: Task) -> MethodTrainer:
    """The run's trainer on placeholder data, on the meta device when the networks allow it."""
    with torch.random.fork_rng(devices=[]):
        try:
            with _META:
                return _build(config, task, _META)
        except DgenError:
            raise
        except Exception:  # a network that cannot be built on the meta device: build it for real
            return _build(config, task, torch.device("cpu"))


def check_setup(config: GenSegConfig, task: Task) -> None:
    """Build the run's networks and trainer without weights and check the sizes they need.

    Raises:
        UnknownNameError / ConfigError / SolverError: from building them (backbone, its options,
            augmenter, solver and optimisers), or an image size or batch size that does not fit.
    """
    if config.method == "genseg" and config.solver == "first_order":
        raise ConfigError(
            "solver 'first_order' cannot train GenSeg: α reaches the validation loss only through the look-ahead "
            "G' and S', so its first-order hypergradient is exactly zero; use --set solver=unroll (exact) or darts."
        )
    trainer = _trainer_without_weights(config, task)
    networks: dict[str, nn.Module] = {f"segmenter '{config.backbone}'": trainer.segmenter, **trainer.method.networks()}
    _check_image_size(config.image_size, networks)
    _check_batches(config, task, trainer)
    _check_split_for_method(task, trainer)


def _size_problems(side: int, networks: dict[str, nn.Module]) -> list[str]:
    problems = []
    for name, network in networks.items():
        try:
            network.check_input_size(side, side)
        except ConfigError as err:
            problems.append(f"{name}: {str(err).rstrip('.')}")
    return problems


def _check_image_size(side: int, networks: dict[str, nn.Module]) -> None:
    problems = _size_problems(side, networks)
    if not problems:
        return
    below = next((n for n in range(side - 1, 0, -1) if not _size_problems(n, networks)), None)
    above = next((n for n in range(side + 1, 16 * side + 4096) if not _size_problems(n, networks)), None)
    sizes = [n for n in (below, above) if n is not None]
    nearest = min(sizes, key=lambda n: abs(n - side)) if sizes else None
    if nearest is None:
        common = "no size near it suits every network: change the networks' options"
    elif len(sizes) == 1:
        common = f"the nearest size every network takes is {nearest}: use --set image_size={nearest}"
    else:
        common = f"the nearest sizes every network takes are {sizes[0]} and {sizes[1]}: use --set image_size={nearest}"
    raise ConfigError(f"image_size={side} does not suit every network — {'; '.join(problems)}; {common}.")


def _check_split_for_method(task: Task, trainer: MethodTrainer) -> None:
    """A method that needs a minimum number of pairs per split checks the task's split (``check_split``)."""
    check, plan = getattr(trainer.method, "check_split", None), getattr(task, "plan", None)
    if check is not None and plan is not None:
        check({split: len(ids) for split, ids in plan().items()})


def _check_batches(config: GenSegConfig, task: Task, trainer: MethodTrainer) -> None:
    """The segmenter trains on batches of min(batch_size, split size); some need >= 2 images."""
    need = getattr(trainer.segmenter, "min_train_batch", 1)
    plan = getattr(task, "plan", None)
    if need <= 1 or plan is None:
        return
    sizes = {split: len(ids) for split, ids in plan().items() if split in ("train", "val")}
    used = ["train", "val"] if trainer.method.data.val is not None else ["train"]  # GenSeg's α level trains S on val
    for split in used:
        batch = min(config.batch_size, sizes[split])
        if batch < need:
            raise ConfigError(
                f"segmenter '{config.backbone}' needs training batches of >= {need} images, but the '{split}' split "
                f"gives batches of {batch} (batch_size={config.batch_size}, n_labeled={config.n_labeled} -> "
                f"{sizes['train']} train + {sizes['val']} val); raise --set batch_size and n_labeled, or use another backbone."
            )


def _folders(task: Task) -> list[Path]:
    """The dataset folders of a file-backed task (none for a generated one)."""
    sources = [getattr(task, "in_domain", None), *getattr(task, "out_of_domain", ())]
    return [Path(s.path) for s in sources if s is not None]


def _folder_of(path: Path, folders: Sequence[Path]) -> Path:
    return next((f for f in folders if path == f or f in path.parents), path.parent)


def _check_command(folder: Path, task: Task) -> str:
    options = "" if task.channels == 3 else f" --channels {task.channels}"
    options += " --allow-empty-masks" if getattr(task, "allow_empty_masks", False) else ""
    return f"`dgen data check {folder}{options}`"


def _summary(problems: Sequence[Problem], task: Task, noun: str) -> str:
    folders = _folders(task)
    by_folder: dict[Path, int] = {}
    for problem in problems:
        folder = _folder_of(problem.path, folders)
        by_folder[folder] = by_folder.get(folder, 0) + 1
    n = len(problems)
    where = (
        str(next(iter(by_folder))) if len(by_folder) == 1
        else " and ".join(f"{folder} ({count})" for folder, count in by_folder.items())
    )
    shown = "; ".join(f"{p.path}: {p.message.rstrip('.')}" for p in problems[:_SHOWN_PROBLEMS])
    more = "; ..." if n > _SHOWN_PROBLEMS else ""
    commands = " and ".join(_check_command(folder, task) for folder in by_folder)
    return f"{n} {noun}{'s' if n > 1 else ''} in {where}: {shown}{more}; run {commands} for the full list"


def check_data(task: Task, *, console: Console) -> None:
    """Read every file of the task's datasets (tasks with a ``check()``, i.e. file-backed ones).

    Raises:
        DataError: one line: how many problems, in which folders, the first of them, and the
            ``dgen data check`` command that lists them all.
    """
    check = getattr(task, "check", None)
    if check is None:
        return
    problems: list[Problem] = check()
    warnings = [p for p in problems if p.severity == "warning"]
    if warnings:
        print_plain(console, f"warning: {_summary(warnings, task, 'warning')}", "yellow")
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataError(_summary(errors, task, "problem"))


@contextlib.contextmanager
def forget_failed_start(run_dir: Path, *, fresh: bool, written: Sequence[str] = ()) -> Iterator[None]:
    """On any exception inside (a failed start), remove the files ``written`` there from a fresh run's
    directory; :func:`dgen.run.run_pipeline` then removes its ``config.json`` and the folder it created,
    so that the same command can be run again once the problem is fixed.

    A resumed run (``fresh=False``) is left exactly as it was.
    """
    try:
        yield
    except BaseException:
        if fresh:
            for name in written:
                (Path(run_dir) / name).unlink(missing_ok=True)
        raise
