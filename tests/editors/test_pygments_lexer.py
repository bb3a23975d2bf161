"""The Pygments lexer: token types over the highlighting cases and real specs,
and that Pygments finds it once parc is installed."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from highlighting import (
    CASES,
    SPECS,
    Case,
    excluded_equivalents,
    expected_equivalent,
    line_starts,
    load_case,
)
from hypothesis import given
from hypothesis import strategies as st
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import (
    find_lexer_class_by_name,
    get_lexer_by_name,
    get_lexer_for_filename,
    get_lexer_for_mimetype,
)
from pygments.token import Error, Keyword, Name, String, _TokenType

from parc.pygments_lexer import ParLexer

PYGMENTIZE = Path(sys.executable).with_name("pygmentize")


def token_per_character(text: str) -> list[_TokenType]:
    """Return the token type of every character of `text`."""
    types: list[_TokenType] = []
    for _, token, value in ParLexer().get_tokens_unprocessed(text):
        types.extend([token] * len(value))
    return types


def case_mismatches(case: Case) -> list[str]:
    """Check every translatable assertion of a case against the lexer."""
    text = case.text
    starts = line_starts(text)
    types = token_per_character(text)
    mismatches = []
    for assertion in case.assertions:
        expected = expected_equivalent(assertion)
        excluded = excluded_equivalents(assertion)
        for column in range(assertion.start, assertion.end):
            actual = types[starts[assertion.line] + column]
            where = f"{case.path.name}:{assertion.case_line} column {column}"
            if expected is not None and actual is not expected.token:
                mismatches.append(f"{where}: {actual}, expected {expected.token}")
            for row in excluded:
                if actual is row.token:
                    mismatches.append(f"{where}: {actual}, which stands for {row.scope}")
    return mismatches


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.name)
def test_case_tokens(path: Path) -> None:
    case = load_case(path)

    assert case_mismatches(case) == []


def test_cases_translate_to_tokens() -> None:
    # Guards against a scope table that silently stops matching the cases.
    checked = [
        assertion
        for path in CASES
        for assertion in load_case(path).assertions
        if expected_equivalent(assertion) is not None or excluded_equivalents(assertion)
    ]

    assert len(checked) >= 100


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.parent.name)
def test_real_spec_has_no_error_tokens(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tokens = list(ParLexer().get_tokens_unprocessed(text))

    assert [value for _, token, value in tokens if token is Error] == []
    assert "".join(value for _, _, value in tokens) == text


def test_unterminated_string_stops_at_line_end() -> None:
    tokens = list(ParLexer().get_tokens('run "open\nretries 2\n'))

    assert (Keyword, "retries") in tokens
    assert (String.Double, "open") in tokens


def test_declared_names_by_statement() -> None:
    text = 'let out = "x"\nenv HOME = "/"\npool link = 1\ntrack a-run after b {\n}\n'
    tokens = list(ParLexer().get_tokens(text))

    assert (Name.Variable, "out") in tokens
    assert (Name.Variable.Global, "HOME") in tokens
    assert (Name.Constant, "link") in tokens
    assert (Name.Function, "a-run") in tokens
    assert (Name.Function, "b") in tokens


@given(st.text(alphabet=st.sampled_from('abrun-_ 09.hms"\\{}#=,\n\t$é'), max_size=80))
def test_lexing_loses_no_text(text: str) -> None:
    # Pygments can only render what the lexer gives back: every character,
    # in order, whatever the input.
    values = [value for _, _, value in ParLexer().get_tokens_unprocessed(text)]

    assert "".join(values) == text


def test_lexer_found_by_alias_filename_and_mimetype() -> None:
    assert isinstance(get_lexer_by_name("par"), ParLexer)
    assert isinstance(get_lexer_for_filename("build.par"), ParLexer)
    assert isinstance(get_lexer_for_filename("specs/self/build.par"), ParLexer)
    assert isinstance(get_lexer_for_mimetype("text/x-par"), ParLexer)
    assert find_lexer_class_by_name("par") is ParLexer


def test_entry_point_registered() -> None:
    found = [point for point in entry_points(group="pygments.lexers") if point.name == "par"]

    assert [point.value for point in found] == ["parc.pygments_lexer:ParLexer"]
    assert found[0].load() is ParLexer


def test_pygmentize_by_alias(tmp_path: Path) -> None:
    spec = tmp_path / "spec.txt"
    spec.write_text('track lint {\n    run "ruff check"\n}\n', encoding="utf-8")

    completed = subprocess.run(
        [str(PYGMENTIZE), "-l", "par", "-f", "html", str(spec)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert '<span class="k">track</span>' in completed.stdout
    assert '<span class="nf">lint</span>' in completed.stdout
    assert '<span class="s2">"ruff check"</span>' in completed.stdout


def test_pygmentize_guesses_by_filename(tmp_path: Path) -> None:
    spec = tmp_path / "build.par"
    spec.write_text("track lint {\n}\n", encoding="utf-8")

    completed = subprocess.run(
        [str(PYGMENTIZE), "-N", str(spec)], capture_output=True, text=True, timeout=60
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "par"


def test_html_marks_interpolation() -> None:
    html = highlight('run "cc {{cflags}} -o {{step}}"\n', ParLexer(), HtmlFormatter())

    assert '<span class="si">{{cflags}}</span>' in html
    assert '<span class="si">{{step}}</span>' in html
