"""Where a shell command has text in single quotes, as `/bin/sh -c` reads it.

parc turns `\\n` and `\\t` in every string into a newline and a tab. In a
command such as `sed 's/,/\\n/'` the user usually meant the two characters
for the program, which single quotes would pass on unchanged. To warn about
that, and only about that, the compiler needs the ranges of the command
that are inside plain single quotes.

The scanner follows the quoting rules of POSIX sh:

- a backslash outside quotes escapes the next character;
- single quotes end at the next `'`;
- double quotes end at the next unescaped `"`, and a `'` in them is an
  ordinary character;
- `$(...)`, `${...}` and backquotes start a new context, inside double
  quotes too;
- `#` at the start of a word starts a comment;
- the body of a here-document is text in which quotes mean nothing.

`$'...'`, which bash, zsh and newer shells read with backslash escapes, is
not a plain single-quoted range, because there a real newline and `\\n`
mean the same.
"""

from __future__ import annotations

import re

_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([A-Za-z0-9_.-]+))")
_WORD_BREAKS = frozenset(" \t\n;&|()<>")

# The contexts of the scanner: a command (the top level, or `$( )`), a
# backquoted command, double quotes, and a `${ }` expansion.
_COMMAND = "command"
_BACKQUOTE = "backquote"
_DOUBLE = "double"
_BRACE = "brace"


def single_quoted(command: str) -> list[tuple[int, int]]:
    """Return the ranges `[start, end)` of `command` that are inside plain single quotes.

    An unterminated single quote runs to the end of the command, as far as
    its text is concerned; the shell itself rejects the command.
    NOTE: `)` closes `$(` even where it ends a pattern of `case` inside it.
    """
    ranges: list[tuple[int, int]] = []
    # Each open context, and for `$( )` the number of `(` open inside it.
    stack: list[list[object]] = [[_COMMAND, 0]]
    heredocs: list[tuple[str, bool]] = []
    word_start = True
    index = 0
    length = len(command)
    while index < length:
        char = command[index]
        context = stack[-1][0]

        if context == _DOUBLE:
            if char == "\\":
                index += 2
            elif char == '"':
                stack.pop()
                index += 1
            elif command.startswith("$(", index):
                stack.append([_COMMAND, 0])
                index += 2
            elif command.startswith("${", index):
                stack.append([_BRACE, 0])
                index += 2
            elif char == "`":
                stack.append([_BACKQUOTE, 0])
                index += 1
            else:
                index += 1
            continue

        at_word_start = word_start
        word_start = char in _WORD_BREAKS
        if char == "\\":
            index += 2
        elif char == "'":
            end = command.find("'", index + 1)
            end = length if end == -1 else end
            ranges.append((index + 1, end))
            index = end + 1
        elif command.startswith("$'", index):
            index = _skip_ansi_c(command, index + 2)
        elif char == '"':
            stack.append([_DOUBLE, 0])
            index += 1
        elif command.startswith("$(", index):
            stack.append([_COMMAND, 0])
            word_start = True
            index += 2
        elif command.startswith("${", index):
            stack.append([_BRACE, 0])
            index += 2
        elif char == "`":
            if context == _BACKQUOTE:
                stack.pop()
            else:
                stack.append([_BACKQUOTE, 0])
                word_start = True
            index += 1
        elif char == "}" and context == _BRACE:
            stack.pop()
            index += 1
        elif char in "()" and context == _COMMAND and len(stack) > 1:
            index += 1
            depth = stack[-1][1]
            assert isinstance(depth, int)
            if char == "(":
                stack[-1][1] = depth + 1
            elif depth:
                stack[-1][1] = depth - 1
            else:
                stack.pop()  # the `)` of `$(`
        elif char == "#" and at_word_start:
            newline = command.find("\n", index)
            index = length if newline == -1 else newline
        elif char == "<" and command.startswith("<<", index) and context != _BRACE:
            index = _read_heredoc(command, index, heredocs)
        elif char == "\n" and heredocs:
            index = _skip_heredoc_bodies(command, index + 1, heredocs)
            heredocs.clear()
        else:
            index += 1
    return ranges


def _skip_ansi_c(command: str, index: int) -> int:
    """Return the index after the `'` that closes a `$'...'` string starting at `index`."""
    while index < len(command) and command[index] != "'":
        index += 2 if command[index] == "\\" else 1
    return index + 1


def _read_heredoc(command: str, index: int, heredocs: list[tuple[str, bool]]) -> int:
    """Note a here-document's delimiter; return the index after the `<<` operator and it."""
    if command.startswith("<<<", index):
        return index + 3  # a here-string of bash, not a here-document
    match = _HEREDOC.match(command, index)
    if match is None:
        return index + 2
    delimiter = next(group for group in match.groups()[1:] if group is not None)
    heredocs.append((delimiter, match.group(1) == "-"))
    return match.end()


def _skip_heredoc_bodies(command: str, index: int, heredocs: list[tuple[str, bool]]) -> int:
    """Return the index after the bodies of the pending here-documents, which start at `index`.

    Each body ends with a line that is its delimiter; `<<-` strips leading
    tabs from that line first.
    """
    for delimiter, strip_tabs in heredocs:
        while index < len(command):
            newline = command.find("\n", index)
            end = len(command) if newline == -1 else newline
            line = command[index:end]
            index = end + 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
    return min(index, len(command))
