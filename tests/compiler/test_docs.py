"""The language reference names the test behind each rule; those tests must exist."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

REPOSITORY = Path(__file__).resolve().parents[2]


def _defined_tests() -> set[str]:
    defined = set()
    for path in (REPOSITORY / "tests").rglob("test_*.py"):
        defined.update(re.findall(r"^def (test_[a-z0-9_]+)\(", path.read_text("utf-8"), re.M))
    return defined


def test_language_reference_cites_existing_tests() -> None:
    text = (REPOSITORY / "docs" / "language.md").read_text(encoding="utf-8")
    # Citations are HTML comments, which the rendered page hides:
    # <!-- test: test_a, test_b -->
    citations = re.findall(r"<!-- test: (.*?) -->", text, re.S)
    cited = {name for group in citations for name in re.findall(r"\btest_[a-z0-9_]+", group)}
    assert len(cited) > 40
    assert sorted(cited - _defined_tests()) == []


def test_language_reference_hides_test_names() -> None:
    text = (REPOSITORY / "docs" / "language.md").read_text(encoding="utf-8")
    html = MarkdownIt("commonmark").render(text)
    visible = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    assert "-->" not in visible
    shown = set(re.findall(r"\btest_[a-z0-9_]+", visible))
    assert sorted(shown & _defined_tests()) == []
