"""Decoding of string literals: escapes, `{{name}}` interpolation, dedenting.

Decoding works on (character, source offset) pairs, so every interpolation
and every bad escape keeps the exact place in the file it came from, even in
a dedented `\"\"\"` string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from parc.diagnostics import Code, Codes
from parc.grammar.syntax import Escape, Interpolation, String, StringPart, Text
from parc.source import Span

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
# A backslash with a character after it, or the start of `{{`. Dedenting can
# leave a backslash at the very end of a long string; it stays literal.
_SPECIAL = re.compile(r"\\(?=[\s\S])|\{\{")
_INTERPOLATION = re.compile(r"\{\{[ \t]*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\}\}")


@attrs.frozen
class StringProblem:
    code: Code
    message: str
    span: Span
    help: str


def decode_string(raw: str, offset: int) -> tuple[String, list[StringProblem]]:
    """Decode the literal `raw`, which starts at `offset` in its source.

    Returns the string and the problems found in it; a bad escape or an
    invalid interpolation is kept as literal text.
    """
    long = raw.startswith('"""')
    span = Span(offset, offset + len(raw))
    if not long and "\\" not in raw and "{{" not in raw:
        # Most strings are plain text: no escape, no interpolation.
        return String((Text(raw[1:-1]),) if len(raw) > 2 else (), span), []
    # `offsets[i]` is the source offset of character i of `text`. Dedenting
    # removes characters, so a long string needs a table.
    offsets: Sequence[int]
    if long:
        pairs = _dedent(_with_offsets(raw[3:-3], offset + 3))
        text = "".join(char for char, _ in pairs)
        offsets = [char_offset for _, char_offset in pairs]
    else:
        text = raw[1:-1]
        offsets = range(offset + 1, offset + 1 + len(text))
    located = offsets.__getitem__

    problems: list[StringProblem] = []
    parts: list[StringPart] = []
    literal: list[str] = []
    # The `\n` and `\t` escapes of the text in `literal`, and that text's length.
    escapes: list[Escape] = []
    length = 0
    index = 0
    while True:
        found = _SPECIAL.search(text, index)
        if found is None:
            literal.append(text[index:])
            break
        literal.append(text[index : found.start()])
        length += found.start() - index
        index = found.start()

        if text[index] == "\\":
            escaped = text[index + 1]
            if escaped in _ESCAPES:
                if escaped in "nt":
                    escapes.append(Escape(length, Span(located(index), located(index + 1) + 1)))
                literal.append(_ESCAPES[escaped])
                length += 1
            else:
                problems.append(
                    StringProblem(
                        Codes.UNKNOWN_ESCAPE,
                        f"unknown escape sequence `\\{escaped}`",
                        Span(located(index), located(index + 1) + 1),
                        'the escapes are `\\"`, `\\\\`, `\\n` and `\\t`; '
                        "write `\\\\` for a backslash",
                    )
                )
                literal.append("\\" + escaped)
                length += 2
            index += 2
            continue

        if text.startswith("{{{{", index):
            literal.append("{{")
            length += 2
            index += 4
            continue
        match = _INTERPOLATION.match(text, index)
        if match is None:
            problems.append(
                StringProblem(
                    Codes.INVALID_INTERPOLATION,
                    "`{{` must be followed by a variable name and `}}`",
                    Span(located(index), located(index) + 2),
                    "write `{{name}}` to insert a variable, or `{{{{` for a literal `{{`",
                )
            )
            literal.append("{{")
            length += 2
            index += 2
            continue
        if any(literal):
            parts.append(Text("".join(literal), tuple(escapes) if escapes else ()))
        literal = []
        escapes = []
        length = 0
        end_offset = located(match.end() - 1) + 1
        parts.append(Interpolation(match.group(1), Span(located(index), end_offset)))
        index = match.end()

    if any(literal):
        parts.append(Text("".join(literal), tuple(escapes) if escapes else ()))
    return String(tuple(parts), span, long=long), problems


def _with_offsets(text: str, start: int) -> list[tuple[str, int]]:
    return [(char, start + index) for index, char in enumerate(text)]


def _dedent(chars: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Apply the layout rules of `\"\"\"` strings.

    A newline right after the opening quotes is dropped, a last line that holds
    only whitespace (the line of the closing quotes) is dropped with the newline
    before it, and the indentation common to all non-blank lines is removed.
    """
    lines: list[list[tuple[str, int]]] = [[]]
    for pair in chars:
        lines[-1].append(pair)
        if pair[0] == "\n":
            lines.append([])

    if len(lines) > 1 and _is_blank(lines[0]):
        lines.pop(0)
    if len(lines) > 1 and _is_blank(lines[-1]):
        lines.pop()
        lines[-1] = _strip_newline(lines[-1])

    indents = [_indent(line) for line in lines if not _is_blank(line)]
    common = common_prefix(indents)
    result: list[tuple[str, int]] = []
    for line in lines:
        if _is_blank(line):
            result.extend(pair for pair in line if pair[0] in "\r\n")
        else:
            result.extend(line[len(common) :])
    return result


def _is_blank(line: list[tuple[str, int]]) -> bool:
    return all(char in " \t\r\n" for char, _ in line)


def _strip_newline(line: list[tuple[str, int]]) -> list[tuple[str, int]]:
    while line and line[-1][0] in "\r\n":
        line = line[:-1]
    return line


def _indent(line: list[tuple[str, int]]) -> str:
    chars = []
    for char, _ in line:
        if char not in " \t":
            break
        chars.append(char)
    return "".join(chars)


def common_prefix(indents: list[str]) -> str:
    """Return the longest text that starts every indentation, compared character by character."""
    if not indents:
        return ""
    prefix = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(prefix):
            prefix = prefix[:-1]
    return prefix
