"""The canonical layout of `.par` files, for `parc fmt`.

The formatter works on the syntax tree and the comments the parser keeps,
and copies every name, duration and string literal as written, but for the
indentation of a `\"\"\"` string's lines, so formatting cannot change what
a spec means. What it decides:

- one statement per line, and a block's body indented by four spaces;
- a block's `{` on its header line, and its `}` on a line of its own;
- single spaces around `=` and after `,`; a list longer than the line limit,
  holding a multi-line string, or with a comment between its items, puts
  each item after the first on a line of its own, indented four spaces
  more. A step header's `after` list is wrapped the same way, with the `{`
  after its last name;
- a comment between two list items stays with the item it follows: at the
  end of that item's line when it was written there, or else on a line of
  its own before the next item, at that item's indentation;
- a blank line between a block and the statement next to it; elsewhere a
  run of blank lines becomes one, and none opens or closes a block;
- a comment on the line of the code before it stays at that line's end;
  any other comment goes on a line of its own, before the code that follows
  it, at that code's indentation;
- the lines of a `\"\"\"` string that starts with a line break move with
  its statement: the body four spaces deeper than the statement's line, and
  the closing quotes, when alone on their line, at that line's indentation.
  A `\"\"\"` string loses the indentation common to its lines, so moving
  them all alike keeps its value.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

import attrs

from parc.grammar import syntax as s
from parc.grammar.strings import common_prefix
from parc.source import Source

INDENT = "    "
MAX_LINE = 100


@attrs.define
class _Unit:
    """A piece of output (one or more lines) and the source range it came from."""

    start: int
    end: int
    lines: list[str]
    depth: int
    opens_block: bool = False
    closes_block: bool = False
    is_block: bool = False
    trailing: list[str] = attrs.Factory(list)


def format_document(document: s.Document) -> str:
    """Return the canonical text of a parsed spec, ending in one newline (or empty)."""
    source = document.source
    comments = _Comments(document.comments)
    units: list[_Unit] = []
    for statement in document.statements:
        if isinstance(statement, s.Step):
            units.extend(_step_units(source, statement, comments))
        else:
            lines = _top_lines(source, statement, comments)
            units.append(_Unit(statement.span.start, statement.span.end, lines, 0))
    return _Layout(source, units, comments.remaining()).render()


class _Comments:
    """The comments of a document, from which lists take the ones between their items."""

    def __init__(self, comments: Sequence[s.Comment]) -> None:
        self._comments = sorted(comments, key=lambda comment: comment.span.start)
        self._starts = [comment.span.start for comment in self._comments]
        self._taken: set[int] = set()

    def take(self, start: int, end: int) -> list[s.Comment]:
        """Return the comments that start in [start, end), which the layout then skips."""
        low = bisect.bisect_left(self._starts, start)
        high = bisect.bisect_left(self._starts, end)
        self._taken.update(range(low, high))
        return self._comments[low:high]

    def remaining(self) -> tuple[s.Comment, ...]:
        return tuple(
            comment for index, comment in enumerate(self._comments) if index not in self._taken
        )


def _raw(source: Source, node: s.String | s.Name | s.Duration) -> str:
    return source.text[node.span.start : node.span.end]


def _string(source: Source, string: s.String, indent: str) -> str:
    """Return a string literal for a line that starts with `indent`, moving a long string's lines.

    Only a `\"\"\"` string whose first line is blank moves: otherwise the
    text after the opening quotes counts for the common indentation, and
    moving the other lines would change the value. Blank lines lose their
    spaces and tabs, which the value never contains.
    """
    raw = _raw(source, string)
    if not string.long or "\n" not in raw:
        return raw
    first, *rest = raw[3:-3].split("\n")
    if not _is_blank(first):
        return raw
    closing_alone = _is_blank(rest[-1])
    content = rest[:-1] if closing_alone else rest
    written = [line for line in content if not _is_blank(line)]
    common = common_prefix([line[: len(line) - len(line.lstrip(" \t"))] for line in written])
    lines = [""]
    for line in content:
        if _is_blank(line):
            lines.append(line.lstrip(" \t"))  # keeps the `\r` of a CRLF line
        else:
            lines.append(indent + INDENT + line[len(common) :])
    if closing_alone:
        lines.append(indent)
    return '"""' + "\n".join(lines) + '"""'


def _is_blank(line: str) -> bool:
    return not line.strip(" \t\r")


def _list(
    source: Source,
    head: str,
    items: Sequence[s.String | s.Name],
    depth: int,
    comments: _Comments,
    tail: str = "",
) -> list[str]:
    """Lay out `head`, comma-separated items and `tail`, on one line if they fit.

    Items are names, or strings, which may span lines. A comment between two
    items keeps its place after the first of them, so the list then takes a
    line per item.
    """
    indent = INDENT * depth
    between = comments.take(items[0].span.end, items[-1].span.start)
    written = [_item_text(source, item, indent) for item in items]
    one_line = indent + head + ", ".join(written) + tail
    if len(one_line) <= MAX_LINE and not between and not any("\n" in text for text in written):
        return [one_line]

    lines = (indent + head + written[0]).split("\n")
    continued = indent + INDENT
    for previous, item in itertools.pairwise(items):
        lines[-1] += ","
        previous_line = source.position(previous.span.end - 1).line
        for comment in between:
            if not previous.span.end <= comment.span.start < item.span.start:
                continue
            text = comment.text.rstrip()
            if source.position(comment.span.start).line == previous_line:
                lines[-1] += "  " + text
            else:
                lines.append(continued + text)
        lines.extend((continued + _item_text(source, item, continued)).split("\n"))
    lines[-1] += tail
    return lines


def _item_text(source: Source, item: s.String | s.Name, line_indent: str) -> str:
    if isinstance(item, s.Name):
        return item.text
    return _string(source, item, line_indent)


def _top_lines(source: Source, statement: s.TopStatement, comments: _Comments) -> list[str]:
    if isinstance(statement, s.Let):
        return f"let {statement.name.text} = {_string(source, statement.value, '')}".split("\n")
    if isinstance(statement, s.Env):
        return _env_lines(source, statement, 0)
    if isinstance(statement, s.PoolDef):
        return [f"pool {statement.name.text} = {statement.size.value}"]
    assert isinstance(statement, s.Default)
    return _list(source, "default ", statement.names, 0, comments)


def _env_lines(source: Source, statement: s.Env, depth: int) -> list[str]:
    indent = INDENT * depth
    text = f"{indent}env {statement.name.text} = {_string(source, statement.value, indent)}"
    return text.split("\n")


def _step_units(source: Source, step: s.Step, comments: _Comments) -> list[_Unit]:
    header = f"{step.kind} {step.name.text}"
    if step.header_after is None:
        header_lines = [header + " {"]
    else:
        names = step.header_after.names
        header_lines = _list(source, header + " after ", names, 0, comments, tail=" {")
    brace = _opening_brace(source, step)
    units = [_Unit(step.span.start, brace + 1, header_lines, 0, opens_block=True, is_block=True)]
    for statement in step.body:
        lines = _body_lines(source, statement, comments)
        units.append(_Unit(statement.span.start, statement.span.end, lines, 1))
    units.append(
        _Unit(step.span.end - 1, step.span.end, ["}"], 0, closes_block=True, is_block=True)
    )
    return units


def _opening_brace(source: Source, step: s.Step) -> int:
    """Return the offset of the `{` that opens the step's body, skipping comments."""
    last = step.header_after.span.end if step.header_after is not None else step.name.span.end
    index = last
    text = source.text
    while text[index] != "{":
        if text[index] == "#":
            index = text.index("\n", index)
        index += 1
    return index


def _body_lines(source: Source, statement: s.BodyStatement, comments: _Comments) -> list[str]:
    indent = INDENT
    if isinstance(statement, s.Desc):
        return f"{indent}desc {_string(source, statement.value, indent)}".split("\n")
    if isinstance(statement, s.After):
        return _list(source, "after ", statement.names, 1, comments)
    if isinstance(statement, s.Reads):
        return _list(source, "reads ", statement.globs, 1, comments)
    if isinstance(statement, s.Owns):
        return _list(source, "owns ", statement.globs, 1, comments)
    if isinstance(statement, s.Run):
        return f"{indent}run {_string(source, statement.command, indent)}".split("\n")
    if isinstance(statement, s.Env):
        return _env_lines(source, statement, 1)
    if isinstance(statement, s.Cwd):
        return f"{indent}cwd {_string(source, statement.path, indent)}".split("\n")
    if isinstance(statement, s.Timeout):
        return [f"{indent}timeout {_raw(source, statement.duration)}"]
    if isinstance(statement, s.Retries):
        return [f"{indent}retries {statement.count.value}"]
    assert isinstance(statement, s.PoolRef)
    return [f"{indent}pool {statement.name.text}"]


class _Layout:
    """Places comments and blank lines around the units, then joins the lines."""

    def __init__(self, source: Source, units: list[_Unit], comments: tuple[s.Comment, ...]) -> None:
        self.source = source
        self.units = units
        self.leading: dict[int, list[s.Comment]] = {}
        self.closing: list[s.Comment] = []
        for comment in comments:
            self._place(comment)

    def _place(self, comment: s.Comment) -> None:
        line = self.source.position(comment.span.start).line
        # A comment after code on the same line trails the last unit that
        # ends on that line before it.
        trailing_owner = None
        for unit in self.units:
            if unit.end <= comment.span.start and self._end_line(unit) == line:
                trailing_owner = unit
        if trailing_owner is not None:
            trailing_owner.trailing.append(comment.text.rstrip())
            return
        for index, unit in enumerate(self.units):
            if unit.end > comment.span.start:
                self.leading.setdefault(index, []).append(comment)
                return
        self.closing.append(comment)

    def _end_line(self, unit: _Unit) -> int:
        return self.source.position(unit.end - 1).line

    def _blank_before(self, offset: int, previous_end: int) -> bool:
        """Tell whether the source has a blank line between `previous_end` and `offset`."""
        between = self.source.text[previous_end:offset]
        lines = between.split("\n")[1:-1]
        return any(not line.strip() for line in lines)

    def render(self) -> str:
        out: list[str] = []
        previous: _Unit | None = None
        for index, unit in enumerate(self.units):
            comments = self.leading.get(index, [])
            first_offset = comments[0].span.start if comments else unit.start
            if out and self._wants_blank(previous, unit, first_offset):
                out.append("")
            # Comments before a `}` belong to the block's body.
            indent = INDENT if unit.closes_block else INDENT * unit.depth
            self._emit_comments(out, comments, indent)
            gap_after_comments = bool(comments) and not unit.closes_block
            if gap_after_comments and self._blank_before(unit.start, comments[-1].span.end):
                out.append("")
            lines = list(unit.lines)
            if unit.trailing:
                lines[-1] += "  " + "  ".join(unit.trailing)
            out.extend(lines)
            previous = unit

        if self.closing:
            if previous is not None and self._blank_before(
                self.closing[0].span.start, previous.end
            ):
                out.append("")
            self._emit_comments(out, self.closing, "")
        return "\n".join(out) + "\n" if out else ""

    def _emit_comments(self, out: list[str], comments: list[s.Comment], indent: str) -> None:
        for position, comment in enumerate(comments):
            if position and self._blank_before(comment.span.start, comments[position - 1].span.end):
                out.append("")
            out.append(indent + comment.text.rstrip())

    def _wants_blank(self, previous: _Unit | None, unit: _Unit, offset: int) -> bool:
        """Tell whether a blank line goes before `unit` and the comments that lead it."""
        if previous is None or previous.opens_block:
            return False
        if unit.closes_block and offset >= unit.start:
            return False
        top_level = unit.depth == 0 and previous.depth == 0 and not unit.closes_block
        if top_level and (previous.closes_block or unit.opens_block):
            return True  # a blank line always separates a block from its neighbours
        return self._blank_before(offset, previous.end)
