"""Help lines for syntax errors, built from the statement being written.

A generic help such as "write it in double quotes" is most useful when it
shows the user's own line fixed: `let cc = gcc` gets ``let cc = "gcc"``.
These functions look at the keyword that starts the statement and at the
text around the error to build such a line, or to pick the keyword that
fits what follows a misspelt one.
"""

from __future__ import annotations

import difflib
import re

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from parc.grammar.syntax import KEYWORDS

UNITS = "the units are `ms`, `s`, `m` and `h`"

_UNIT_ALIASES = {
    "msec": "ms",
    "msecs": "ms",
    "millis": "ms",
    "millisecond": "ms",
    "milliseconds": "ms",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
}
"""Units that people write, and the unit of the language that they mean."""

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_WORD = re.compile(r"([ \t]*)([A-Za-z_][A-Za-z0-9_]*)")
_BLANKS = re.compile(r"[ \t]*")

_FOLLOWED_BY = {
    "string": ["run", "reads", "owns", "desc", "cwd"],
    "duration": ["timeout"],
    "integer": ["retries"],
    "assignment": ["let", "env", "pool"],
    "names": ["after", "default", "pool"],
    "header": ["track", "integrate"],
}
"""The keywords that each kind of following text fits, the likeliest first."""

_ONE_VALUE = {
    "run": "`run` takes one command; give each command its own `run` line",
    "desc": "`desc` takes one string; write the description as one string",
    "cwd": "`cwd` takes one directory",
    "timeout": "`timeout` takes one duration",
    "retries": "`retries` takes one number",
    "pool": "`pool` takes one value",
    "let": "`let` takes one string",
    "env": "`env` takes one string",
}

_STRING_EXAMPLES = {
    "reads": '"src/*.c"',
    "owns": '"build/**"',
    "run": '"make all"',
    "desc": '"builds the library"',
    "cwd": '"lib"',
}
"""An example string for each statement; `let` and `env` values get `"value"`."""

_WHOLE_NUMBERS = {
    "retries": "`retries` is a whole number of 0 or more, such as `2`",
    "pool": "a pool size is a whole number of 1 or more, such as `2`",
    "timeout": "a timeout is a duration above 0, such as `30s`",
}


def statement_keyword(error: UnexpectedToken | UnexpectedCharacters) -> Token | None:
    """Return the keyword of the statement or clause that the error is in, such as `run`.

    The parser's stack contains the tokens of the statement being read, after
    the trees of the statements before it; the last keyword among them is
    the one whose value the parser expects, such as `after` in a header.
    """
    parser = error.interactive_parser
    if parser is None:
        return None
    for value in reversed(parser.parser_state.value_stack):
        if is_newlines(value):
            continue
        if not isinstance(value, Token):
            if value.data.startswith("__"):
                return None  # the statements before this one
            continue
        if value.type in ("LBRACE", "RBRACE"):
            return None
        if value.type.lower() in KEYWORDS:
            return value
    return None


def is_newlines(value: object) -> bool:
    """Tell whether a value of the parser's stack is only line breaks.

    Line breaks that a rule repeats, such as those after a list's `,`,
    reach the stack as a tree of their own.
    """
    if isinstance(value, Token):
        return value.type == "_NL"
    if isinstance(value, Tree):
        return all(isinstance(child, Token) and child.type == "_NL" for child in value.children)
    return False


def keyword_help(text: str, token: Token, keywords: set[str]) -> str:
    """Suggest a keyword for the unknown word `token`, by its spelling and by what follows it."""
    word = str(token)
    close = difflib.get_close_matches(word, sorted(keywords), n=1, cutoff=0.6)
    follows = _what_follows(text, token.end_pos if token.end_pos is not None else len(text))
    fitting = [keyword for keyword in _FOLLOWED_BY.get(follows, []) if keyword in keywords]
    if close and (not fitting or close[0] in fitting):
        return f"did you mean `{close[0]}`?"
    if fitting:
        choices = [fitting[0], *close]
        return "did you mean " + " or ".join(f"`{choice}`" for choice in choices) + "?"
    return "a statement starts with one of the keywords listed"


def _what_follows(text: str, offset: int) -> str:
    """Classify the text after a statement's first word, as the key of `_FOLLOWED_BY`."""
    start = _BLANKS.match(text, offset)
    assert start is not None
    offset = start.end()
    char = text[offset : offset + 1]
    if char == '"':
        return "string"
    number = _NUMBER.match(text, offset)
    if number is not None:
        unit = _WORD.match(text, number.end())
        return "duration" if unit is not None and unit.group(1) == "" else "integer"
    word = _WORD.match(text, offset)
    if word is None:
        return ""
    after = _BLANKS.match(text, word.end())
    assert after is not None
    rest = text[after.end() :]
    if rest.startswith("="):
        return "assignment"
    if rest.startswith("{") or re.match(r"after\b", rest):
        return "header"
    if rest[:1] in (",", "\n", "\r", "#", "}", ""):
        return "names"
    return ""


def one_value_help(keyword: Token | None) -> str | None:
    """Return a help for a `,` after a statement that takes one value; None for a list."""
    if keyword is None:
        return None
    return _ONE_VALUE.get(str(keyword))


def name_example(word: str, keyword: Token | None) -> str:
    """Return a name that is not a keyword, for a keyword written where a name goes."""
    kind = str(keyword) if keyword is not None else ""
    if kind == "let":
        return f"{word}-value"
    if kind == "env":
        return word.upper()  # environment variables are usually upper case
    if kind == "pool":
        return f"{word}-pool"
    return f"{word}-step"


def quote_help(text: str, token: Token, keyword: Token | None) -> str:
    """Return a help that shows the statement with its value in double quotes."""
    if keyword is None or keyword.start_pos is None or token.start_pos is None:
        return 'write it in double quotes, such as `"src/*.c"`'
    prefix = _prefix(text, keyword, token.start_pos)
    if token.type not in ("_NL", "$END"):
        rest = _rest_of_line(text, token.start_pos)
        if rest and '"' not in rest and "\\" not in rest:
            return f'write it in double quotes: `{prefix} "{rest}"`'
    example = _STRING_EXAMPLES.get(str(keyword), '"value"')
    return f"write it in double quotes, such as `{prefix} {example}`"


def assignment_help(text: str, token: Token, keyword: Token | None) -> str:
    """Return a help that shows the statement with the `=` that it lacks."""
    if keyword is None or keyword.start_pos is None or token.start_pos is None:
        return 'write `NAME = VALUE`, such as `let cc = "gcc"`'
    prefix = _prefix(text, keyword, token.start_pos)
    value = "1" if str(keyword) == "pool" else '"value"'
    if token.type in ("STRING", "LONG_STRING", "INT"):
        rest = _rest_of_line(text, token.start_pos)
        if "\n" not in rest:
            value = rest
    return f"write `{prefix} = {value}`"


def duration_help(text: str, token: Token) -> str:
    """Return a help on durations, for a number without a unit or with a wrong one."""
    if token.type != "INT" or token.start_pos is None:
        return "write a number with a unit: `500ms`, `30s`, `2m` or `1h`"
    number = _NUMBER.match(text, token.start_pos)
    assert number is not None
    digits = number.group()
    unit = _WORD.match(text, number.end())
    if unit is None:
        return f"add a unit: `{digits}ms`, `{digits}s`, `{digits}m` or `{digits}h`"
    spaced, word = unit.groups()
    if word.lower() in ("d", "day", "days"):
        return f"{UNITS}: write `{float(digits) * 24:g}h`"
    meant = _UNIT_ALIASES.get(word.lower(), word if word in ("ms", "s", "m", "h") else None)
    if meant is None:
        return f"`{word}` is not a unit; {UNITS}"
    if spaced:
        return f"write the unit right after the number: `{digits}{meant}`"
    return f"{UNITS}: write `{digits}{meant}`"


def written_duration_end(text: str, token: Token) -> int | None:
    """Return where a number with a wrong unit, such as `90min` or `1.5`, ends; None without one.

    The lexer splits such text into an integer and more tokens, so the
    error would otherwise underline only the digits before the unit.
    """
    if token.type != "INT" or token.start_pos is None:
        return None
    number = _NUMBER.match(text, token.start_pos)
    assert number is not None
    unit = _WORD.match(text, number.end())
    if unit is not None and unit.group(1) == "":
        return unit.end()
    if number.end() > (token.end_pos or 0):
        return number.end()
    return None


def number_help(keyword: Token | None) -> str | None:
    """Return which numbers a statement takes, for a `-` or `.` in its number."""
    if keyword is None:
        return None
    return _WHOLE_NUMBERS.get(str(keyword))


def _prefix(text: str, keyword: Token, end: int) -> str:
    """Return the statement as written from its keyword up to `end`, on one line."""
    assert keyword.start_pos is not None
    prefix = text[keyword.start_pos : end].rstrip()
    if "\n" in prefix:
        # A list that goes on over lines: show only its last line.
        prefix = str(keyword) + " " + prefix.rsplit("\n", 1)[1].strip()
    return prefix.rstrip()


def _rest_of_line(text: str, start: int) -> str:
    """Return the text from `start` to the end of its line, without a comment or a `}`."""
    end = text.find("\n", start)
    line = text[start : end if end != -1 else len(text)]
    line = re.split(r"[ \t]#", line, maxsplit=1)[0].rstrip()
    if line.endswith("}"):
        line = line[:-1].rstrip()  # the end of a block written on one line
    return line
