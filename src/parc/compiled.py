"""The results of a compile, kept apart from the compiler so that a cached plan loads without it.

`parc.cli.plan_cache` rebuilds these classes from `.parc/plan-cache`; it
must not import the parser, Lark or the semantic checks to do so.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from parc.diagnostics import Diagnostic
    from parc.globs import Glob
    from parc.plan import Plan
    from parc.source import Source, Span


@attrs.frozen
class GlobSite:
    """A glob of one step and the string it was written as."""

    step: str
    glob: Glob
    span: Span


@attrs.frozen
class Compiled:
    """A compiled spec: its plan and the warnings found on the way.

    `unowned_reads` are the `reads` globs that no step's `owns` overlaps, in
    spec order. They deserve a warning when no file on disk matches them
    either, which only the caller can check (see `parc.cli.common`).
    """

    plan: Plan
    warnings: tuple[Diagnostic, ...]
    source: Source | None = None
    unowned_reads: tuple[GlobSite, ...] = ()


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
