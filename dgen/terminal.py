"""Text that came from users' files, shown on a terminal: never read as rich markup, never with raw
control characters (an ANSI escape in a file name would recolour or rewrite the terminal).

``[/]`` or ``[bold]`` in a path is printed as is, and ``\\x1b`` is shown as the four characters ``\\x1b``.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

__all__ = ["printable", "print_error", "print_plain"]

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # every C0/C1 control but TAB


def printable(text: str) -> str:
    """``text`` with every control character but TAB written as an escape (``\\x1b``, ``\\n``)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def print_error(console: Console, message: object) -> None:
    """``error: MESSAGE`` on one line, ``error:`` in bold red, the message as plain text."""
    console.print(Text.assemble(("error:", "bold red"), " ", printable(str(message))), highlight=False, soft_wrap=True)


def print_plain(console: Console, message: object, style: str = "") -> None:
    """``message`` as plain text (no markup, no highlighting, control characters escaped) in ``style``."""
    console.print(Text(printable(str(message)), style=style), highlight=False, soft_wrap=True)
