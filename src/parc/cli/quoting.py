"""Shell quoting of paths for output, as `ls --quoting-style=shell-escape` does.

A path that a POSIX shell reads as one word, unchanged, prints as it is.
Any other path is quoted so that pasting it into bash, zsh or ksh gives back
the exact name:

- with single quotes, and a `'` inside written as `'\\''`;
- with double quotes instead when the path contains a `'` and no character
  that is special inside double quotes (`"`, `$`, a backquote, `\\`, `!`);
- a character that cannot be printed, such as a newline or a byte that is
  not UTF-8, as an ANSI-C `$'...'` escape between the quoted parts, such as
  `'new'$'\\n''line'`.

The rules follow GNU coreutils 9.1 `ls`, and a test compares them with the
`ls` installed here. The differences:

- a path that starts with `-` gets a leading `./`, so that a command does
  not take it for an option;
- Python's `str.isprintable` decides which characters print, where `ls` uses
  the C library's rules for the locale, so U+00A0 or a zero-width space is
  escaped here;
- for a path with a `'` that ends in an escaped character, `ls` 9.1 adds an
  empty `''` after the opening quote, or drops the `$'` that the first
  escape needs when the path starts with one, which bash then reads wrong.
"""

from __future__ import annotations

import os

_SPECIAL = frozenset("\t\n !\"$&'()*;<=>?[\\^`|")
"""Characters that a shell reads specially anywhere in a word."""

_SPECIAL_FIRST = frozenset("#~")
"""Characters that a shell reads specially at the start of a word only."""

_BRACES = frozenset("{}")
"""Characters that some shells read specially as a whole word."""

_NOT_IN_DOUBLE_QUOTES = frozenset('!"$&()*;<=>?[\\^`|{}#~')
"""Characters for which `ls` keeps single quotes even when the path has a `'`."""

_C_ESCAPES = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v"}


def shell_quoted(path: str) -> str:
    """Return `path` as a shell word that a user can paste.

    Undecodable bytes in `path` are the surrogates of `os.fsdecode`.
    """
    if path.startswith("-"):
        path = "./" + path
    if not path:
        return "''"
    if not any(_needs_quotes(path, index) for index in range(len(path))):
        return path
    if "'" in path and all(_fits_double_quotes(path, index) for index in range(len(path))):
        return f'"{path}"'
    return _single_quoted(path)


def _needs_quotes(path: str, index: int) -> bool:
    char = path[index]
    if char in _SPECIAL or not _is_printable(char):
        return True
    if char in _SPECIAL_FIRST:
        return index == 0
    return char in _BRACES and len(path) == 1


def _fits_double_quotes(path: str, index: int) -> bool:
    char = path[index]
    if not _is_printable(char):
        return False
    if char in _SPECIAL_FIRST and index == 0:
        return True
    if char in _BRACES and len(path) == 1:
        return True
    return char not in _NOT_IN_DOUBLE_QUOTES


def _single_quoted(path: str) -> str:
    """Quote with single quotes, and escape a run of unprintable characters with `$'...'`."""
    parts = ["'"]
    in_escape = False
    for char in path:
        if char == "'":
            # Close the quote, add an escaped quote, and open a new quote.
            parts.append("'\\''")
            in_escape = False
        elif _is_printable(char):
            if in_escape:
                parts.append("''")  # closes `$'...'` and opens a plain quote
                in_escape = False
            parts.append(char)
        else:
            if not in_escape:
                parts.append("'$'")  # closes the plain quote and opens `$'...'`
                in_escape = True
            parts.append(_escaped(char))
    parts.append("'")
    return "".join(parts)


def _escaped(char: str) -> str:
    if char in _C_ESCAPES:
        return "\\" + _C_ESCAPES[char]
    return "".join(f"\\{byte:03o}" for byte in os.fsencode(char))


def _is_printable(char: str) -> bool:
    # `isprintable` is False for the surrogates that stand for undecodable bytes.
    return char.isprintable()
