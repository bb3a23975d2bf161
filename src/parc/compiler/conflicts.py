"""Write-write conflicts and read-write races between steps.

Two globs can only match a common path if their literal prefixes (the leading
segments without wildcards) agree as far as both go, so the globs are indexed
in a trie of those prefixes and each glob is compared only with the globs on
its own branch. For specs where each step works in its own directory, this
keeps the check near-linear in the number of globs.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from parc.diagnostics import Codes, Diagnostic, Label
from parc.globs import Glob, overlap
from parc.plan import PlanStep
from parc.source import Source, Span


@attrs.frozen
class GlobSite:
    """A glob of one step and the string it was written as."""

    step: str
    glob: Glob
    span: Span


class _Node:
    __slots__ = ("children", "sites")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.sites: list[GlobSite] = []


class PrefixIndex:
    """Globs indexed by their literal prefix."""

    def __init__(self) -> None:
        self.root = _Node()

    def add(self, site: GlobSite) -> None:
        node = self.root
        for segment in site.glob.literal_prefix:
            node = node.children.setdefault(segment, _Node())
        node.sites.append(site)

    def candidates(self, glob: Glob) -> Iterator[GlobSite]:
        """Yield every indexed glob that might match a path that `glob` matches."""
        node = self.root
        for segment in glob.literal_prefix:
            yield from node.sites
            child = node.children.get(segment)
            if child is None:
                return
            node = child
        stack = [node]
        while stack:
            current = stack.pop()
            yield from current.sites
            stack.extend(current.children.values())


def check_files(
    source: Source,
    steps: list[PlanStep],
    names: dict[str, Span],
    reads: list[GlobSite],
    owns: list[GlobSite],
) -> list[Diagnostic]:
    """Return a diagnostic for every conflict between `owns` globs and every race."""
    ancestors = _ancestors(steps)
    diagnostics: list[Diagnostic] = []

    index = PrefixIndex()
    for site in owns:
        for other in sorted(index.candidates(site.glob), key=lambda found: found.span.start):
            if other.step == site.step:
                continue
            example = overlap(other.glob, site.glob)
            if example is not None:
                diagnostics.append(_conflict(source, other, site, example))
        index.add(site)

    for read in reads:
        for owner in sorted(index.candidates(read.glob), key=lambda found: found.span.start):
            if owner.step == read.step or owner.step in ancestors[read.step]:
                continue
            example = overlap(owner.glob, read.glob)
            if example is None:
                continue
            reversed_order = read.step in ancestors[owner.step]
            diagnostics.append(_race(source, owner, read, example, reversed_order))
    return diagnostics


def _ancestors(steps: list[PlanStep]) -> dict[str, frozenset[str]]:
    """Map each step to every step it runs after, directly or transitively."""
    by_name = {step.name: step for step in steps}
    result: dict[str, frozenset[str]] = {}

    def visit(name: str) -> frozenset[str]:
        found = result.get(name)
        if found is not None:
            return found
        # An explicit stack keeps deep chains from overflowing Python's stack.
        stack = [name]
        while stack:
            current = stack[-1]
            pending = [d for d in by_name[current].after if d not in result]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if current in result:
                continue
            collected: set[str] = set()
            for dependency in by_name[current].after:
                collected.add(dependency)
                collected |= result[dependency]
            result[current] = frozenset(collected)
        return result[name]

    for step in steps:
        visit(step.name)
    return result


def _conflict(source: Source, first: GlobSite, second: GlobSite, example: str) -> Diagnostic:
    return Diagnostic(
        Codes.WRITE_CONFLICT,
        f"steps `{first.step}` and `{second.step}` both own `{example}`",
        source,
        second.span,
        primary_label=f"`{second.step}` owns `{second.glob}`",
        labels=(Label(source, first.span, f"`{first.step}` owns `{first.glob}`"),),
        help="every file has one owner: narrow one of the globs so they cannot match the same path",
    )


def _race(
    source: Source, owner: GlobSite, read: GlobSite, example: str, reversed_order: bool
) -> Diagnostic:
    if reversed_order:
        message = (
            f"race: `{read.step}` reads `{example}` before `{owner.step}` writes it, "
            f"because `{owner.step}` runs after `{read.step}`"
        )
        help = (
            f"make `{read.step}` run after `{owner.step}`: remove the dependency of "
            f"`{owner.step}` on `{read.step}` and add `after {owner.step}` to `{read.step}`"
        )
    else:
        message = (
            f"race: `{read.step}` reads `{example}`, which `{owner.step}` writes, "
            f"but `{read.step}` does not run after `{owner.step}`"
        )
        help = f"add `after {owner.step}` to `{read.step}`"
    return Diagnostic(
        Codes.RACE,
        message,
        source,
        read.span,
        primary_label=f"`{read.step}` reads `{read.glob}`",
        labels=(Label(source, owner.span, f"`{owner.step}` owns `{owner.glob}`"),),
        help=help,
    )
