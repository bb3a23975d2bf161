"""What the editor tests share: the highlighting cases, the scope table and the
Lark grammar's own view of a spec.

The cases in `editors/cases/*.par` are syntax tests in the format of
vscode-tmgrammar-test. After a header line, each comment line of `^` marks
(or `<-` for the first columns) asserts the TextMate scopes of the marked
characters in the last source line above it. The VS Code tests run them as
they are. The
Vim and Pygments tests read the same assertions and translate each scope into
the Vim syntax group and the Pygments token that stand for it, so all three
editors are held to the same positions.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

import attrs
from lark import Lark, Token
from lark.lexer import PatternStr
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    _TokenType,
)

REPO = Path(__file__).resolve().parents[2]
EDITORS = REPO / "editors"
CASES = sorted((EDITORS / "cases").glob("*.par"))

# The valid specs of the repository, which must highlight without an error mark:
# parc's own specs and the example shown in the editor docs.
EXAMPLE = EDITORS / "example.par"
SPECS = [*sorted((REPO / "specs").rglob("*.par")), EXAMPLE]

_HEADER = re.compile(r'^(\S+)\s+SYNTAX\s+TEST\s+"([^"]+)"(?:\s+"([^"]+)")?\s*$')
_UP_ARROWS = re.compile(r"^\s*((?:\^+\s*)+)((?:\s*\w[-\w.]*)*)(?:\s*-)?((?:\s*\w[-\w.]*)*)\s*$")
_LEFT_ARROW = re.compile(r"^(\s*)<(~*)(-+)((?:\s*\w[-\w.]*)*)(?:\s*-)?((?:\s*\w[-\w.]*)*)\s*$")
_IS_ASSERTION = re.compile(r"^\s*(\^|<~*-+)")


@attrs.frozen
class Assertion:
    """The expected scopes of the columns `[start, end)` of one source line."""

    case_line: int
    """The line of the assertion in the case file, starting at 1."""
    line: int
    """The source line it applies to, starting at 0."""
    start: int
    end: int
    scopes: tuple[str, ...]
    excluded: tuple[str, ...]


@attrs.frozen
class Case:
    """A case file split into the source that editors see and its assertions."""

    path: Path
    lines: tuple[str, ...]
    assertions: tuple[Assertion, ...]

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def load_case(path: Path) -> Case:
    """Read a case file the way vscode-tmgrammar-test reads it.

    The header and the assertion lines are removed from the source, and each
    `^` run or `<-` arrow applies to the last source line before it.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    header = _HEADER.match(lines[0]) if lines else None
    if header is None:
        raise ValueError(f'{path}: the first line must be `# SYNTAX TEST "source.par"`')
    comment = header.group(1)

    source: list[str] = []
    assertions: list[Assertion] = []
    for number, line in enumerate(lines[1:], start=2):
        rest = line[len(comment) :]
        if not (line.startswith(comment) and _IS_ASSERTION.match(rest)):
            source.append(line)
            continue
        if not source:
            raise ValueError(f"{path}:{number}: an assertion needs a source line above it")
        for start, end, scopes, excluded in _parse_assertion(rest, len(comment)):
            assertions.append(
                Assertion(number, len(source) - 1, start, end, tuple(scopes), tuple(excluded))
            )
    return Case(path, tuple(source), tuple(assertions))


def _parse_assertion(text: str, offset: int) -> list[tuple[int, int, list[str], list[str]]]:
    """Return `(start, end, scopes, excluded)` for each arrow run of one line."""
    up = _UP_ARROWS.match(text)
    if up is not None:
        scopes, excluded = up.group(2).split(), up.group(3).split()
        # Scope names cannot contain `^`, so every run of `^` is an arrow.
        runs = re.finditer(r"\^+", text)
        return [(run.start() + offset, run.end() + offset, scopes, excluded) for run in runs]

    left = _LEFT_ARROW.match(text)
    if left is None:
        raise ValueError(f"invalid scope assertion: {text!r}")
    start = len(left.group(2))
    return [(start, start + len(left.group(3)), left.group(4).split(), left.group(5).split())]


@attrs.frozen
class ScopeEquivalent:
    """A TextMate scope and what stands for it in Vim and in Pygments."""

    scope: str
    vim_group: str
    token: _TokenType


# In priority order: an assertion is checked against the first row whose scope
# it names, so the innermost meaning comes first.
EQUIVALENTS = (
    ScopeEquivalent("invalid.illegal.unknown-escape.par", "parBadEscape", Error),
    ScopeEquivalent("invalid.illegal.interpolation.par", "parBadInterpolation", Error),
    ScopeEquivalent("meta.interpolation.par", "parInterpolation", String.Interpol),
    ScopeEquivalent("constant.character.escape.par", "parEscape", String.Escape),
    ScopeEquivalent("comment.line.number-sign.par", "parComment", Comment.Single),
    ScopeEquivalent("string.quoted.triple.par", "parLongString", String.Heredoc),
    ScopeEquivalent("string.quoted.double.par", "parString", String.Double),
    ScopeEquivalent("keyword.other.par", "parKeyword", Keyword),
    ScopeEquivalent("keyword.operator.assignment.par", "parOperator", Operator),
    ScopeEquivalent("constant.numeric.duration.par", "parDuration", Number),
    ScopeEquivalent("constant.numeric.integer.par", "parInteger", Number.Integer),
    ScopeEquivalent("entity.name.function.par", "parStepName", Name.Function),
    ScopeEquivalent("variable.other.env.par", "parEnvName", Name.Variable.Global),
    ScopeEquivalent("variable.other.constant.par", "parPoolName", Name.Constant),
    ScopeEquivalent("variable.other.par", "parVariable", Name.Variable),
    ScopeEquivalent("punctuation.separator.comma.par", "parDelimiter", Punctuation),
    ScopeEquivalent("punctuation.section.block.begin.par", "parDelimiter", Punctuation),
    ScopeEquivalent("punctuation.section.block.end.par", "parDelimiter", Punctuation),
)


def expected_equivalent(assertion: Assertion) -> ScopeEquivalent | None:
    """Return the row that an assertion's required scopes translate to."""
    for equivalent in EQUIVALENTS:
        if equivalent.scope in assertion.scopes:
            return equivalent
    return None


def excluded_equivalents(assertion: Assertion) -> list[ScopeEquivalent]:
    """Return the rows of the scopes that an assertion forbids."""
    return [row for row in EQUIVALENTS if row.scope in assertion.excluded]


@cache
def lark_grammar() -> Lark:
    """Build a parser from parc's grammar file, without parc's lexer callbacks."""
    text = resources.files("parc.grammar").joinpath("par.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer="basic")


def lark_keywords() -> frozenset[str]:
    """Return the keywords of the Lark grammar: its literal terminals that are
    spelled like a name, which Lark's lexer takes out of NAME."""
    terminals = {terminal.name: terminal for terminal in lark_grammar().terminals}
    name = re.compile(terminals["NAME"].pattern.value)
    return frozenset(
        terminal.pattern.value
        for terminal in terminals.values()
        if isinstance(terminal.pattern, PatternStr) and name.fullmatch(terminal.pattern.value)
    )


def lark_tokens(text: str) -> list[Token]:
    """Lex `text` with the Lark grammar, keeping comments and whitespace."""
    return list(lark_grammar().lex(text, dont_ignore=True))


def line_starts(text: str) -> list[int]:
    """Return the offset of the first character of each line of `text`."""
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts
