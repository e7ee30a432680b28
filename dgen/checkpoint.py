"""Atomic, pickle-free checkpoints of nested state.

A state is a nested structure of dicts, lists, tensors and JSON values (numbers,
strings, booleans, None) — e.g. ``{"model": model.state_dict(), "optim":
optimizer.state_dict(), "iteration": 120}``. Tensors are stored with safetensors;
everything else as JSON in the file's metadata. Nothing is unpickled on load.

Writes go to a temporary file in the same directory, are fsynced, and replace the
target with ``os.replace`` (:mod:`dgen.atomic`), so a kill at any moment leaves the previous file intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from dgen.atomic import atomic_write, atomic_write_bytes, atomic_write_text, remove_stale_temporaries
from dgen.errors import ResumeError

__all__ = [  # the atomic writes are dgen.atomic's, re-exported where callers have always found them
    "save_state", "load_state", "save_weights", "load_weights", "atomic_write_bytes", "atomic_write_text",
    "remove_stale_temporaries",
]

_TENSOR = "__tensor__"
_TUPLE = "__tuple__"
_INTKEYS = "__intkeys__"
_META_KEY = "dgen_state"


def _split(value: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        key = path
        while key in tensors:  # keys containing '/' can spell another tensor's path: {"a/b": x, "a": {"b": y}}
            key = f"{path}#{len(tensors)}"
        tensors[key] = value.detach().to("cpu").contiguous()
        return {_TENSOR: key}
    if isinstance(value, dict):
        int_keys = bool(value) and all(isinstance(k, int) for k in value)
        if not int_keys and not all(isinstance(k, str) for k in value):
            raise TypeError(f"state keys at {path or '/'} must be all str or all int, got {list(value)[:5]}")
        body = {str(k): _split(v, f"{path}/{k}", tensors) for k, v in value.items()}
        return {_INTKEYS: body} if int_keys else body
    if isinstance(value, tuple):
        return {_TUPLE: [_split(v, f"{path}/{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_split(v, f"{path}/{i}", tensors) for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot checkpoint {type(value).__name__} at {path or '/'}; convert it to tensors or JSON values")


class _Dangling(Exception):
    """The skeleton names a tensor the file does not hold."""


def _join(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, dict):
        if set(value) == {_TENSOR}:
            if not isinstance(value[_TENSOR], str) or value[_TENSOR] not in tensors:
                raise _Dangling(value[_TENSOR])
            return tensors[value[_TENSOR]]
        if set(value) == {_TUPLE}:
            return tuple(_join(v, tensors) for v in value[_TUPLE])
        if set(value) == {_INTKEYS}:
            return {int(k): _join(v, tensors) for k, v in value[_INTKEYS].items()}
        return {k: _join(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_join(v, tensors) for v in value]
    return value


def save_state(path: Path, state: Any) -> None:
    """Write nested ``state`` to ``path`` (a ``.safetensors`` file) atomically."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _split(state, "", tensors)
    # safetensors refuses tensors that share memory; checkpoints are small enough to copy.
    tensors = {k: v.clone() for k, v in tensors.items()}
    atomic_write(Path(path), lambda tmp: save_file(tensors, tmp, metadata={_META_KEY: json.dumps(skeleton)}), SafetensorError)


def load_state(path: Path, device: torch.device | str = "cpu") -> Any:
    """Read a state written by :func:`save_state`; a missing or corrupt file raises ``ResumeError``."""
    path = Path(path)
    if not path.is_file():
        raise ResumeError(f"checkpoint {path} does not exist; start a new run or pass the right run directory.")
    try:
        tensors = load_file(str(path), device=str(device))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
        skeleton = json.loads(meta[_META_KEY])
    except (SafetensorError, KeyError, ValueError, OSError) as exc:
        raise ResumeError(f"checkpoint {path} is unreadable ({exc}); delete it to restart that run from scratch.") from exc
    try:
        return _join(skeleton, tensors)
    except _Dangling as exc:
        raise ResumeError(
            f"checkpoint {path} is corrupt: its index names a tensor {exc.args[0]!r} that the file does not hold; "
            "delete it to restart that run from scratch."
        ) from None
    except (TypeError, AttributeError) as exc:
        raise ResumeError(f"checkpoint {path} is corrupt: its index is malformed ({exc}); delete it to restart that run "
                          "from scratch.") from None


def save_weights(path: Path, state_dict: dict[str, torch.Tensor]) -> None:
    """Write a module's ``state_dict`` as a plain safetensors file, atomically."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    atomic_write(Path(path), lambda tmp: save_file(tensors, tmp), SafetensorError)


def load_weights(path: Path, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors weights file; a missing or corrupt file raises ``ResumeError``."""
    path = Path(path)
    if not path.is_file():
        raise ResumeError(f"weights file {path} does not exist; pass the run directory that holds it.")
    try:
        return load_file(str(path), device=str(device))
    except (SafetensorError, OSError) as exc:
        raise ResumeError(f"weights file {path} is unreadable ({exc}); it was not written by dgen or is corrupt.") from exc
