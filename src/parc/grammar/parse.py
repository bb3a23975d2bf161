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


def parse(source: Source) -> Document:
    """Parse a spec into a `Document`.

    A valid spec takes the hand-written parser in `descent`; any other goes
    through Lark, whose errors become the diagnostics.

    Raises:
        CompileError: the text has syntax errors; each is reported once.
    """
    # A final newline lets the last statement end like every other one;
    # appending it moves no offset.
    text = source.text if source.text.endswith("\n") else source.text + "\n"
    document = parse_valid(source, text)
    if document is not None:
        return document
    return parse_with_lark(source)


def parse_with_lark(source: Source) -> Document:
    """Parse a spec with Lark's LALR parser, reporting every syntax error.

    Raises:
        CompileError: the text has syntax errors; each is reported once.
    """
    parser = load_parser()
    text = source.text if source.text.endswith("\n") else source.text + "\n"

    diagnostics: list[Diagnostic] = []
    seen_offsets: set[int] = set()
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
        if start in seen_offsets:
            break
        seen_offsets.add(start)
        diagnostics.append(diagnostic)
        if len(diagnostics) >= MAX_SYNTAX_ERRORS:
            break
        if diagnostic.code is Codes.KEYWORD_AS_NAME and diagnostic.span is not None:
            # Go on as if the keyword were a name of the same length.
            keyword = diagnostic.span
            text = text[: keyword.start] + "_" + text[keyword.start + 1 :]
            continue
        if blank is None:
            break
        text = _blank_lines(text, blank)

    if tree is None:
        raise CompileError(diagnostics)

    builder = ToSyntax(source)
    document = builder.transform(tree)
    diagnostics.extend(builder.problems)
    if diagnostics:
        raise CompileError(diagnostics)
    found = tuple(
        Comment(str(token), Span(token.start_pos or 0, token.end_pos or 0)) for token in comments
    )
    return Document(source, document.statements, found)


def _blank_lines(text: str, span: Span) -> str:
    """Replace the lines that `span` touches with spaces, keeping every offset.

    When those lines open a block that they do not close, the block's body
    and its `}` are blanked too: parsed on their own, they would only give
    more errors about the same mistake.
    """
    begin = text.rfind("\n", 0, span.start) + 1
    end = _line_end(text, max(span.end - 1, span.start))
    if _opens_block(text[begin:end]):
        end = _block_end(text, end)
    blanked = "".join(char if char in "\r\n" else " " for char in text[begin:end])
    return text[:begin] + blanked + text[end:]


_STRING_LITERAL = re.compile(r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""|"(?:[^"\\\n]|\\[^\n])*"')
_TOP_LEVEL_START = re.compile(r"(?:let|env|pool|default|track|integrate)\b")


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end == -1 else end


def _opens_block(lines: str) -> bool:
    code = _STRING_LITERAL.sub("", lines).split("#", 1)[0]
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
