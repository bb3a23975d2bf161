"""The editor docs: the example they show is a valid spec, the picture exists,
and the `par` code blocks of the docs highlight without error marks."""

from __future__ import annotations

import re
import struct
import subprocess
import sys

import pytest
from highlighting import EXAMPLE, REPO
from pygments.token import Error

from parc.diagnostics import CompileError
from parc.grammar import parse
from parc.pygments_lexer import ParLexer
from parc.source import Source

EDITOR_DOCS = REPO / "docs" / "editors.md"
MARKDOWN = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
_PAR_BLOCK = re.compile(r"^```par\n(.*?)^```", re.MULTILINE | re.DOTALL)
_IMAGE = re.compile(r"!\[[^]]*\]\(([^)]+)\)")


def test_example_passes_parc_check() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "parc", "check", "-f", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_docs_picture_is_a_png() -> None:
    images = _IMAGE.findall(EDITOR_DOCS.read_text(encoding="utf-8"))
    assert images == ["images/par-highlighting.png"]

    data = (EDITOR_DOCS.parent / images[0]).read_bytes()
    width, height = struct.unpack(">II", data[16:24])

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert width >= 400
    assert height >= 400


def _valid_par_blocks() -> list[tuple[str, str]]:
    """Return the `par` code blocks of the docs that parc parses, by name.

    Docs may show invalid specs on purpose, so only what parc accepts must be
    free of error marks.
    """
    blocks = []
    for path in MARKDOWN:
        for index, match in enumerate(_PAR_BLOCK.finditer(path.read_text(encoding="utf-8"))):
            name = f"{path.relative_to(REPO)}#{index + 1}"
            try:
                parse(Source(name, match.group(1)))
            except CompileError:
                continue
            blocks.append((name, match.group(1)))
    return blocks


def test_docs_have_valid_par_blocks() -> None:
    names = [name for name, _ in _valid_par_blocks()]

    assert "README.md#1" in names
    assert "docs/editors.md#1" in names


@pytest.mark.parametrize(
    ("name", "code"), [pytest.param(name, code, id=name) for name, code in _valid_par_blocks()]
)
def test_par_block_has_no_error_tokens(name: str, code: str) -> None:
    tokens = list(ParLexer().get_tokens_unprocessed(code))

    assert [value for _, token, value in tokens if token is Error] == []
