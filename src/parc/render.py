"""The caret renderer: the only way users see a diagnostic.

Layout, for an error with one secondary label (a label on the line just
shown goes right under that line's marks):

    build.par:12:7: error[E0202]: step `core` is defined twice
       |
    12 | track core {
       |       ^^^^ defined again here
       |
     3 | track core {
       |       ---- first defined here
       |
       = help: rename one of the two steps
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TextIO

from parc.diagnostics import Diagnostic, Severity
from parc.source import Source, Span

TAB_WIDTH = 4

_RESET = "\x1b[0m"
_STYLES = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "primary": "\x1b[1;31m",
    "secondary": "\x1b[1;34m",
    "gutter": "\x1b[1;34m",
    "bold": "\x1b[1m",
    "help": "\x1b[1;36m",
}


def use_color(stream: TextIO) -> bool:
    """Decide whether to colour output to `stream`: only a terminal, never with NO_COLOR."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        if not self.color or not text:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


def render(diagnostic: Diagnostic, color: bool = False) -> str:
    """Render one diagnostic as text ending in a newline."""
    paint = _Painter(color)
    severity = diagnostic.severity.value
    style = "error" if diagnostic.severity is Severity.ERROR else "warning"
    title = paint(style, f"{severity}[{diagnostic.code.id}]") + paint(
        "bold", f": {diagnostic.message}"
    )

    if diagnostic.source is None or diagnostic.span is None:
        lines = [f"parc: {title}"]
        if diagnostic.help:
            lines.append(f"  = {paint('help', 'help')}: {diagnostic.help}")
        return "\n".join(lines) + "\n"

    source = diagnostic.source
    start = source.position(diagnostic.span.start)
    lines = [f"{source.name}:{start.line}:{start.column}: {title}"]

    snippets = [(source, diagnostic.span, diagnostic.primary_label, True)]
    snippets += [(label.source, label.span, label.message, False) for label in diagnostic.labels]
    width = max(len(str(src.position(span.start).line)) for src, span, _, _ in snippets)
    gutter = paint("gutter", " " * width + " |")

    shown: tuple[Source, int] | None = None  # the source line shown last
    for index, (snippet_source, span, text, primary) in enumerate(snippets):
        line = snippet_source.position(span.start).line
        snippet = _snippet(snippet_source, span, text, primary, width, paint)
        if shown is not None and shown[0] is snippet_source and shown[1] == line:
            # Another mark on the line just shown goes right under it.
            lines.append(snippet[1])
        else:
            if snippet_source is not source:
                where = snippet_source.position(span.start)
                lines.append(
                    paint("gutter", " " * width + "::: ")
                    + f"{snippet_source.name}:{where.line}:{where.column}"
                )
            lines.append(gutter)
            lines.extend(snippet)
        shown = (snippet_source, line)
        if index == len(snippets) - 1 and diagnostic.help:
            lines.append(gutter)

    if diagnostic.help:
        lines.append(" " * width + f" = {paint('help', 'help')}: {diagnostic.help}")
    return "\n".join(lines) + "\n"


def _snippet(
    source: Source, span: Span, text: str, primary: bool, width: int, paint: _Painter
) -> list[str]:
    """Render one source line with a caret or dash underline below the span."""
    position = source.position(span.start)
    raw_line = source.line_text(position.line)
    column_index = position.column - 1

    # Expand tabs in the part before the span and in the span itself, so the
    # underline lands under the same characters a terminal shows.
    before = raw_line[:column_index].expandtabs(TAB_WIDTH)
    line_end = len(raw_line)
    span_end = min(span.end, span.start + (line_end - column_index))
    # A tab's width depends on its column, so expand the line up to the
    # span's end rather than the span on its own.
    through_span = raw_line[: column_index + max(0, span_end - span.start)]
    underline_width = max(1, len(through_span.expandtabs(TAB_WIDTH)) - len(before))

    marker = ("^" if primary else "-") * underline_width
    underline = " " * len(before) + paint("primary" if primary else "secondary", marker)
    if text:
        underline += " " + paint("primary" if primary else "secondary", text)
    number = str(position.line).rjust(width)
    return [
        paint("gutter", f"{number} |") + (" " + raw_line.expandtabs(TAB_WIDTH) if raw_line else ""),
        paint("gutter", " " * width + " |") + " " + underline,
    ]


def render_all(diagnostics: Iterable[Diagnostic], color: bool = False) -> str:
    """Render diagnostics separated by blank lines."""
    return "\n".join(render(diagnostic, color) for diagnostic in diagnostics)
