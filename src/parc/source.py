"""Source text and spans.

A `Span` stores character offsets into a `Source`, starting at 0. Line and column
numbers are computed only when a message is shown, and they start at 1, as
compilers and editors print them.
"""

from __future__ import annotations

import bisect
from functools import cached_property
from pathlib import Path

import attrs


@attrs.frozen(order=True)
class Span:
    """A half-open range `[start, end)` of character offsets in one source."""

    start: int
    end: int

    def cover(self, other: Span) -> Span:
        """Return the smallest span that contains both spans."""
        return Span(min(self.start, other.start), max(self.end, other.end))


@attrs.frozen
class Position:
    """A line and a column, both starting at 1."""

    line: int
    column: int


def _without_byte_order_mark(text: str) -> str:
    """Drop a leading UTF-8 byte-order mark, which some editors write and nobody sees.

    Dropping it before anything else reads the text keeps every column
    right: the first character of the file is in column 1.
    """
    return text[1:] if text.startswith("\ufeff") else text


@attrs.frozen(eq=False)
class Source:
    """The text of one spec file, without a byte-order mark, and the name it is shown under."""

    name: str
    text: str = attrs.field(converter=_without_byte_order_mark)

    @classmethod
    def read(cls, path: Path, name: str | None = None) -> Source:
        """Read a spec file as UTF-8, keeping line endings as written.

        Raises:
            OSError: the file cannot be read.
            UnicodeDecodeError: the file is not UTF-8.
        """
        text = path.read_bytes().decode("utf-8")
        return cls(name if name is not None else str(path), text)

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        newline = self.text.find("\n")
        while newline != -1:
            starts.append(newline + 1)
            newline = self.text.find("\n", newline + 1)
        return starts

    def position(self, offset: int) -> Position:
        """Convert an offset to a line and column, both starting at 1."""
        offset = max(0, min(offset, len(self.text)))
        line_index = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line_index + 1, offset - self._line_starts[line_index] + 1)

    def line_text(self, line: int) -> str:
        """Return line number `line` (starting at 1) without its line ending."""
        starts = self._line_starts
        begin = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[begin:end].rstrip("\r\n")

    @property
    def line_count(self) -> int:
        return len(self._line_starts)
