"""Pygments and Vim against parc's own lexer, on generated valid specs.

Hypothesis writes specs that parc parses without error: keywords, names that
contain keywords, strings with escapes and interpolation, `\"\"\"` strings,
comments, durations and lists that go on after a comma. Lark's lexer, built
from parc's grammar, gives the type of each token, and that type fixes how
every character of the token must be highlighted.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs
import pytest
from highlighting import lark_tokens, line_starts
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Token
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
    _TokenType,
)
from vim_dump import dump_syntax, require_vim

from parc.grammar import parse
from parc.grammar.strings import decode_string
from parc.grammar.syntax import KEYWORDS, Interpolation
from parc.pygments_lexer import ParLexer
from parc.source import Source

# Generating specs


def _not_keyword(name: str) -> bool:
    return name not in KEYWORDS


_plain_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,7}", fullmatch=True).filter(_not_keyword)
_keyword_names = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", "x-", "pre_"]),
    st.sampled_from(sorted(KEYWORDS)),
    st.sampled_from(["-x", "_1", "2", "-run", ""]),
).filter(_not_keyword)
names = st.one_of(_plain_names, _keyword_names)

# Text without quotes, backslashes, braces or line breaks: those come only from
# the pieces below, so no piece can run into the next and change its meaning.
_text = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_characters='"\\{}\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029',
        exclude_categories=("Cs", "Cc"),
    ),
    max_size=6,
)
_escapes = st.sampled_from(['\\"', "\\\\", "\\n", "\\t", "{{{{"])
_interpolations = st.builds("{{{{{0}{1}{0}}}}}".format, st.sampled_from(["", " ", "  "]), names)
_shell_braces = st.builds("{{{}}}".format, _text)
_string_pieces = st.one_of(_text, _escapes, _interpolations, _shell_braces, st.just("#"))


@st.composite
def strings(draw: st.DrawFn) -> str:
    return '"' + "".join(draw(st.lists(_string_pieces, max_size=6))) + '"'


@st.composite
def long_strings(draw: st.DrawFn) -> str:
    # A lone quote is written as `" ` so that it never touches another quote.
    pieces = st.one_of(_string_pieces, st.just('" '))
    lines = draw(st.lists(st.lists(pieces, max_size=5).map("".join), max_size=4))
    body = "".join("\n        " + line for line in lines)
    return '"""' + body + "\n    " + '"""'


def _comma_separated(items: list[str], breaks: list[bool]) -> str:
    parts = [items[0]]
    for item, line_break in zip(items[1:], breaks, strict=False):
        parts.append(",\n        " + item if line_break else ", " + item)
    return "".join(parts)


@st.composite
def name_lists(draw: st.DrawFn) -> str:
    items = draw(st.lists(names, min_size=1, max_size=3))
    return _comma_separated(items, draw(st.lists(st.booleans(), min_size=2, max_size=2)))


@st.composite
def string_lists(draw: st.DrawFn) -> str:
    items = draw(st.lists(strings(), min_size=1, max_size=3))
    return _comma_separated(items, draw(st.lists(st.booleans(), min_size=2, max_size=2)))


durations = st.builds(
    "{}{}{}".format,
    st.integers(0, 999),
    st.sampled_from(["", ".5", ".25"]),
    st.sampled_from(["ms", "s", "m", "h"]),
)
integers = st.integers(0, 10**6).map(str)
comments = st.builds("# {}".format, _text)


def _statement(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(" ".join)


def _word(word: str) -> st.SearchStrategy[str]:
    return st.just(word)


body_statements = st.one_of(
    _statement(_word("desc"), strings()),
    _statement(_word("after"), name_lists()),
    _statement(_word("reads"), string_lists()),
    _statement(_word("owns"), string_lists()),
    _statement(_word("run"), st.one_of(strings(), long_strings())),
    _statement(_word("env"), names, _word("="), strings()),
    _statement(_word("cwd"), strings()),
    _statement(_word("timeout"), durations),
    _statement(_word("retries"), integers),
    _statement(_word("pool"), names),
    comments,
)


@st.composite
def with_comment(draw: st.DrawFn, statement: st.SearchStrategy[str]) -> str:
    text = draw(statement)
    if not text.startswith("#") and draw(st.booleans()):
        text += "  " + draw(comments)
    return text


@st.composite
def steps(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["track", "integrate"]))
    header = f"{kind} {draw(names)}"
    if draw(st.booleans()):
        header += " after " + draw(name_lists())
    body = draw(st.lists(with_comment(body_statements), max_size=4))
    return header + " {\n" + "".join(f"    {line}\n" for line in body) + "}"


top_statements = st.one_of(
    _statement(_word("let"), names, _word("="), strings()),
    _statement(_word("env"), names, _word("="), strings()),
    _statement(_word("pool"), names, _word("="), integers),
    _statement(_word("default"), name_lists()),
    steps(),
    comments,
)


@st.composite
def specs(draw: st.DrawFn) -> str:
    statements = draw(st.lists(with_comment(top_statements), min_size=1, max_size=5))
    return "\n".join(statements) + "\n"


# The highlighting that Lark's tokens require


@attrs.frozen
class Expected:
    """What one character must be highlighted as."""

    offset: int
    token: _TokenType
    vim_groups: frozenset[str]


def _string_character_kinds(raw: str, offset: int) -> list[str]:
    """Return "escape", "interpolation" or "text" for each character of a
    string literal, quotes included, as the language defines them."""
    quote = 3 if raw.startswith('"""') else 1
    kinds = ["text"] * len(raw)
    index = quote
    while index < len(raw) - quote:
        if raw[index] == "\\":
            kinds[index : index + 2] = ["escape", "escape"]
            index += 2
        elif raw.startswith("{{{{", index):
            kinds[index : index + 4] = ["escape"] * 4
            index += 4
        elif raw.startswith("{{", index):
            end = raw.index("}}", index) + 2
            kinds[index:end] = ["interpolation"] * (end - index)
            index = end
        else:
            index += 1

    # The kinds must agree with parc's own decoder on every interpolation.
    decoded, problems = decode_string(raw, offset)
    assert problems == []
    interpolations = [part.span for part in decoded.parts if isinstance(part, Interpolation)]
    for span in interpolations:
        assert set(kinds[span.start - offset : span.end - offset]) == {"interpolation"}
    assert kinds.count("interpolation") == sum(span.end - span.start for span in interpolations)
    return kinds


_Highlight = tuple[_TokenType, frozenset[str]]


def _highlight(token: _TokenType, *vim_groups: str) -> _Highlight:
    return token, frozenset(vim_groups)


_KEYWORD = _highlight(Keyword, "parKeyword")
_STEP_NAME = _highlight(Name.Function, "parStepName")
_NAME_AFTER = {
    "LET": _highlight(Name.Variable, "parVariable"),
    "ENV": _highlight(Name.Variable.Global, "parEnvName"),
    "POOL": _highlight(Name.Constant, "parPoolName"),
}
_STRING_TEXT = {
    "STRING": _highlight(String.Double, "parString"),
    "LONG_STRING": _highlight(String.Heredoc, "parLongString"),
}
_STRING_PARTS = {
    "escape": _highlight(String.Escape, "parEscape"),
    "interpolation": _highlight(String.Interpol, "parInterpolation"),
}
_OTHER_TOKENS = {
    "DURATION": _highlight(Number, "parDuration"),
    "INT": _highlight(Number.Integer, "parInteger"),
    "COMMENT": _highlight(Comment.Single, "parComment", "parTodo"),
    "EQUAL": _highlight(Operator, "parOperator"),
    "COMMA": _highlight(Punctuation, "parDelimiter"),
    "LBRACE": _highlight(Punctuation, "parDelimiter"),
    "RBRACE": _highlight(Punctuation, "parDelimiter"),
    "_NL": _highlight(Whitespace, ""),
    "__IGNORE_1": _highlight(Whitespace, ""),
}


def _token_highlights(token: Token, previous: str) -> list[_Highlight]:
    """Return the highlight of each character of one Lark token.

    `previous` is the type of the token before it, whitespace aside: a name
    after `let`, `env` or `pool` is not a step name.
    """
    value = str(token)
    if token.type in _STRING_TEXT:
        kinds = _string_character_kinds(value, token.start_pos or 0)
        return [_STRING_PARTS.get(kind, _STRING_TEXT[token.type]) for kind in kinds]

    if token.type == "NAME":
        highlight = _NAME_AFTER.get(previous, _STEP_NAME)
    elif value in KEYWORDS:
        highlight = _KEYWORD
    else:
        highlight = _OTHER_TOKENS[token.type]
    return [highlight] * len(value)


def expected_highlighting(text: str) -> list[Expected]:
    """Return what every character of `text` must be highlighted as."""
    expected: list[Expected] = []
    previous = ""
    for token in lark_tokens(text):
        start = token.start_pos or 0
        for index, (token_type, vim_groups) in enumerate(_token_highlights(token, previous)):
            expected.append(Expected(start + index, token_type, vim_groups))
        if token.type != "__IGNORE_1":
            previous = token.type
    return expected


# The tests


def test_oracle_reads_a_known_spec() -> None:
    text = 'let out = "{{x}}\\n"\ntrack run-a after b {\n    timeout 2m\n}\n'
    by_offset = {item.offset: item.token for item in expected_highlighting(text)}

    assert by_offset[0] is Keyword
    assert by_offset[text.index("out")] is Name.Variable
    assert by_offset[text.index("{{x}}")] is String.Interpol
    assert by_offset[text.index("\\n")] is String.Escape
    assert by_offset[text.index("run-a")] is Name.Function
    assert by_offset[text.index("2m")] is Number


@given(specs())
def test_pygments_agrees_with_lark(text: str) -> None:
    parse(Source("generated.par", text))
    types: list[_TokenType] = []
    for _, token, value in ParLexer().get_tokens_unprocessed(text):
        types.extend([token] * len(value))

    mismatches = [
        f"{item.offset} {text[item.offset]!r}: {types[item.offset]}, expected {item.token}"
        for item in expected_highlighting(text)
        if types[item.offset] is not item.token
    ]

    assert mismatches == []


@pytest.fixture(scope="module")
def vim() -> str:
    # Checked once, outside Hypothesis, which would retry a missing vim.
    return require_vim()


@pytest.mark.usefixtures("vim")
@settings(max_examples=15)
@given(st.lists(specs(), min_size=1, max_size=6).map("".join))
def test_vim_agrees_with_lark(text: str) -> None:
    parse(Source("generated.par", text))
    with tempfile.TemporaryDirectory() as directory:
        spec = Path(directory) / "generated.par"
        spec.write_text(text, encoding="utf-8")
        dump = dump_syntax(spec)

    starts = line_starts(text)
    lines = text.split("\n")
    mismatches = []
    for item in expected_highlighting(text):
        if text[item.offset] == "\n":
            continue
        line = max(index for index, start in enumerate(starts) if start <= item.offset)
        group = dump.group_at(lines[line], line, item.offset - starts[line])
        if group not in item.vim_groups:
            expected = sorted(item.vim_groups)
            mismatches.append(
                f"{item.offset} {text[item.offset]!r}: {group!r}, expected {expected}"
            )

    assert mismatches == []
