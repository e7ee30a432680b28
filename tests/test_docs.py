"""Every hook and every command must be documented (datasette-style doc tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from dgen import hookspecs
from dgen.cli import app, load_plugin_commands

DOCS = Path(__file__).resolve().parents[1] / "docs"
HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("register_"))


def _command_paths(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _command_paths(command, path)
        else:
            yield " ".join(path)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_in_the_plugin_guide(hook):
    assert f"`{hook}`" in (DOCS / "plugins.md").read_text(), f"docs/plugins.md does not document {hook}"


def test_all_hooks_are_found():
    assert set(HOOKS) == {*hookspecs.HOOK_KINDS, "register_commands"}


def test_every_cli_command_is_documented():
    load_plugin_commands()
    text = (DOCS / "cli.md").read_text()
    commands = sorted(_command_paths(typer.main.get_command(app)))
    assert {"run", "list", "plugins"} <= set(commands)
    missing = [c for c in commands if f"## `dgen {c}" not in text]
    assert not missing, f"docs/cli.md has no section for: {missing}"
