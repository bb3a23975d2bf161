"""The compiler: from `.par` source to a checked execution plan.

It reads spec files and nothing else; the plan it returns is all the runtime
needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from parc.compiled import Compiled, collector_paused
from parc.compiler.analyze import analyze
from parc.compiler.recovery import check_recovered
from parc.diagnostics import CompileError
from parc.grammar.parse import parse_with_recovery
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
        parsed = parse_with_recovery(source)
        if parsed.document is not None and not parsed.diagnostics:
            return analyze(parsed.document, overrides, root)
        raise check_recovered(parsed, overrides, root)


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
