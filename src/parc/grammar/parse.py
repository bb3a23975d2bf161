"""`parse()`: source text to a syntax tree, with Lark's errors made readable.

No Lark exception leaves this module. Syntax errors become diagnostics that say
in words what was expected. After an error the parser blanks the offending
lines and parses again, so one run reports several independent mistakes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
import threading
from importlib import resources
from pathlib import Path

import attrs
import lark
from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from parc.diagnostics import Codes, CompileError, Diagnostic
from parc.grammar.descent import parse_valid
from parc.grammar.messages import describe
from parc.grammar.syntax import Comment, Document
from parc.grammar.transform import ToSyntax
from parc.source import Source, Span

MAX_SYNTAX_ERRORS = 20


class _CommentCollector:
    """Receives the comments that the lexer skips, for the formatter."""

    def __init__(self) -> None:
        self.sink: list[Token] = []

    def __call__(self, token: Token) -> Token:
        self.sink.append(token)
        return token


_collector = _CommentCollector()
_lock = threading.Lock()


@functools.cache
def load_parser() -> Lark:
    """Build the LALR parser once per process, from the cache file when there is one.

    Building the tables takes 25-35 ms, loading them from the cache 2-3 ms.
    The cache file's name is a digest of the grammar and of the Lark and
    Python versions, so a changed grammar gets a new file. Lark also keeps a
    digest inside the file, and builds the tables again when the file does
    not match or cannot be read: one that another parc is still writing,
    for one. Without a writable cache directory, parc builds the tables
    every time.
    """
    grammar = resources.files("parc.grammar").joinpath("par.lark").read_text(encoding="utf-8")
    path = _parser_cache_path(grammar)
    return Lark(
        grammar,
        parser="lalr",
        lexer="basic",
        propagate_positions=False,
        keep_all_tokens=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _collector},
        cache=str(path) if path is not None else False,
    )


def _parser_cache_path(grammar: str) -> Path | None:
    """Return the cache file for `grammar`, or None when no cache directory can be made."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    key = "\0".join([grammar, lark.__version__, sys.version])
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    directory = Path(base) / "parc"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # The file is a pickle: load it only from a directory no one else owns.
        if directory.stat().st_uid != os.getuid():
            return None
    except OSError:
        return None
    return directory / f"grammar-{digest}.lark"


@attrs.frozen
class Parsed:
    """A parsed spec, with its syntax errors and what the parser skipped to get past them.

    `document` is None when the parser stopped before the end of the text.
    Otherwise it contains every statement outside `damaged`: the spans of
    text that the parser left out, or read in a guessed form, to go on
    after an error. Without errors, `damaged` is empty too.
    """

    document: Document | None
    diagnostics: tuple[Diagnostic, ...] = ()
    damaged: tuple[Span, ...] = ()


def parse(source: Source) -> Document:
    """Parse a spec into a `Document`.

    Raises:
        CompileError: the text has syntax errors; each is reported once.
    """
    parsed = parse_with_recovery(source)
    if parsed.diagnostics or parsed.document is None:
        raise CompileError(list(parsed.diagnostics))
    return parsed.document


def parse_with_recovery(source: Source) -> Parsed:
    """Parse a spec, going on after each syntax error to report the next.

    A valid spec takes the hand-written parser in `descent`; any other goes
    through Lark, whose errors become the diagnostics.
    """
    # A final newline lets the last statement end like every other one;
    # appending it moves no offset.
    text = source.text if source.text.endswith("\n") else source.text + "\n"
    document = parse_valid(source, text)
    if document is not None:
        return Parsed(document)
    return _recover_with_lark(source)


def parse_with_lark(source: Source) -> Document:
    """Parse a spec with Lark's LALR parser, reporting every syntax error.

    Raises:
        CompileError: the text has syntax errors; each is reported once.
    """
    parsed = _recover_with_lark(source)
    if parsed.diagnostics or parsed.document is None:
        raise CompileError(list(parsed.diagnostics))
    return parsed.document


def _recover_with_lark(source: Source) -> Parsed:
    """Parse with Lark; after each error, blank the lines it spoils and parse again."""
    parser = load_parser()
    text = source.text if source.text.endswith("\n") else source.text + "\n"

    diagnostics: list[Diagnostic] = []
    damaged: list[Span] = []
    # A token can fail for a second reason once the lines before it are
    # blanked (after a dangling comma), but never twice for the same one.
    seen: set[tuple[int, str]] = set()
    while True:
        with _lock:
            _collector.sink = []
            try:
                tree = parser.parse(text)
            except UnexpectedInput as error:
                diagnostic, blank = describe(source, text, error)
                tree = None
            comments = _collector.sink
        if tree is not None:
            break

        start = diagnostic.span.start if diagnostic.span is not None else -1
        if (start, diagnostic.message) in seen:
            break
        seen.add((start, diagnostic.message))
        diagnostics.append(diagnostic)
        if len(diagnostics) >= MAX_SYNTAX_ERRORS:
            break
        if diagnostic.code is Codes.KEYWORD_AS_NAME and diagnostic.span is not None:
            # Go on as if the keyword were a name of the same length.
            keyword = diagnostic.span
            text = text[: keyword.start] + "_" + text[keyword.start + 1 :]
            damaged.append(keyword)
            continue
        if blank is None:
            break
        # An unclosed block's span already ends where the next statement starts.
        whole_blocks = diagnostic.code is not Codes.UNCLOSED_BRACE
        text, blanked = _blank_lines(text, blank, whole_blocks)
        damaged.append(blanked)

    if tree is None:
        return Parsed(None, tuple(diagnostics), tuple(damaged))

    builder = ToSyntax(source)
    document = builder.transform(tree)
    diagnostics.extend(builder.problems)
    damaged.extend(builder.spoiled)
    found = tuple(
        Comment(str(token), Span(token.start_pos or 0, token.end_pos or 0)) for token in comments
    )
    return Parsed(Document(source, document.statements, found), tuple(diagnostics), tuple(damaged))


def _blank_lines(text: str, span: Span, whole_blocks: bool = True) -> tuple[str, Span]:
    """Replace the lines that `span` touches with spaces, keeping every offset.

    Returns the new text and the span of the blanked lines. When
    `whole_blocks` is set and those lines open a block that they do not
    close, the block's body and its `}` are blanked too: parsed on their
    own, they would only give more errors about the same mistake.
    """
    begin = text.rfind("\n", 0, span.start) + 1
    end = _line_end(text, max(span.end - 1, span.start))
    if whole_blocks and _opens_block(text[begin:end]):
        end = _block_end(text, end)
    blanked = "".join(char if char in "\r\n" else " " for char in text[begin:end])
    return text[:begin] + blanked + text[end:], Span(begin, end)


_STRING_LITERAL = re.compile(r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""|"(?:[^"\\\n]|\\[^\n])*"')
_COMMENT = re.compile(r"#[^\n]*")
_TOP_LEVEL_START = re.compile(r"(?:let|env|pool|default|track|integrate)\b")


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end == -1 else end


def _opens_block(lines: str) -> bool:
    # A comment ends at its line's end, and the lines may hold several.
    code = _COMMENT.sub("", _STRING_LITERAL.sub("", lines))
    return code.count("{") > code.count("}")


def _block_end(text: str, offset: int) -> int:
    """Return the end of the line holding the `}` that closes the block open at `offset`.

    Blocks do not nest, so that is the first line starting with `}`. A line
    at the left margin that starts a top-level statement ends the search
    first (the block was never closed), and so does the end of the text.
    """
    while offset < len(text):
        start = offset + 1
        offset = _line_end(text, start)
        line = text[start:offset]
        if line.lstrip().startswith("}"):
            return offset
        if _TOP_LEVEL_START.match(line):
            return start - 1
    return offset
