"""The command lines that ran a benchmark directory, kept in ``OUT/commands.txt`` for its report.

Each ``dgen bench`` invocation that runs a grid appends its command line, prefixed with the
environment variables that change what the runs do (``DGEN_*``, ``OMP_NUM_THREADS``,
``CUDA_VISIBLE_DEVICES``); the report lists the distinct lines in the order they were first run.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["COMMANDS_FILE", "command_line", "record_command", "read_commands"]

COMMANDS_FILE = "commands.txt"
_ENV_EXACT = ("OMP_NUM_THREADS", "CUDA_VISIBLE_DEVICES")


def command_line(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """``VAR=value ... dgen ARGS`` for the arguments ``argv`` (without the program name)."""
    kept = sorted((k, v) for k, v in env.items() if k.startswith("DGEN_") or k in _ENV_EXACT)
    return " ".join([*(f"{k}={shlex.quote(v)}" for k, v in kept), "dgen", shlex.join(argv)])


def record_command(out: Path, line: str) -> None:
    """Append ``line`` to ``out/commands.txt`` (created with ``out``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / COMMANDS_FILE).open("a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")


def read_commands(out: Path) -> list[str]:
    """The distinct lines of ``out/commands.txt`` in first-run order (empty when there is none)."""
    path = Path(out) / COMMANDS_FILE
    if not path.is_file():
        return []
    return list(dict.fromkeys(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()))
