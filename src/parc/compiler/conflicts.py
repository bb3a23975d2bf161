"""Write-write conflicts and read-write races between steps, and owning the spec.

A glob covers the paths it matches and everything below them, as the runtime
reads it, so globs are compared with `overlap_covering`. Two globs can only
cover a common path if their literal prefixes (the leading segments without
wildcards) agree as far as both go, so the globs are indexed in a trie of
those prefixes and each glob is compared only with the globs on its own
branch. For specs where each step works in its own directory, this
keeps the check near-linear in the number of globs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import attrs

from parc.compiled import GlobSite
from parc.diagnostics import Codes, Diagnostic, Label
from parc.globs import Glob, overlap_covering
from parc.plan import PlanStep
from parc.source import Source


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


@attrs.frozen
class FileCheck:
    """The races between steps, and the reads that no step owns.

    `unowned_reads` are the `reads` globs that no `owns` glob of any step
    overlaps. The caller decides whether files on disk match them, because
    the compiler reads nothing but the spec.
    """

    diagnostics: tuple[Diagnostic, ...]
    unowned_reads: tuple[GlobSite, ...]


def check_conflicts(source: Source, owns: list[GlobSite]) -> list[Diagnostic]:
    """Find every pair of steps whose `owns` globs cover a common path.

    Unlike races, conflicts do not depend on the order of the steps, so this
    check holds on a graph with cycles or undefined names.
    """
    diagnostics: list[Diagnostic] = []
    index = PrefixIndex()
    for site in owns:
        for other in sorted(index.candidates(site.glob), key=_site_key):
            if other.step == site.step:
                continue
            example = overlap_covering(other.glob, site.glob)
            if example is not None:
                diagnostics.append(_conflict(source, other, site, example))
        index.add(site)
    return diagnostics


def check_races(
    source: Source,
    steps: list[PlanStep],
    reads: list[GlobSite],
    owns: list[GlobSite],
    implicit: frozenset[tuple[str, str]] = frozenset(),
) -> FileCheck:
    """Find every read that may overlap another step's write, and the reads that no step owns.

    `steps` must have no dependency cycle, and their `after` lists must be
    complete, because a missing dependency would be reported as a race.
    `implicit` contains the pairs (step, dependency) that no `after`
    declares: those of an `integrate` step without `after`, which runs after
    every track.
    """
    owners = PrefixIndex()
    for site in owns:
        owners.add(site)
    order = _Order(steps)
    diagnostics: list[Diagnostic] = []
    unowned: list[GlobSite] = []
    for read in reads:
        owned = False
        for owner in sorted(owners.candidates(read.glob), key=_site_key):
            ordered = owner.step == read.step or order.runs_after(read.step, owner.step)
            if ordered and owned:
                continue  # no race, and the read is known to be owned
            example = overlap_covering(owner.glob, read.glob)
            if example is None:
                continue
            owned = True
            if not ordered:
                chain = order.chain(owner.step, read.step)
                diagnostics.append(_race(source, owner, read, example, chain, implicit))
        if not owned:
            unowned.append(read)
    return FileCheck(tuple(diagnostics), tuple(unowned))


def _site_key(site: GlobSite) -> int:
    return site.span.start


class _Order:
    """Decides whether one step runs after another, directly or transitively.

    A full transitive closure would take quadratic memory on a long chain of
    steps, so each question is a depth-first search through `after` lists.
    The search skips every step that comes before the target in a topological
    order, because the target cannot be among that step's dependencies.
    """

    def __init__(self, steps: list[PlanStep]) -> None:
        self.after = {step.name: step.after for step in steps}
        self.direct = {step.name: frozenset(step.after) for step in steps}
        position: dict[str, int] = {}
        remaining = {step.name: len(step.after) for step in steps}
        dependents: dict[str, list[str]] = {step.name: [] for step in steps}
        for step in steps:
            for dependency in step.after:
                dependents[dependency].append(step.name)
        ready = [step.name for step in steps if not step.after]
        while ready:
            name = ready.pop()
            position[name] = len(position)
            for dependent in dependents[name]:
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    ready.append(dependent)
        self.position = position
        self.cache: dict[tuple[str, str], bool] = {}

    def runs_after(self, step: str, target: str) -> bool:
        """Tell whether `step` runs after `target`, directly or transitively."""
        if target in self.direct[step]:
            return True
        key = (step, target)
        found = self.cache.get(key)
        if found is None:
            found = self._search(step, target) is not None
            self.cache[key] = found
        return found

    def chain(self, step: str, target: str) -> list[str] | None:
        """Return the steps from `step` to `target` along `after` lists, if any."""
        return self._search(step, target)

    def _search(self, step: str, target: str) -> list[str] | None:
        limit = self.position[target]
        parent: dict[str, str] = {step: step}
        stack = [step]
        while stack:
            current = stack.pop()
            for dependency in self.after[current]:
                if dependency in parent or self.position[dependency] < limit:
                    continue
                parent[dependency] = current
                if dependency == target:
                    path = [target]
                    while path[-1] != step:
                        path.append(parent[path[-1]])
                    return path[::-1]
                stack.append(dependency)
        return None


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
    source: Source,
    owner: GlobSite,
    read: GlobSite,
    example: str,
    chain: list[str] | None,
    implicit: frozenset[tuple[str, str]],
) -> Diagnostic:
    if chain is not None:
        # The owner runs after the reader, so the reader sees the file before
        # the owner writes it.
        message = (
            f"race: `{read.step}` reads `{example}` before `{owner.step}` writes it, "
            f"because `{owner.step}` runs after `{read.step}` ({' -> '.join(reversed(chain))})"
        )
        help = _reorder(owner.step, read.step, chain, implicit)
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


def _reorder(
    owner: str, reader: str, chain: list[str], implicit: frozenset[tuple[str, str]]
) -> str:
    """Say how to make `reader` run after `owner` when `chain` makes `owner` run after `reader`.

    Each step in `chain` runs after the next one, through an `after` entry
    or, for an `integrate` step without `after`, implicitly.
    """
    add = f"add `after {owner}` to `{reader}`"
    pairs = list(itertools.pairwise(chain))
    if len(pairs) == 1:
        step, target = pairs[0]
        if pairs[0] in implicit:
            return (
                f"`{step}` has no `after`, so it runs after every track, `{target}` too: "
                f"give `{step}` an `after` list that leaves out `{target}`, and {add}"
            )
        return f"{add}, and remove `{target}` from the `after` of `{step}`"
    fixes = []
    if any(pair not in implicit for pair in pairs):
        fixes.append("remove one of the `after` entries in it")
    fixes.extend(
        f"give `{step}`, which runs after every track, an `after` list that leaves out `{target}`"
        for step, target in pairs
        if (step, target) in implicit
    )
    return f"{add}, and break the chain that orders them the other way: " + ", or ".join(fixes)


def check_spec_owned(source: Source, owns: list[GlobSite], spec: str) -> list[Diagnostic]:
    """Reject every `owns` glob that covers the spec file, whose path from the root is `spec`.

    `parc clean` removes what steps own, so such a glob would make it delete the spec.
    """
    return [
        Diagnostic(
            Codes.SPEC_OWNED,
            f"`{site.step}` owns `{site.glob}`, which matches the spec file `{spec}`",
            source,
            site.span,
            primary_label=f"matches `{spec}`",
            help="`owns` names the files a step writes, and `parc clean` removes them: "
            "narrow the glob to the step's outputs, such as `build/**`",
        )
        for site in owns
        if _may_match_name(site.glob, spec) and site.glob.covers(spec)
    ]


def _may_match_name(glob: Glob, name: str) -> bool:
    """Tell cheaply whether the glob may cover the one-segment path `name`.

    A glob whose first segment is another plain name cannot, so most globs
    need no regex.
    """
    prefix = glob.literal_prefix
    return not prefix or prefix[0] == name
