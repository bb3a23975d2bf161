"""Syntax error messages: Lark's errors described in words, with a help line.

Lark reports the token it could not take and the terminals it accepted
there. These functions turn that into a diagnostic that says what was
expected and what was found, and, where it can, a help line built from
the statement being written.
"""

from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from parc.diagnostics import Codes, Diagnostic, Label
from parc.grammar import hints
from parc.grammar.syntax import KEYWORDS
from parc.source import Source, Span

_BODY_KEYWORDS = [
    "desc",
    "after",
    "reads",
    "owns",
    "run",
    "env",
    "cwd",
    "timeout",
    "retries",
    "pool",
]
_TOP_KEYWORDS = ["let", "env", "pool", "default", "track", "integrate"]

_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "a whole number",
    "DURATION": "a duration such as `30s` or `2m`",
    "STRING": "a string",
    "LONG_STRING": "a string",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "EQUAL": "`=`",
    "COMMA": "`,`",
}


def describe(source: Source, text: str, error: UnexpectedInput) -> tuple[Diagnostic, Span | None]:
    """Turn a Lark error into a diagnostic, and the span to blank before retrying.

    The span is None when parsing cannot usefully go on.
    """
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(source, text, error)
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_characters(source, text, error)
    # Lark's LALR parser reports the end of input as an UnexpectedToken, so
    # this is only a guard for other UnexpectedInput kinds.
    end = Span(max(0, len(source.text) - 1), len(source.text))
    return Diagnostic(Codes.SYNTAX, "unexpected end of file", source, end), None


def _unexpected_characters(
    source: Source, text: str, error: UnexpectedCharacters
) -> tuple[Diagnostic, Span | None]:
    position: int = error.pos_in_stream or 0
    char = text[position]
    line_end = text.find("\n", position)
    line_end = len(text) if line_end == -1 else line_end

    if char == '"':
        # An unterminated `"""` string first matches as the empty string `""`,
        # and the lexer only fails at the third quote.
        if position >= 2 and text[position - 2 : position + 1] == '"""':
            start = position - 2
            diagnostic = Diagnostic(
                Codes.UNTERMINATED_STRING,
                "unterminated multi-line string",
                source,
                Span(start, start + 3),
                primary_label="the string starts here",
                help='close it with `"""`',
            )
            return diagnostic, None
        diagnostic = Diagnostic(
            Codes.UNTERMINATED_STRING,
            "unterminated string",
            source,
            Span(position, position + 1),
            primary_label="the string starts here",
            help='close it with `"` on the same line, or use `"""` for a string that spans lines',
        )
        return diagnostic, Span(position, line_end)

    shown = char if char.isprintable() else repr(char)
    expected = _expected_words(_accepted(error))
    message = f"unexpected character `{shown}`"
    if expected:
        message += f", expected {expected}"
    accepted = _accepted(error)
    number = hints.number_help(hints.statement_keyword(error))
    if char in "'`":
        help = 'strings, globs and commands go in double quotes: `"..."`'
    elif char in "-." and number is not None and accepted & {"INT", "DURATION", "_NL"}:
        help = number
    else:
        help = "remove it; each statement goes on a line of its own"
    diagnostic = Diagnostic(
        Codes.INVALID_CHARACTER,
        message,
        source,
        Span(position, position + 1),
        help=help,
    )
    return diagnostic, Span(position, line_end)


def _unexpected_token(
    source: Source, text: str, error: UnexpectedToken
) -> tuple[Diagnostic, Span | None]:
    token = error.token
    expected = _accepted(error)
    span = _found_span(text, token)
    found_type = token.type

    # A keyword where a name belongs: `track run { ... }`.
    if "NAME" in expected and str(token) in KEYWORDS and found_type != "NAME":
        diagnostic = Diagnostic(
            Codes.KEYWORD_AS_NAME,
            f"`{token}` is a keyword and cannot be used as a name",
            source,
            span,
            help="choose another name, such as "
            f"`{hints.name_example(str(token), hints.statement_keyword(error))}`",
        )
        return diagnostic, None

    if found_type == "RBRACE" and _open_brace(error) is None:
        diagnostic = Diagnostic(
            Codes.SYNTAX,
            "unmatched `}`",
            source,
            span,
            primary_label="no block is open here",
            help="remove this `}`, or check the `{` of the block above",
        )
        return diagnostic, span

    # A body that is never closed: the parser meets the next top-level
    # statement, or the end of the file, while it still expects `}`.
    open_brace = _open_brace(error)
    if (
        open_brace is not None
        and "RBRACE" in expected
        and found_type
        in (
            "$END",
            "TRACK",
            "INTEGRATE",
            "LET",
            "DEFAULT",
        )
    ):
        labels: tuple[Label, ...] = ()
        if found_type != "$END":
            labels = (Label(source, span, f"`}}` expected before this `{token}`"),)
        diagnostic = Diagnostic(
            Codes.UNCLOSED_BRACE,
            "unclosed `{`",
            source,
            open_brace,
            primary_label="this brace is never closed",
            labels=labels,
            help="add `}` on its own line at the end of the block",
        )
        # The unclosed block runs from its header up to the line that starts
        # the next top-level statement, or to the end of the file.
        block_end = len(text) if found_type == "$END" else text.rfind("\n", 0, span.start)
        if block_end <= open_brace.start:
            block_end = span.end
        return diagnostic, Span(open_brace.start, block_end)

    previous = _previous_token(error)
    allman = _brace_on_next_line(source, text, error, token, previous)
    if allman is not None:
        return allman

    if previous == ",":
        # A list may continue on the next line, but a newline is not what
        # the user is missing here.
        expected = expected - {"_NL"}
    words = _expected_words(expected)
    message = f"expected {words}"
    if previous is not None and previous != "{":
        message += f" after `{previous}`"
    found = _found_words(token)
    if expected == {"DURATION"}:
        # `90min` is lexed as `90` and `min`: show and underline both.
        end = hints.written_duration_end(text, token)
        if end is not None:
            span = Span(span.start, end)
            found = f"`{text[span.start : end]}`"
    message += f", found {found}"
    keyword = hints.statement_keyword(error)
    diagnostic = Diagnostic(
        Codes.SYNTAX,
        message,
        source,
        span,
        help=_syntax_help(text, expected, token, previous, keyword),
    )
    if found_type == "$END":
        return diagnostic, None
    comma = _previous_comma(error)
    if comma is not None:
        # After a dangling comma the error can sit on a later, correct line.
        # So the lines from the list's keyword to the comma are left out, and
        # the error's line only when it is the comma's line.
        start = _list_start(error, comma)
        if "\n" in text[comma : span.start]:
            return diagnostic, Span(start, comma + 1)
        return diagnostic, Span(start, span.end)
    return diagnostic, span


def _brace_on_next_line(
    source: Source, text: str, error: UnexpectedToken, token: Token, previous: str | None
) -> tuple[Diagnostic, Span] | None:
    """Report a step header whose `{` was written on a line of its own, if it is one.

    The header ends at its line's end, where the parser wants `{` (or, after
    a `,`, the next name on the following line, where it meets the `{`).
    The diagnostic is the parser's, with a help that moves the brace. The
    span to blank runs from the header's keyword to that `{`, so the block
    under it is skipped like the block of any broken header.
    """
    header = _step_keyword(error)
    if header is None:
        return None
    if token.type == "_NL" and "LBRACE" in _accepted(error):
        brace = _next_code(text, token.start_pos or 0)
        if brace is None or text[brace] != "{":
            return None
    elif token.type == "LBRACE" and previous == ",":
        brace = token.start_pos or 0
        if "\n" not in text[_previous_comma(error) or brace : brace]:
            return None
    else:
        return None

    span = _found_span(text, token)
    words = _expected_words(_accepted(error) - ({"_NL"} if previous == "," else set()))
    message = f"expected {words}"
    if previous is not None:
        message += f" after `{previous}`"
    message += f", found {_found_words(token)}"
    line = source.position(brace).line
    fixed = _header_end(text, brace)
    help = f"move the `{{` from line {line} to the end of the header: `{fixed} {{`"
    if fixed.endswith(","):
        help = (
            f"move the `{{` from line {line} to the end of the header, "
            f"in place of the `,` that ends the list: `{fixed[:-1].rstrip()} {{`"
        )
    diagnostic = Diagnostic(Codes.SYNTAX, message, source, span, help=help)
    return diagnostic, Span(header.start_pos or 0, brace + 1)


def _step_keyword(error: UnexpectedToken) -> Token | None:
    """Return the `track` or `integrate` keyword of the step header that the error is in."""
    parser = error.interactive_parser
    if parser is None:
        return None
    for value in reversed(parser.parser_state.value_stack):
        if isinstance(value, Token):
            if value.type in ("TRACK", "INTEGRATE"):
                return value
            if value.type in ("LBRACE", "RBRACE"):
                return None
        elif value.data.startswith("__start"):
            return None  # the statements before this one
    return None


_BLANK_OR_COMMENT = re.compile(r"(?:[ \t\f\r\n]+|#[^\n]*)*")


def _next_code(text: str, offset: int) -> int | None:
    """Return the offset of the first character after `offset` that is not blank or a comment."""
    end = _BLANK_OR_COMMENT.match(text, offset)
    assert end is not None  # the pattern matches the empty string
    return end.end() if end.end() < len(text) else None


def _header_end(text: str, brace: int) -> str:
    """Return the code of the last header line above the `{` at `brace`, without its comment."""
    line_end = text.rfind("\n", 0, brace)
    while line_end > 0:
        line_start = text.rfind("\n", 0, line_end) + 1
        code = _STRING_OR_COMMENT.sub(_keep_strings, text[line_start:line_end]).strip()
        if code:
            return code
        line_end = line_start - 1
    return ""


_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\[^\n])*"|#[^\n]*')


def _keep_strings(match: re.Match[str]) -> str:
    return "" if match.group().startswith("#") else match.group()


def _found_span(text: str, token: Token) -> Span:
    start = token.start_pos if token.start_pos is not None else max(0, len(text) - 1)
    if token.type == "$END":
        # Lark places the end-of-input token at the last real token.
        start = max(0, len(text.rstrip()) - 1)
        return Span(start, start + 1)
    if token.type == "_NL":
        return Span(start, start + 1)
    end = token.end_pos if token.end_pos is not None else start + 1
    return Span(start, max(end, start + 1))


def _open_brace(error: UnexpectedToken) -> Span | None:
    """Return the span of a `{` that the parser has shifted but not yet closed."""
    parser = error.interactive_parser
    if parser is None:
        return None
    for value in reversed(parser.parser_state.value_stack):
        if isinstance(value, Token) and value.type == "LBRACE" and value.start_pos is not None:
            return Span(value.start_pos, value.start_pos + 1)
    return None


def _accepted(error: UnexpectedToken | UnexpectedCharacters) -> set[str]:
    """Return the terminals the parser accepts at the error.

    Lark's `expected` comes from an LALR state that merged several contexts, so
    it can list tokens that no statement allows there; asking the interactive
    parser is exact.
    """
    parser = error.interactive_parser
    if parser is not None:
        accepted: set[str] = parser.accepts()  # type: ignore[no-untyped-call]
        return accepted
    if isinstance(error, UnexpectedToken):
        return set(error.expected)
    return set(error.allowed or ())


def _last_value(error: UnexpectedToken) -> object:
    """Return the last value on the parser's stack that is not line breaks, or None."""
    parser = error.interactive_parser
    if parser is None:
        return None
    stack = [value for value in parser.parser_state.value_stack if not hints.is_newlines(value)]
    return stack[-1] if stack else None


def _previous_token(error: UnexpectedToken) -> str | None:
    """Return the keyword or punctuation just before the error, if it was one."""
    last = _last_value(error)
    if not isinstance(last, Token) or last.type in ("$END", "NAME", "INT"):
        return None
    if last.type.endswith("STRING"):
        return None
    return str(last)


def _previous_comma(error: UnexpectedToken) -> int | None:
    """Return the offset of the `,` just before the error, if the token there is one."""
    last = _last_value(error)
    if isinstance(last, Token) and last.type == "COMMA" and last.start_pos is not None:
        return last.start_pos
    return None


def _list_start(error: UnexpectedToken, comma: int) -> int:
    """Return the offset of the keyword that starts the list ending in the `,` at `comma`.

    The list's items sit on the parser's stack as trees, and the keyword
    is the last token before them. Falls back to `comma` when there is none.
    """
    parser = error.interactive_parser
    if parser is None:
        return comma
    for value in reversed(parser.parser_state.value_stack):
        if not isinstance(value, Token):
            continue
        if value.type in ("LBRACE", "RBRACE"):
            break
        if value.type.lower() in KEYWORDS and value.start_pos is not None:
            return value.start_pos
    return comma


def _found_words(token: Token) -> str:
    kind = token.type
    if kind == "NAME":
        return f"name `{token}`"
    if kind in ("STRING", "LONG_STRING"):
        return "a string"
    if kind == "INT":
        return f"number `{token}`"
    if kind == "DURATION":
        return f"duration `{token}`"
    if kind in ("_NL", "$END"):
        return _TERMINAL_WORDS[kind]
    return f"`{token}`"


def _expected_words(expected: set[str]) -> str:
    keywords = {name.lower() for name in expected if name.lower() in KEYWORDS}
    words: list[str] = []
    statement_expected = {"let", "track", "integrate", "default"} <= keywords
    if statement_expected:
        # Blank lines and the end of the file are always fine between statements.
        expected = expected - {"_NL", "$END"}
    if statement_expected:
        words.append("a statement (" + _join([f"`{k}`" for k in _TOP_KEYWORDS]) + ")")
        keywords -= set(_TOP_KEYWORDS)
    if {"desc", "reads", "owns", "run"} <= keywords:
        words.append("a body statement (" + _join([f"`{k}`" for k in _BODY_KEYWORDS]) + ")")
        keywords -= set(_BODY_KEYWORDS)
    words.extend(f"`{keyword}`" for keyword in sorted(keywords))
    for name in sorted(expected):
        word = _TERMINAL_WORDS.get(name)
        if word is not None and word not in words:
            words.append(word)
    return _join(words) if words else "something else"


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _syntax_help(
    text: str, expected: set[str], token: Token, previous: str | None, keyword: Token | None
) -> str:
    keywords = {name.lower() for name in expected if name.lower() in KEYWORDS}
    if token.type == "NAME" and keywords:
        return hints.keyword_help(text, token, keywords)
    if "LBRACE" in expected and token.type == "_NL":
        return "put the `{` that opens the block on the same line as its header"
    if expected == {"EQUAL"}:
        return hints.assignment_help(text, token, keyword)
    if previous == "," and token.type not in ("NAME", "STRING", "LONG_STRING"):
        return "remove the `,` that ends the list, or continue the list after it"
    if expected <= {"STRING", "LONG_STRING"}:
        return hints.quote_help(text, token, keyword)
    if expected == {"DURATION"}:
        return hints.duration_help(text, token)
    if expected == {"INT"}:
        return "write a whole number, such as `2`"
    if expected == {"NAME"}:
        return "a name starts with a letter or `_`, then letters, digits, `_` or `-`"
    one_value = hints.one_value_help(keyword)
    if token.type == "COMMA" and one_value is not None:
        return one_value
    if "_NL" in expected and token.type != "_NL":
        return "each statement goes on its own line; separate list items with `,`"
    if "COMMA" in expected:
        return "separate list items with `,`"
    return "compare with the examples in the language reference"
