"""The language reference names the test behind each rule; those tests must exist."""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_language_reference_cites_existing_tests() -> None:
    text = (REPOSITORY / "docs" / "language.md").read_text(encoding="utf-8")
    # Citations are bracketed lists of test names: [`test_a`, `test_b`].
    citations = re.findall(r"\[(`test_[^\]]+)\]", text)
    cited = {name for group in citations for name in re.findall(r"`(test_[a-z0-9_]+)`", group)}
    assert len(cited) > 40
    defined = set()
    for path in (REPOSITORY / "tests").rglob("test_*.py"):
        defined.update(re.findall(r"^def (test_[a-z0-9_]+)\(", path.read_text("utf-8"), re.M))
    assert sorted(cited - defined) == []
