"""The syntax tree of a `.par` file: attrs classes that mirror the grammar.

Names here are still strings; the compiler resolves them. Every node has the
span of the text it came from, and names and strings inside a node have spans
of their own, so an error can point at the exact token.
"""

from __future__ import annotations

from typing import Literal

import attrs

from parc.source import Source, Span

KEYWORDS = frozenset(
    [
        "let",
        "env",
        "pool",
        "default",
        "track",
        "integrate",
        "after",
        "desc",
        "reads",
        "owns",
        "run",
        "cwd",
        "timeout",
        "retries",
    ]
)
"""The keywords of the language. None of them can be used as a name."""


@attrs.frozen
class Name:
    text: str
    span: Span


@attrs.frozen
class Escape:
    """A `\\n` or `\\t` escape: its character's index in the text, and its place in the file."""

    index: int
    span: Span


@attrs.frozen
class Text:
    """Literal text of a string, after escapes are decoded.

    `escapes` lists where a `\\n` or `\\t` escape made a newline or a tab,
    for the warning about them in shell single quotes. It takes no part in
    comparisons: the text is what it is, however it was written.
    """

    value: str
    escapes: tuple[Escape, ...] = attrs.field(default=(), eq=False)


@attrs.frozen
class Interpolation:
    """A `{{name}}` reference; `span` covers the braces."""

    name: str
    span: Span


StringPart = Text | Interpolation


@attrs.frozen
class String:
    """A string literal as a sequence of literal text and interpolations."""

    parts: tuple[StringPart, ...]
    span: Span
    long: bool = False

    @property
    def is_literal(self) -> bool:
        return all(isinstance(part, Text) for part in self.parts)

    def literal_value(self) -> str:
        """Return the text with each interpolation shown as `{{name}}`."""
        pieces = []
        for part in self.parts:
            if isinstance(part, Text):
                pieces.append(part.value)
            else:
                pieces.append("{{" + part.name + "}}")
        return "".join(pieces)


@attrs.frozen
class Integer:
    value: int
    span: Span


@attrs.frozen
class Duration:
    """A duration literal such as `1.5h`; `seconds` is its value in seconds."""

    text: str
    seconds: float
    span: Span


# Top-level statements.


@attrs.frozen
class Let:
    name: Name
    value: String
    span: Span


@attrs.frozen
class Env:
    """`env NAME = STRING`, at the top level or in a step body."""

    name: Name
    value: String
    span: Span


@attrs.frozen
class PoolDef:
    name: Name
    size: Integer
    span: Span


@attrs.frozen
class Default:
    names: tuple[Name, ...]
    span: Span


# Body statements.


@attrs.frozen
class Desc:
    value: String
    span: Span


@attrs.frozen
class After:
    """Dependencies, from a step's header or from an `after` body statement."""

    names: tuple[Name, ...]
    span: Span


@attrs.frozen
class Reads:
    globs: tuple[String, ...]
    span: Span


@attrs.frozen
class Owns:
    globs: tuple[String, ...]
    span: Span


@attrs.frozen
class Run:
    command: String
    span: Span


@attrs.frozen
class Cwd:
    path: String
    span: Span


@attrs.frozen
class Timeout:
    duration: Duration
    span: Span


@attrs.frozen
class Retries:
    count: Integer
    span: Span


@attrs.frozen
class PoolRef:
    """`pool NAME` inside a step body."""

    name: Name
    span: Span


BodyStatement = Desc | After | Reads | Owns | Run | Env | Cwd | Timeout | Retries | PoolRef

StepKind = Literal["track", "integrate"]


@attrs.frozen
class Step:
    """A `track` or `integrate` block.

    `header_after` is the `after` list between the name and the brace, if any.
    """

    kind: StepKind
    name: Name
    header_after: After | None
    body: tuple[BodyStatement, ...]
    span: Span


TopStatement = Let | Env | PoolDef | Default | Step


@attrs.frozen
class Comment:
    """A `#` comment; kept for the formatter, ignored by the compiler."""

    text: str
    span: Span


@attrs.frozen(eq=False)
class Document:
    """A parsed spec file."""

    source: Source
    statements: tuple[TopStatement, ...]
    comments: tuple[Comment, ...] = ()
