"""The caret renderer: layout, tabs, long spans, colour, and a property over any span."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parc.diagnostics import Codes, Diagnostic, Label
from parc.render import render, render_all, use_color
from parc.source import Source, Span


def test_layout_with_secondary_label() -> None:
    source = Source("build.par", "track core {\n}\n" + "\n" * 8 + "track core {\n}\n")
    first = source.text.index("core")
    second = source.text.rindex("core")
    diagnostic = Diagnostic(
        Codes.DUPLICATE_STEP,
        "step `core` is defined twice",
        source,
        Span(second, second + 4),
        primary_label="defined again here",
        labels=(Label(source, Span(first, first + 4), "first defined here"),),
        help="rename one of the two steps",
    )
    assert render(diagnostic) == (
        "build.par:11:7: error[E0202]: step `core` is defined twice\n"
        "   |\n"
        "11 | track core {\n"
        "   |       ^^^^ defined again here\n"
        "   |\n"
        " 1 | track core {\n"
        "   |       ---- first defined here\n"
        "   |\n"
        "   = help: rename one of the two steps\n"
    )


def test_labels_on_one_line_share_it() -> None:
    source = Source("build.par", "track a after b, b {\n}\n")
    first = source.text.index("b,")
    second = source.text.index("b {")
    diagnostic = Diagnostic(
        Codes.SYNTAX,
        "m",
        source,
        Span(first, first + 1),
        primary_label="here",
        labels=(Label(source, Span(second, second + 1), "and here"),),
    )
    assert render(diagnostic) == (
        "build.par:1:15: error[E0101]: m\n"
        "  |\n"
        "1 | track a after b, b {\n"
        "  |               ^ here\n"
        "  |                  - and here\n"
    )


def test_warning_without_help() -> None:
    source = Source("b.par", "let x = 1\n")
    diagnostic = Diagnostic(Codes.UNUSED_VARIABLE, "variable `x` is never used", source, Span(4, 5))
    assert render(diagnostic) == (
        "b.par:1:5: warning[W0102]: variable `x` is never used\n  |\n1 | let x = 1\n  |     ^\n"
    )


def test_tabs_expand_under_the_caret() -> None:
    source = Source("b.par", "\trun\tx\n")
    diagnostic = Diagnostic(Codes.SYNTAX, "m", source, Span(5, 6))
    lines = render(diagnostic).splitlines()
    assert lines[2] == "1 |     run x"
    assert lines[3] == "  |         ^"


def test_span_over_lines_stops_at_line_end() -> None:
    source = Source("b.par", 'run """\nabc\n"""\n')
    diagnostic = Diagnostic(Codes.UNTERMINATED_STRING, "m", source, Span(4, 16))
    assert render(diagnostic).splitlines()[3] == "  |     ^^^"


def test_empty_span_gets_one_caret() -> None:
    source = Source("b.par", "abc\n")
    diagnostic = Diagnostic(Codes.SYNTAX, "m", source, Span(3, 3))
    assert render(diagnostic).splitlines()[3] == "  |    ^"


def test_diagnostic_without_location() -> None:
    diagnostic = Diagnostic(Codes.UNKNOWN_TARGET, "no step named `x`", help="did you mean `y`?")
    assert render(diagnostic) == (
        "parc: error[E0211]: no step named `x`\n  = help: did you mean `y`?\n"
    )


def test_render_all_separates_with_blank_line() -> None:
    one = Diagnostic(Codes.UNKNOWN_TARGET, "a")
    two = Diagnostic(Codes.UNKNOWN_TARGET, "b")
    assert render_all([one, two]) == "parc: error[E0211]: a\n\nparc: error[E0211]: b\n"


def test_colour_only_in_escape_codes() -> None:
    source = Source("b.par", "let x = 1\n")
    diagnostic = Diagnostic(
        Codes.UNUSED_VARIABLE, "unused", source, Span(4, 5), primary_label="here", help="fix"
    )
    coloured = render(diagnostic, color=True)
    assert "\x1b[" in coloured
    plain = coloured
    for code in ("\x1b[0m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;34m", "\x1b[1m", "\x1b[1;36m"):
        plain = plain.replace(code, "")
    assert plain == render(diagnostic)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("environment", "terminal", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_use_color(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], terminal: bool, expected: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    stream = _Terminal() if terminal else io.StringIO()
    assert use_color(stream) is expected


@given(
    text=st.text(alphabet=st.sampled_from("ab\t é\n\r"), max_size=40),
    data=st.data(),
)
def test_carets_stay_on_their_line(text: str, data: st.DataObject) -> None:
    source = Source("b.par", text)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    rendered = render(Diagnostic(Codes.SYNTAX, "m", source, Span(start, end)))
    lines = rendered.split("\n")
    source_line = lines[2].split("|", 1)[1]
    caret_line = lines[3].split("|", 1)[1]
    assert set(caret_line.strip()) == {"^"}
    assert len(caret_line.rstrip()) <= max(len(source_line), 1) + 1


@given(st.text(alphabet=st.sampled_from("a\n\r é"), max_size=30), st.data())
def test_position_counts_lines_and_columns(text: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(0, len(text)))
    where = Source("b.par", text).position(offset)
    before = text[:offset]
    assert where.line == before.count("\n") + 1
    assert where.column == len(before) - (before.rfind("\n") + 1) + 1
