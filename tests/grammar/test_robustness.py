"""Any input gives a syntax tree or diagnostics in words: never a crash, never a terminal name."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from parc.compiler import compile_source
from parc.diagnostics import CompileError
from parc.grammar import KEYWORDS
from parc.source import Source

PIECES = [
    *sorted(KEYWORDS),
    "a",
    "b-c",
    "_x",
    "{",
    "}",
    ",",
    "=",
    " ",
    "\n",
    "\n    ",
    "3",
    "30s",
    "1.5h",
    '"s"',
    '"out/**"',
    '"{{a}}"',
    '"{{"',
    '"\\q"',
    '"""\n  x\n"""',
    '"',
    '"""',
    "# c",
    "'",
    ";",
    "\t",
    "é",
    "\r\n",
]

# Lark's names for terminals; a user must never see one outside backticks.
TERMINALS = re.compile(
    r"\b(?:NAME|INT|DURATION|STRING|LONG_STRING|LBRACE|RBRACE|EQUAL|COMMA|_NL|\$END|"
    r"LET|ENV|POOL|DEFAULT|TRACK|INTEGRATE|AFTER|DESC|READS|OWNS|RUN|CWD|TIMEOUT|RETRIES)\b"
)


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_any_input_compiles_or_reports_in_words(text: str) -> None:
    source = Source("build.par", text)
    try:
        compile_source(source)
    except CompileError as error:
        assert error.diagnostics
        for diagnostic in error.diagnostics:
            words = re.sub(r"`[^`]*`", "", diagnostic.message + " " + diagnostic.help)
            assert TERMINALS.search(words) is None, diagnostic.message
            if diagnostic.span is not None:
                assert 0 <= diagnostic.span.start <= diagnostic.span.end <= len(text) + 1
