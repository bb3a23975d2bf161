"""The compiler: from `.par` source to a checked execution plan.

It reads spec files and nothing else; the plan it returns is all the runtime
needs.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Mapping
from pathlib import Path

from parc.compiler.analyze import Compiled, analyze
from parc.diagnostics import CompileError
from parc.grammar import parse
from parc.source import Source

__all__ = ["CompileError", "Compiled", "collector_paused", "compile_file", "compile_source"]


def compile_source(
    source: Source, overrides: Mapping[str, str] | None = None, root: Path | None = None
) -> Compiled:
    """Parse and check a spec given as text.

    `root` is the project root; by default, the directory of `source.name`.

    Raises:
        CompileError: the spec is invalid.
    """
    with collector_paused():
        return analyze(parse(source), overrides, root)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a spec compiles, or a cached plan loads.

    Compiling allocates millions of small objects and frees few, which makes
    the collector run full passes again and again: on a 10,000-track spec it
    took more than half of the time. Whatever cycles a compile leaves behind,
    such as the tracebacks of syntax errors, are collected once the
    collector runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compile_file(
    path: Path, overrides: Mapping[str, str] | None = None, name: str | None = None
) -> Compiled:
    """Read, parse and check a spec file.

    `name` is how messages show the file; by default, `path` as given.

    Raises:
        CompileError: the spec is invalid.
        OSError, UnicodeDecodeError: the file cannot be read as UTF-8 text.
    """
    source = Source.read(path, name)
    return compile_source(source, overrides, root=path.resolve().parent)
