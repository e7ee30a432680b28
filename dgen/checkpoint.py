"""Atomic, pickle-free checkpoints of nested state.

A state is a nested structure of dicts, lists, tensors and JSON values (numbers,
strings, booleans, None) — e.g. ``{"model": model.state_dict(), "optim":
optimizer.state_dict(), "iteration": 120}``. Tensors are stored with safetensors;
everything else as JSON in the file's metadata. Nothing is unpickled on load.

Writes go to a temporary file in the same directory, are fsynced, and replace the
target with ``os.replace``, so a kill at any moment leaves the previous file intact.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from dgen.errors import ResumeError

__all__ = [
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


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # what mkstemp(prefix=".NAME.", suffix=".tmp") makes
_OS_CODE = re.compile(r"code: (\d+)")  # safetensors reports an OS error as "IoError(Os { code: 28, ... })"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _as_os_error(exc: Exception, path: Path) -> OSError:
    """``exc`` (an ``OSError`` or safetensors' wrapper of one) as an ``OSError`` naming ``path``, not the temporary."""
    code = exc.errno if isinstance(exc, OSError) else None
    if code is None and (found := _OS_CODE.search(str(exc))):
        code = int(found.group(1))
    return OSError(code or errno.EIO, os.strerror(code) if code else str(exc), str(path))


def _atomic(path: Path, write: Any) -> None:
    """Write ``path`` through ``write(tmp)``; the file gets the permissions the umask allows (not mkstemp's 0600).

    Raises:
        OSError: naming ``path`` (e.g. ENOSPC); ``path`` is then untouched and no temporary is left.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except (OSError, SafetensorError) as exc:
        raise _as_os_error(exc, path) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(path.parent)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Remove the temporary files that a killed process left in ``directory`` (``.NAME.XXXXXXXX.tmp``).

    Call it only when no other process writes into ``directory``. Returns the files removed.
    """
    directory = Path(directory)
    stale = [p for p in directory.iterdir() if _TEMPORARY.match(p.name) and p.is_file()] if directory.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            handle.write(data)

    _atomic(path, write)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def save_state(path: Path, state: Any) -> None:
    """Write nested ``state`` to ``path`` (a ``.safetensors`` file) atomically."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _split(state, "", tensors)
    # safetensors refuses tensors that share memory; checkpoints are small enough to copy.
    tensors = {k: v.clone() for k, v in tensors.items()}
    _atomic(Path(path), lambda tmp: save_file(tensors, tmp, metadata={_META_KEY: json.dumps(skeleton)}))


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
    _atomic(Path(path), lambda tmp: save_file(tensors, tmp))


def load_weights(path: Path, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors weights file; a missing or corrupt file raises ``ResumeError``."""
    path = Path(path)
    if not path.is_file():
        raise ResumeError(f"weights file {path} does not exist; pass the run directory that holds it.")
    try:
        return load_file(str(path), device=str(device))
    except (SafetensorError, OSError) as exc:
        raise ResumeError(f"weights file {path} is unreadable ({exc}); it was not written by dgen or is corrupt.") from exc
