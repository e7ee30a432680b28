"""Text from users' files on the terminal: no markup, no control characters (dgen.terminal)."""

from __future__ import annotations

import io

from rich.console import Console

from dgen.terminal import print_error, printable


def test_control_characters_are_escaped_and_tabs_kept():
    assert printable("a\x1b[31mred\x07\tb\nc\x9b") == "a\\x1b[31mred\\x07\tb\\nc\\x9b"


def test_an_error_with_markup_and_escapes_prints_as_written():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=300)
    print_error(console, "runs/exp[/]a[bold]b\x1b[2J: bad")
    text = out.getvalue()
    assert "runs/exp[/]a[bold]b\\x1b[2J: bad" in text
    assert text.count("\x1b[") == 2  # the style of 'error:' on and off; nothing from the message
