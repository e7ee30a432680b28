"""The guides a new user follows: every task has a page, and every relative link (and #anchor) resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dgen.plugins import load_plugins

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDES = [
    DOCS / "quickstart.md", DOCS / "custom_mlo.md", DOCS / "plugins.md", *sorted((DOCS / "tasks").glob("*.md")),
    ROOT / "examples" / "third_party_plugin" / "README.md", ROOT / "examples" / "custom_mlo" / "README.md",
]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _outside_code(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.S)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, only letters, digits, spaces, '-' and '_' kept, spaces -> '-'."""
    headings = re.findall(r"^#+ (.+)$", _outside_code(page.read_text()), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


SHIPPED = ("dgen", "genseg")  # the plugins of this repository; third-party tasks document themselves


@pytest.mark.parametrize("task", [e.name for e in load_plugins(None).registry("tasks").entries() if e.plugin in SHIPPED])
def test_every_installed_task_has_a_page_listed_in_the_index(task):
    assert (DOCS / "tasks" / f"{task}.md").is_file(), f"docs/tasks/{task}.md is missing"
    assert f"[{task}.md]({task}.md)" in (DOCS / "tasks" / "README.md").read_text()


@pytest.mark.parametrize("page", GUIDES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_and_anchors_resolve(page):
    broken = []
    for target in LINK.findall(_outside_code(page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked offline
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target} (no {resolved})")
        elif anchor and anchor not in _anchors(resolved):
            broken.append(f"{target} (no heading #{anchor} in {resolved.name})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"
