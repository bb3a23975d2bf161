"""A Pygments lexer for `.par` files, so `pygmentize -l par` and the code
blocks of Sphinx and MkDocs highlight parc specs.

Pygments finds `ParLexer` through the `pygments.lexers` entry point, so the
lexer is only loaded where Pygments is installed. This is the only module of
parc that imports Pygments, and Pygments is not a dependency of parc.

Keywords, taken from `parc.grammar.syntax.KEYWORDS`, are reserved everywhere,
so they are matched without context.
Outside `let`, `env` and `pool`, every other name names a step: in a `track`
or `integrate` header, or in an `after` or `default` list.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, default, include, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
    _TokenType,
)

from parc.grammar.syntax import KEYWORDS

__all__ = ["ParLexer"]

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"

# A keyword or a name must not touch another name character: `run-tests` and
# `my_run` are names, not the keyword `run`.
_BEFORE_WORD = r"(?<![A-Za-z0-9_-])"
_AFTER_WORD = r"(?![A-Za-z0-9_-])"

_Rule = tuple[str | words, _TokenType] | tuple[str | words, _TokenType, str] | include | default


def _declaration(keyword: str, state: str) -> _Rule:
    """Return a rule for `keyword` that lexes the name after it in `state`."""
    return (_BEFORE_WORD + f"({keyword})" + _AFTER_WORD, Keyword, state)


def _declared_name(token: _TokenType) -> list[_Rule]:
    """Return the rules of a state that lexes one name, if any, as `token`."""
    return [
        (r"[ \t\f]+", Whitespace),
        (_NAME, token, "#pop"),
        default("#pop"),
    ]


def _string_content(text_token: _TokenType) -> list[_Rule]:
    """Return the rules shared by both kinds of string, after their quotes."""
    return [
        (r'\\["\\nt]', String.Escape),
        (r"\\.?", Error),
        (r"\{\{\{\{", String.Escape),
        (r"\{\{[ \t]*" + _NAME + r"[ \t]*\}\}", String.Interpol),
        (r"\{\{", Error),
        (r"\{", text_token),
    ]


class ParLexer(RegexLexer):
    """Lexer for parc build specs."""

    name = "Par"
    aliases: ClassVar[list[str]] = ["par"]
    filenames: ClassVar[list[str]] = ["*.par"]
    mimetypes: ClassVar[list[str]] = ["text/x-par"]

    tokens: ClassVar[dict[str, list[_Rule]]] = {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"""', String.Heredoc, "long-string"),
            (r'"', String.Double, "string"),
            _declaration("track|integrate", "step-name"),
            _declaration("let", "variable-name"),
            _declaration("env", "env-name"),
            _declaration("pool", "pool-name"),
            (words(sorted(KEYWORDS), prefix=_BEFORE_WORD, suffix=_AFTER_WORD), Keyword),
            (_BEFORE_WORD + r"[0-9]+(\.[0-9]+)?(ms|s|m|h)" + _AFTER_WORD, Number),
            (_BEFORE_WORD + r"[0-9]+(?![A-Za-z0-9_.-])", Number.Integer),
            (_BEFORE_WORD + _NAME, Name.Function),
            (r"=", Operator),
            (r"[,{}]", Punctuation),
            (r".", Error),
        ],
        # A one-line string ends at the end of its line even when its quote is
        # missing, so the next line is lexed as code.
        "string": [
            (r'"', String.Double, "#pop"),
            *_string_content(String.Double),
            (r'[^"\\{\n]+', String.Double),
            default("#pop"),
        ],
        "long-string": [
            (r'"""', String.Heredoc, "#pop"),
            *_string_content(String.Heredoc),
            (r'[^"\\{]+', String.Heredoc),
            (r'"', String.Heredoc),
        ],
        "step-name": _declared_name(Name.Function),
        "variable-name": _declared_name(Name.Variable),
        "env-name": _declared_name(Name.Variable.Global),
        "pool-name": _declared_name(Name.Constant),
    }
