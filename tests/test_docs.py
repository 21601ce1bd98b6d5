"""The project documents itself: the README and docs/ link only to files in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def relative_links(doc: Path) -> list[str]:
    """The link targets of a Markdown file that are not web addresses or anchors."""
    targets = _LINK.findall(doc.read_text())
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:|#", t)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_links_stay_inside_the_repository_and_resolve(doc: Path) -> None:
    for target in relative_links(doc):
        resolved = (doc.parent / target).resolve()
        assert resolved.is_relative_to(REPO_ROOT), f"{doc.name} points outside: {target}"
        assert resolved.exists(), f"{doc.name} links to a missing file: {target}"


def test_readme_links_the_architecture() -> None:
    assert "docs/architecture.md" in relative_links(REPO_ROOT / "README.md")
