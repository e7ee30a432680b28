"""Checks of a training state: NaN/Inf in any tensor, and a checkpoint that must fit the run it resumes.

:func:`check_checkpoint` validates a loaded ``checkpoint.safetensors`` before anything of it is
loaded into the networks: its keys, the iteration (an integer within ``[0, total]``), the counters,
every tensor the run has (same path, shape and dtype), every optimiser's per-parameter state (Adam's
``exp_avg``/``exp_avg_sq``, momentum buffers: the shape of the parameter they belong to) and the
finiteness of every tensor. A bad
checkpoint is refused naming what is wrong; a state dgen saved never fails these checks (dgen
refuses to save a state with NaN/Inf).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from dgen.errors import ResumeError

__all__ = ["STATE_KEYS", "all_tensors", "first_nonfinite", "check_checkpoint"]

#: the parts of a checkpoint written by :func:`dgen_genseg.pipeline.loop.train`.
STATE_KEYS = ("trainer", "scheduler", "rng", "iteration", "wall_seconds", "skipped_steps", "best")
_DELETE = "delete it to restart the run from its first iteration"


def all_tensors(state: Any, path: str = "", *, floating: bool = False) -> Iterator[tuple[str, Tensor]]:
    """``(path, tensor)`` for every tensor (only floating-point ones if ``floating``) in a nested state."""
    if isinstance(state, Tensor):
        if not floating or state.is_floating_point():
            yield path, state
    elif isinstance(state, dict):
        for key, value in state.items():
            yield from all_tensors(value, f"{path}/{key}" if path else str(key), floating=floating)
    elif isinstance(state, (list, tuple)):
        for i, value in enumerate(state):
            yield from all_tensors(value, f"{path}/{i}", floating=floating)


def first_nonfinite(state: Any) -> str | None:
    """The path of the first tensor of ``state`` holding NaN/Inf, or None (one sync per device)."""
    found = [(path, t) for path, t in all_tensors(state, floating=True) if t.numel()]
    flags = [torch.isfinite(torch.stack(torch.aminmax(t))).all() for _, t in found]  # NaN propagates; no big temporaries
    by_device: dict[torch.device, list[int]] = {}
    for i, flag in enumerate(flags):
        by_device.setdefault(flag.device, []).append(i)
    for indices in by_device.values():
        finite = torch.stack([flags[i] for i in indices]).cpu()
        if not bool(finite.all()):
            return found[indices[int((~finite).nonzero()[0])]][0]
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _counters(state: dict[str, Any], total: int) -> str | None:
    """What is wrong with the iteration, time and counters of ``state``, or None."""
    iteration = state["iteration"]
    if not _is_int(iteration):
        return f"its iteration is {iteration!r}, not an integer"
    if not 0 <= iteration <= total:
        return f"its iteration is {iteration}, outside this run's 0..{total}"
    if not _is_number(state["wall_seconds"]) or state["wall_seconds"] < 0:
        return f"its wall_seconds is {state['wall_seconds']!r}, not a time in seconds"
    if not _is_int(state["skipped_steps"]) or not 0 <= state["skipped_steps"] <= iteration:
        return f"its skipped_steps is {state['skipped_steps']!r}, not a count within 0..{iteration}"
    best = state["best"]
    if not isinstance(best, dict) or not {"score", "iteration", "val", "segmenter"} <= set(best):
        return "its best-on-validation record is malformed"
    if not _is_int(best["iteration"]) or not -1 <= best["iteration"] <= iteration or not _is_number(best["score"]):
        return f"its best-on-validation record (iteration {best['iteration']!r}, score {best['score']!r}) is impossible"
    return None


def _tensor_mismatch(saved: dict[str, Tensor], expected: dict[str, Tensor], where: str) -> str | None:
    """The first tensor of ``expected`` (the run's own state) that ``saved`` lacks or holds with another shape/dtype."""
    for name, tensor in expected.items():
        found = saved.get(name)
        if found is None:
            return f"it has no tensor {where}{name}"
        if found.shape != tensor.shape or found.dtype != tensor.dtype:
            return (f"{where}{name} is {str(found.dtype).removeprefix('torch.')} {tuple(found.shape)} where this run "
                    f"has {str(tensor.dtype).removeprefix('torch.')} {tuple(tensor.shape)}")
    return None


def _describe(tensor: Tensor) -> str:
    return f"{str(tensor.dtype).removeprefix('torch.')} {tuple(tensor.shape)}"


def _moment_mismatch(saved: Any, optimizer: torch.optim.Optimizer, name: str) -> str | None:
    """What in ``saved`` (an optimiser's state_dict in the checkpoint) does not fit ``optimizer``'s parameters.

    The saved state is matched to the parameters as ``Optimizer.load_state_dict`` does: group by group,
    parameter by parameter. Every per-parameter tensor but ``step`` (``exp_avg``, ``exp_avg_sq``,
    ``momentum_buffer``, ...) must have its parameter's shape: torch would load any other and fail at the
    first step.
    """
    label = f"optimizer {name} ({type(optimizer).__name__})"
    groups = saved.get("param_groups") if isinstance(saved, dict) else None
    moments = saved.get("state") if isinstance(saved, dict) else None
    if not isinstance(groups, list) or not isinstance(moments, dict) or not all(
        isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups
    ):
        return f"{label}: trainer/{name} is not an optimiser state (no param_groups or state)"
    sizes = [len(g["params"]) for g in groups]
    own = [len(g["params"]) for g in optimizer.param_groups]
    if sizes != own:
        return f"{label}: its saved parameter groups hold {sizes} parameters where this run's hold {own}"
    params = {
        index: param for group, own_group in zip(groups, optimizer.param_groups)
        for index, param in zip(group["params"], own_group["params"])
    }
    for index, entry in moments.items():
        if index not in params:
            return f"{label}: trainer/{name}/state/{index} belongs to no parameter of its parameter groups"
        for key, tensor in entry.items() if isinstance(entry, dict) else ():
            if key != "step" and isinstance(tensor, Tensor) and tensor.shape != params[index].shape:
                return (f"{label}: trainer/{name}/state/{index}/{key} is {_describe(tensor)} where its parameter "
                        f"is {_describe(params[index].detach())}")
    return None


def check_checkpoint(
    state: Any,
    path: Path,
    *,
    expected: dict[str, Any],
    total: int,
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
) -> None:
    """Refuse a checkpoint that cannot continue this run.

    Args:
        state: what :func:`dgen.checkpoint.load_state` read from ``path``.
        path: the checkpoint file, named in the message.
        expected: the run's own fresh ``trainer.state_dict()``: every tensor in it must be in
            ``state["trainer"]`` at the same path with the same shape and dtype (optimiser moments,
            absent before the first step, are checked against ``optimizers``).
        total: the run's number of iterations.
        optimizers: the run's optimisers by their name in ``state["trainer"]``: each saved optimiser
            state must have their parameter groups and, per parameter, tensors of its shape.

    Raises:
        ResumeError: naming the key, value or tensor that is wrong, and the fix.
    """
    problem = None
    if not isinstance(state, dict) or not set(STATE_KEYS) <= set(state):
        missing = [k for k in STATE_KEYS if not isinstance(state, dict) or k not in state]
        problem = f"it lacks {', '.join(missing)}"
    else:
        problem = _counters(state, total)
        if problem is None:
            saved = dict(all_tensors(state["trainer"]))
            problem = _tensor_mismatch(saved, dict(all_tensors(expected)), "trainer/")
        for name, optimizer in (optimizers or {}).items():
            if problem is None:
                problem = _moment_mismatch(state["trainer"].get(name), optimizer, name)
        if problem is None and state["best"]["segmenter"] is not None:
            expected_best = {k[len("segmenter/"):]: t for k, t in all_tensors(expected) if k.startswith("segmenter/")}
            problem = _tensor_mismatch(dict(all_tensors(state["best"]["segmenter"])), expected_best, "best/segmenter/")
        if problem is None:
            bad = first_nonfinite({"trainer": state["trainer"], "best": state["best"]})
            if bad is not None:
                problem = f"{bad} holds NaN/Inf values (dgen never saves such a state: the file was altered or damaged)"
    if problem is not None:
        raise ResumeError(f"checkpoint {path} cannot continue this run: {problem}; {_DELETE}.")
