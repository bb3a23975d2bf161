"""A recursive-descent parser for valid specs: the fast path in front of Lark.

Lark's LALR parser and its transformer spend most of a large spec's compile
time on per-token bookkeeping. This module scans the text with one regular
expression and parses the tokens by hand, building the same syntax nodes as
`ToSyntax` does from Lark's tree. It reports nothing: on any syntax error, and
on any string with a bad escape or interpolation, it returns None and the
caller parses the text again with Lark, which produces the diagnostics.

The scanner mirrors the terminals of `par.lark` and the order in which Lark's
basic lexer tries them, higher priority first. So a `"` starts a long string
before a one-line string, a digit starts a duration before an integer, and a
name that spells a keyword is that keyword. A Hypothesis test checks that both
paths build the same nodes for valid specs and reject the same invalid ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from parc.grammar import syntax as s
from parc.grammar.strings import decode_string
from parc.grammar.transform import parse_duration
from parc.source import Source, Span

# One alternative per terminal of `par.lark`, in the order Lark's lexer tries
# them, each after the blanks that Lark ignores. `other` catches any
# character that no terminal accepts. The text always ends with a newline,
# whose token takes the blanks after it, so blanks never end the text.
_TOKEN = re.compile(
    r"[\t \f]*(?:"
    r'(?P<long>"""(?:[^"\\]|\\[\s\S]|"(?!""))*""")'
    r'|(?P<string>"(?:[^"\\\n]|\\[^\n])*")'
    r"|(?P<duration>[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h)(?![A-Za-z0-9_]))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<int>[0-9]+)"
    r"|(?P<newline>(?:\r?\n[\t \f]*)+)"
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<punctuation>[{}=,])"
    r"|(?P<other>[\s\S])"
    r")"
)
_GROUPS: tuple[str, ...] = ("", *_TOKEN.groupindex)
"""The kind of each group of `_TOKEN`, by group number."""

_Item = TypeVar("_Item")

_NEWLINE = "newline"
_END = "end"
_STRING_KINDS = frozenset(["long", "string"])


class _Invalid(Exception):
    """The text is not a valid spec, so Lark parses it again to report why."""


def parse_valid(source: Source, text: str) -> s.Document | None:
    """Parse `text`, the source's text ending with a newline, if it is a valid spec.

    Returns None when the text has a syntax error or a string with a lexical
    problem, which Lark's path reports.
    """
    try:
        return _Parser(source, text).document()
    except _Invalid:
        return None


class _Parser:
    """Tokens as three parallel lists, and a cursor into them."""

    def __init__(self, source: Source, text: str) -> None:
        self.source = source
        self.text = text
        self.kinds: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.comments: list[s.Comment] = []
        self._scan()
        self.index = 0

    def _scan(self) -> None:
        text = self.text
        kinds = self.kinds
        starts = self.starts
        ends = self.ends
        keywords = s.KEYWORDS
        groups = _GROUPS
        for match in _TOKEN.finditer(text):
            group = match.lastindex
            assert group is not None
            kind = groups[group]
            start, end = match.span(group)
            if kind == "name":
                word = text[start:end]
                if word in keywords:
                    kind = word
            elif kind == "punctuation":
                kind = text[start]
            elif kind == "comment":
                self.comments.append(s.Comment(text[start:end], Span(start, end)))
                continue
            elif kind == "other":
                raise _Invalid
            kinds.append(kind)
            starts.append(start)
            ends.append(end)
        kinds.append(_END)
        starts.append(len(text))
        ends.append(len(text))

    # Tokens.

    def _expect(self, kind: str) -> int:
        """Consume a token of `kind`; return its index."""
        index = self.index
        if self.kinds[index] != kind:
            raise _Invalid
        self.index = index + 1
        return index

    def _skip_newlines(self) -> None:
        kinds = self.kinds
        index = self.index
        while kinds[index] == _NEWLINE:
            index += 1
        self.index = index

    def _span(self, first: int, last: int) -> Span:
        return Span(self.starts[first], self.ends[last])

    def _name(self) -> s.Name:
        index = self._expect("name")
        start = self.starts[index]
        end = self.ends[index]
        return s.Name(self.text[start:end], Span(start, end))

    def _string(self) -> s.String:
        index = self.index
        if self.kinds[index] not in _STRING_KINDS:
            raise _Invalid
        self.index = index + 1
        start = self.starts[index]
        value, problems = decode_string(self.text[start : self.ends[index]], start)
        if problems:
            raise _Invalid
        return value

    def _integer(self) -> s.Integer:
        index = self._expect("int")
        start = self.starts[index]
        end = self.ends[index]
        return s.Integer(int(self.text[start:end]), Span(start, end))

    def _duration(self) -> s.Duration:
        index = self._expect("duration")
        start = self.starts[index]
        end = self.ends[index]
        literal = self.text[start:end]
        return s.Duration(literal, parse_duration(literal), Span(start, end))

    def _name_list(self) -> tuple[s.Name, ...]:
        return self._list(self._name)

    def _string_list(self) -> tuple[s.String, ...]:
        return self._list(self._string)

    def _list(self, read: Callable[[], _Item]) -> tuple[_Item, ...]:
        """Parse items separated by commas; after a comma, the list may go on on the next line."""
        items = [read()]
        while self.kinds[self.index] == ",":
            self.index += 1
            self._skip_newlines()
            items.append(read())
        return tuple(items)

    # Top-level statements.

    def document(self) -> s.Document:
        statements: list[s.TopStatement] = []
        kinds = self.kinds
        while True:
            kind = kinds[self.index]
            if kind == _NEWLINE:
                self.index += 1
                continue
            if kind == _END:
                break
            statements.append(self._top_statement(kind))
            self._expect(_NEWLINE)
        return s.Document(self.source, tuple(statements), tuple(self.comments))

    def _top_statement(self, kind: str) -> s.TopStatement:
        first = self.index
        self.index += 1
        if kind == "track":
            return self._step("track", first)
        if kind == "integrate":
            return self._step("integrate", first)
        if kind == "let" or kind == "env":
            name = self._name()
            self._expect("=")
            value = self._string()
            span = self._span(first, self.index - 1)
            if kind == "let":
                return s.Let(name, value, span)
            return s.Env(name, value, span)
        if kind == "pool":
            name = self._name()
            self._expect("=")
            size = self._integer()
            return s.PoolDef(name, size, self._span(first, self.index - 1))
        if kind == "default":
            names = self._name_list()
            return s.Default(names, self._span(first, self.index - 1))
        raise _Invalid

    def _step(self, kind: s.StepKind, first: int) -> s.Step:
        name = self._name()
        header_after = None
        if self.kinds[self.index] == "after":
            keyword = self.index
            self.index += 1
            names = self._name_list()
            header_after = s.After(names, self._span(keyword, self.index - 1))
        self._expect("{")
        body = self._body()
        self._expect("}")
        return s.Step(kind, name, header_after, body, self._span(first, self.index - 1))

    # Body statements.

    def _body(self) -> tuple[s.BodyStatement, ...]:
        """Parse statements up to the closing `}`, which stays unconsumed.

        Each statement ends at a newline, or at the `}` itself.
        """
        statements: list[s.BodyStatement] = []
        kinds = self.kinds
        while True:
            kind = kinds[self.index]
            if kind == _NEWLINE:
                self.index += 1
                continue
            if kind == "}":
                return tuple(statements)
            statements.append(self._body_statement(kind))
            if kinds[self.index] == "}":
                return tuple(statements)
            self._expect(_NEWLINE)

    def _body_statement(self, kind: str) -> s.BodyStatement:
        first = self.index
        self.index += 1
        if kind == "env":
            name = self._name()
            self._expect("=")
            value = self._string()
            return s.Env(name, value, self._span(first, self.index - 1))
        form = _BODY_FORMS.get(kind)
        if form is None:
            raise _Invalid
        read, node = form
        return node(read(self), self._span(first, self.index - 1))


_BODY_FORMS: dict[str, tuple[Callable[[_Parser], Any], Callable[[Any, Span], s.BodyStatement]]] = {
    "reads": (_Parser._string_list, s.Reads),
    "owns": (_Parser._string_list, s.Owns),
    "run": (_Parser._string, s.Run),
    "after": (_Parser._name_list, s.After),
    "desc": (_Parser._string, s.Desc),
    "cwd": (_Parser._string, s.Cwd),
    "timeout": (_Parser._duration, s.Timeout),
    "retries": (_Parser._integer, s.Retries),
    "pool": (_Parser._name, s.PoolRef),
}
"""The body statements made of a keyword and one value: how to read the value, and the node."""
