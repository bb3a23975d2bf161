"""The transformer from Lark parse trees to syntax nodes.

Design note: this pass only builds nodes. Method names match grammar rules one
to one, and upper-case methods handle terminals. The only problems it records
are lexical ones inside strings (a bad escape, a bad `{{`); every other check
is the compiler's, which works on typed nodes.

It walks the tree itself rather than through `lark.Transformer`, whose
`v_args` wrappers are built anew on every call and took a third of the time
of a 10,000-track spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from lark import Token, Tree

from parc.diagnostics import Diagnostic
from parc.grammar import syntax as s
from parc.grammar.strings import decode_string
from parc.source import Source, Span

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


_VALUE_TOKENS = frozenset(["STRING", "LONG_STRING"])
"""Tokens that reach the rule methods as they are; keywords and punctuation do not."""


@attrs.frozen
class _Where:
    """The offsets a rule's tokens cover, in place of Lark's `Meta`."""

    start_pos: int | None
    end_pos: int | None


def _span(meta: _Where) -> Span:
    if meta.start_pos is None or meta.end_pos is None:
        return Span(0, 0)
    return Span(meta.start_pos, meta.end_pos)


def _token_span(token: Token) -> Span:
    start = token.start_pos if token.start_pos is not None else 0
    end = token.end_pos if token.end_pos is not None else start
    return Span(start, end)


def parse_duration(text: str) -> float:
    """Return the number of seconds in a duration literal such as `1.5h`."""
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit):
            number = text[: -len(unit)]
            if number.replace(".", "", 1).isdigit():
                return float(number) * _DURATION_UNITS[unit]
    raise ValueError(f"invalid duration {text!r}")


class ToSyntax:
    """Build a `Document` and collect the lexical problems found on the way."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []
        self.spoiled: list[Span] = []
        """The strings with problems, whose values are only a guess."""
        self._rules: dict[str, Callable[..., Any]] = {}
        self._terminals: dict[str, Callable[[Token], Any]] = {
            "NAME": self.NAME,
            "INT": self.INT,
            "DURATION": self.DURATION,
        }

    def transform(self, tree: Tree[Token]) -> s.Document:
        document, _, _ = self._visit(tree)
        assert isinstance(document, s.Document)
        return document

    def _visit(self, tree: Tree[Token]) -> tuple[Any, int | None, int | None]:
        """Build the node for `tree`; return it with the offsets its tokens cover.

        The parser keeps every token (keywords, punctuation and newlines
        too) and tracks no positions, which makes it faster: spans come from
        the tokens here, and only the tokens that carry values reach the rule
        methods.
        """
        values: list[Any] = []
        start: int | None = None
        end: int | None = None
        for child in tree.children:
            if isinstance(child, Token):
                if child.type == "_NL":
                    continue
                if start is None:
                    start = child.start_pos
                end = child.end_pos
                terminal = self._terminals.get(child.type)
                if terminal is not None:
                    values.append(terminal(child))
                elif child.type in _VALUE_TOKENS:
                    values.append(child)
                continue
            value, child_start, child_end = self._visit(child)
            if child_start is not None:
                if start is None:
                    start = child_start
                end = child_end
            values.append(value)
        rule = self._rules.get(tree.data)
        if rule is None:
            rule = self._rules[tree.data] = getattr(self, tree.data)
        return rule(_Where(start, end), *values), start, end

    # Terminals.

    def NAME(self, token: Token) -> s.Name:
        return s.Name(str(token), _token_span(token))

    def INT(self, token: Token) -> s.Integer:
        return s.Integer(int(token), _token_span(token))

    def DURATION(self, token: Token) -> s.Duration:
        return s.Duration(str(token), parse_duration(str(token)), _token_span(token))

    def string(self, meta: _Where, token: Token) -> s.String:
        span = _token_span(token)
        value, problems = decode_string(str(token), span.start)
        if problems:
            self.spoiled.append(span)
        for problem in problems:
            self.problems.append(
                Diagnostic(
                    problem.code, problem.message, self.source, problem.span, help=problem.help
                )
            )
        return value

    def name_list(self, meta: _Where, *names: s.Name) -> tuple[s.Name, ...]:
        return names

    def string_list(self, meta: _Where, *strings: s.String) -> tuple[s.String, ...]:
        return strings

    # Top-level statements.

    def start(self, meta: _Where, *statements: s.TopStatement) -> s.Document:
        return s.Document(self.source, statements)

    def let(self, meta: _Where, name: s.Name, value: s.String) -> s.Let:
        return s.Let(name, value, _span(meta))

    def env(self, meta: _Where, name: s.Name, value: s.String) -> s.Env:
        return s.Env(name, value, _span(meta))

    step_env = env

    def pool(self, meta: _Where, name: s.Name, size: s.Integer) -> s.PoolDef:
        return s.PoolDef(name, size, _span(meta))

    def default(self, meta: _Where, names: tuple[s.Name, ...]) -> s.Default:
        return s.Default(names, _span(meta))

    def track(self, meta: _Where, *children: Any) -> s.Step:
        return self._step("track", meta, children)

    def integrate(self, meta: _Where, *children: Any) -> s.Step:
        return self._step("integrate", meta, children)

    def _step(self, kind: s.StepKind, meta: _Where, children: tuple[Any, ...]) -> s.Step:
        name = children[0]
        header_after = children[1] if len(children) == 3 else None
        body = children[-1]
        return s.Step(kind, name, header_after, body, _span(meta))

    def header_after(self, meta: _Where, names: tuple[s.Name, ...]) -> s.After:
        return s.After(names, _span(meta))

    def body(self, meta: _Where, *statements: s.BodyStatement) -> tuple[s.BodyStatement, ...]:
        return statements

    # Body statements.

    def desc(self, meta: _Where, value: s.String) -> s.Desc:
        return s.Desc(value, _span(meta))

    def after(self, meta: _Where, names: tuple[s.Name, ...]) -> s.After:
        return s.After(names, _span(meta))

    def reads(self, meta: _Where, globs: tuple[s.String, ...]) -> s.Reads:
        return s.Reads(globs, _span(meta))

    def owns(self, meta: _Where, globs: tuple[s.String, ...]) -> s.Owns:
        return s.Owns(globs, _span(meta))

    def run(self, meta: _Where, command: s.String) -> s.Run:
        return s.Run(command, _span(meta))

    def cwd(self, meta: _Where, path: s.String) -> s.Cwd:
        return s.Cwd(path, _span(meta))

    def timeout(self, meta: _Where, duration: s.Duration) -> s.Timeout:
        return s.Timeout(duration, _span(meta))

    def retries(self, meta: _Where, count: s.Integer) -> s.Retries:
        return s.Retries(count, _span(meta))

    def step_pool(self, meta: _Where, name: s.Name) -> s.PoolRef:
        return s.PoolRef(name, _span(meta))
