"""Write-write conflicts and races against a brute-force oracle on generated specs.

The oracle shares no code with the compiler's prefix index or its pruned
search: it computes every step's dependencies transitively by walking all
`after` lists, and decides overlap by matching every path of a small
universe against both globs. A glob covers the paths it matches and
everything below them, so a path counts for a glob when it or one of its
parent directories matches.
"""

from __future__ import annotations

import itertools

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parc.compiler import compile_source
from parc.diagnostics import Codes, CompileError, Diagnostic
from parc.globs import overlap_covering, parse_glob
from parc.source import Source

GLOBS = [
    "out/**",
    "out/a",
    "out/*.o",
    "out/a.o",
    "out/[ab]",
    "src/*",
    "src/a/**",
    "**/*.o",
    "a",
    "*",
    "./out//b/../x.o",
]
SEGMENTS = ["out", "src", "a", "b", "a.o", "x.o", "x"]
UNIVERSE = [
    "/".join(names) for length in (1, 2, 3) for names in itertools.product(SEGMENTS, repeat=length)
]
"""Every path of up to three segments from SEGMENTS: enough to witness each
overlap among GLOBS, which `test_universe_witnesses_every_overlap` checks."""


def _covered(glob: str, path: str) -> bool:
    names = path.split("/")
    parsed = parse_glob(glob)
    return any(parsed.match("/".join(names[:length])) for length in range(1, len(names) + 1))


MATCHES = {glob: {path for path in UNIVERSE if _covered(glob, path)} for glob in GLOBS}

SPEC_OWNERS = {"*"}
"""The globs of GLOBS that match the spec's name, `build.par`, so owning one is E0406."""


def brute_overlap(first: str, second: str) -> bool:
    return bool(MATCHES[first] & MATCHES[second])


@attrs.frozen
class GlobUse:
    step: str
    glob: str
    offset: int
    """Where the glob's string literal starts in the spec text."""


@attrs.frozen
class Spec:
    text: str
    after: dict[str, set[str]]
    """Each step's dependencies, with the implicit ones of `integrate`."""
    reads: list[GlobUse]
    owns: list[GlobUse]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    count = draw(st.integers(2, 5))
    names = [f"s{index}" for index in range(count)]
    # Dependencies follow a random order, which keeps the graph acyclic while
    # any step may come first in the file.
    order = draw(st.permutations(names))
    kinds = {name: draw(st.sampled_from(["track", "track", "integrate"])) for name in names}
    explicit = {
        name: set(draw(st.sets(st.sampled_from(order[:position] or [name])))) - {name}
        for position, name in enumerate(order)
    }
    # An `integrate` step without `after` runs after every track, so a track
    # that depended on it would close a cycle: nothing depends on such a step.
    changed = True
    while changed:
        implicit = {name for name in names if kinds[name] == "integrate" and not explicit[name]}
        changed = any(explicit[name] & implicit for name in names)
        explicit = {name: dependencies - implicit for name, dependencies in explicit.items()}

    text = ""
    reads: list[GlobUse] = []
    owns: list[GlobUse] = []
    for name in names:
        dependencies = sorted(explicit[name])
        in_header = draw(st.booleans())
        text += f"{kinds[name]} {name}"
        if dependencies and in_header:
            text += " after " + ", ".join(dependencies)
        text += " {\n"
        if dependencies and not in_header:
            text += "    after " + ", ".join(dependencies) + "\n"
        for keyword, uses in (("reads", reads), ("owns", owns)):
            chosen = draw(st.lists(st.sampled_from(GLOBS), max_size=2))
            if not chosen:
                continue
            text += f"    {keyword} "
            for position, glob in enumerate(chosen):
                if position:
                    text += ", "
                uses.append(GlobUse(name, glob, len(text)))
                text += f'"{glob}"'
            text += "\n"
        text += '    run "true"\n}\n'

    tracks = {name for name in names if kinds[name] == "track"}
    after = {
        name: set(explicit[name]) if explicit[name] or kinds[name] == "track" else set(tracks)
        for name in names
    }
    return Spec(text, after, reads, owns)


def ancestors(after: dict[str, set[str]], step: str) -> set[str]:
    found: set[str] = set()
    pending = list(after[step])
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(after[name])
    return found


def expected_findings(spec: Spec) -> set[tuple[str, int, int, bool]]:
    findings = set()
    for first, second in itertools.combinations(spec.owns, 2):
        if first.step != second.step and brute_overlap(first.glob, second.glob):
            findings.add((Codes.WRITE_CONFLICT.id, second.offset, first.offset, False))
    for read in spec.reads:
        for own in spec.owns:
            if read.step == own.step or not brute_overlap(read.glob, own.glob):
                continue
            if own.step in ancestors(spec.after, read.step):
                continue
            reversed_order = read.step in ancestors(spec.after, own.step)
            findings.add((Codes.RACE.id, read.offset, own.offset, reversed_order))
    return findings


def compile_findings(spec: Spec) -> tuple[set[tuple[str, int, int, bool]], list[Diagnostic]]:
    try:
        compiled = compile_source(Source("build.par", spec.text))
    except CompileError as error:
        diagnostics = error.diagnostics
    else:
        diagnostics = list(compiled.warnings)
    findings = set()
    for diagnostic in diagnostics:
        if diagnostic.code not in (Codes.WRITE_CONFLICT, Codes.RACE):
            continue
        assert diagnostic.span is not None
        assert len(diagnostic.labels) == 1
        reversed_order = "because" in diagnostic.message
        findings.add(
            (
                diagnostic.code.id,
                diagnostic.span.start,
                diagnostic.labels[0].span.start,
                reversed_order,
            )
        )
    return findings, diagnostics


@given(specs())
def test_conflicts_and_races_agree_with_oracle(spec: Spec) -> None:
    findings, diagnostics = compile_findings(spec)
    assert findings == expected_findings(spec), spec.text
    spec_owned = sorted(
        d.span.start for d in diagnostics if d.code is Codes.SPEC_OWNED and d.span is not None
    )
    assert spec_owned == sorted(use.offset for use in spec.owns if use.glob in SPEC_OWNERS)
    checked = (Codes.WRITE_CONFLICT, Codes.RACE, Codes.SPEC_OWNED)
    other = [d for d in diagnostics if d.code not in checked]
    assert all(d.severity.value == "warning" for d in other), spec.text


@given(specs())
def test_race_help_names_the_missing_after(spec: Spec) -> None:
    _, diagnostics = compile_findings(spec)
    by_offset = {use.offset: use for use in spec.reads + spec.owns}
    for diagnostic in diagnostics:
        if diagnostic.code is not Codes.RACE:
            continue
        assert diagnostic.span is not None
        reader = by_offset[diagnostic.span.start].step
        owner = by_offset[diagnostic.labels[0].span.start].step
        assert f"add `after {owner}` to `{reader}`" in diagnostic.help


def test_universe_witnesses_every_overlap() -> None:
    for first, second in itertools.combinations_with_replacement(GLOBS, 2):
        found = overlap_covering(parse_glob(first), parse_glob(second))
        assert (found is not None) == brute_overlap(first, second), (first, second)


def test_spec_owners_are_the_globs_matching_the_spec() -> None:
    assert {glob for glob in GLOBS if parse_glob(glob).match("build.par")} == SPEC_OWNERS


def _diagnostics(text: str) -> list[Diagnostic]:
    with pytest.raises(CompileError) as raised:
        compile_source(Source("build.par", text))
    return raised.value.diagnostics


def test_race_without_order() -> None:
    [race] = _diagnostics(
        'track gen {\n    owns "out/**"\n    run "x"\n}\n'
        'track use {\n    reads "out/*.h"\n    run "y"\n}\n'
    )
    assert race.code is Codes.RACE
    assert race.message == (
        "race: `use` reads `out/.h`, which `gen` writes, but `use` does not run after `gen`"
    )
    assert race.help == "add `after gen` to `use`"
    assert race.primary_label == "`use` reads `out/*.h`"
    assert race.labels[0].message == "`gen` owns `out/**`"


def test_race_when_owner_runs_after_reader() -> None:
    [race] = _diagnostics(
        'track use {\n    reads "out/a"\n    run "y"\n}\n'
        'track mid after use {\n    run "m"\n}\n'
        'track gen after mid {\n    owns "out/**"\n    run "x"\n}\n'
    )
    assert race.code is Codes.RACE
    assert race.message == (
        "race: `use` reads `out/a` before `gen` writes it, "
        "because `gen` runs after `use` (use -> mid -> gen)"
    )
    assert race.help == (
        "add `after gen` to `use`, and break the chain that orders them the other way: "
        "remove one of the `after` entries in it"
    )


def test_race_when_owner_runs_directly_after_reader() -> None:
    [race] = _diagnostics(
        'track use {\n    reads "out/a"\n    run "y"\n}\n'
        'track gen after use {\n    owns "out/**"\n    run "x"\n}\n'
    )
    assert race.help == "add `after gen` to `use`, and remove `use` from the `after` of `gen`"


def test_race_with_implicit_dependency_of_integrate() -> None:
    [race] = _diagnostics(
        'track upload {\n    reads "dist/*"\n    run "y"\n}\n'
        'integrate pkg {\n    owns "dist/**"\n    run "x"\n}\n'
    )
    assert race.message.endswith("because `pkg` runs after `upload` (upload -> pkg)")
    assert race.help == (
        "`pkg` has no `after`, so it runs after every track, `upload` too: give `pkg` an "
        "`after` list that leaves out `upload`, and add `after pkg` to `upload`"
    )


def test_race_through_chain_with_implicit_dependency() -> None:
    [race] = _diagnostics(
        'track upload {\n    reads "dist/*"\n    run "y"\n}\n'
        'integrate pkg {\n    run "x"\n}\n'
        'integrate sign after pkg {\n    owns "dist/**"\n    run "x"\n}\n'
    )
    assert race.message.endswith("(upload -> pkg -> sign)")
    assert race.help == (
        "add `after sign` to `upload`, and break the chain that orders them the other way: "
        "remove one of the `after` entries in it, or give `pkg`, which runs after every "
        "track, an `after` list that leaves out `upload`"
    )


def test_transitive_order_is_no_race() -> None:
    compiled = compile_source(
        Source(
            "build.par",
            'track gen {\n    owns "out/**"\n    run "x"\n}\n'
            'track mid after gen {\n    run "m"\n}\n'
            'track use {\n    after mid\n    reads "out/a.o"\n    run "y"\n}\n',
        )
    )
    assert [step.name for step in compiled.plan.steps] == ["gen", "mid", "use"]


def test_integrate_without_after_reads_every_track() -> None:
    compiled = compile_source(
        Source(
            "build.par",
            'track gen {\n    owns "out/**"\n    run "x"\n}\n'
            'integrate release {\n    reads "out/**"\n    run "y"\n}\n',
        )
    )
    assert compiled.plan.by_name["release"].after == ("gen",)


def test_integrate_reading_another_integrate_races() -> None:
    [race] = _diagnostics(
        'track t {\n    run "t"\n}\n'
        'integrate pack {\n    owns "dist/**"\n    run "x"\n}\n'
        'integrate ship {\n    reads "dist/*"\n    run "y"\n}\n'
    )
    assert race.code is Codes.RACE
    assert race.help == "add `after pack` to `ship`"


def test_step_may_read_what_it_owns() -> None:
    compiled = compile_source(
        Source("build.par", 'track t {\n    reads "out/a"\n    owns "out/**"\n    run "t"\n}\n')
    )
    assert compiled.unowned_reads == ()


def test_write_conflict_names_both_globs() -> None:
    [conflict] = _diagnostics(
        'track a {\n    owns "build/**"\n    run "x"\n}\n'
        'track b {\n    owns "build/*.o"\n    run "y"\n}\n'
    )
    assert conflict.code is Codes.WRITE_CONFLICT
    assert conflict.message == "steps `a` and `b` both own `build/.o`"
    assert conflict.primary_label == "`b` owns `build/*.o`"
    assert conflict.labels[0].message == "`a` owns `build/**`"


def test_owned_directory_conflicts_with_file_below() -> None:
    [conflict] = _diagnostics(
        'track a {\n    owns "build"\n    run "x"\n}\n'
        'track b {\n    owns "build/lib/x.o"\n    run "y"\n}\n'
    )
    assert conflict.code is Codes.WRITE_CONFLICT
    assert conflict.message == "steps `a` and `b` both own `build/lib/x.o`"


def test_read_directory_races_with_owner_below() -> None:
    [race] = _diagnostics(
        'track gen {\n    owns "gen/*.h"\n    run "x"\n}\n'
        'track use {\n    reads "gen"\n    run "y"\n}\n'
    )
    assert race.code is Codes.RACE
    assert race.message == (
        "race: `use` reads `gen/.h`, which `gen` writes, but `use` does not run after `gen`"
    )


def test_sibling_directories_do_not_conflict() -> None:
    compiled = compile_source(
        Source(
            "build.par",
            'track a {\n    owns "build/a"\n    run "x"\n}\n'
            'track b {\n    owns "build/ab", "build/b/**"\n    run "y"\n}\n',
        )
    )
    assert [step.name for step in compiled.plan.steps] == ["a", "b"]


@given(specs())
def test_race_chain_reads_in_execution_order(spec: Spec) -> None:
    _, diagnostics = compile_findings(spec)
    by_offset = {use.offset: use for use in spec.reads + spec.owns}
    for diagnostic in diagnostics:
        if diagnostic.code is not Codes.RACE or "because" not in diagnostic.message:
            continue
        assert diagnostic.span is not None
        reader = by_offset[diagnostic.span.start].step
        owner = by_offset[diagnostic.labels[0].span.start].step
        chain = diagnostic.message.rsplit("(", 1)[1].rstrip(")").split(" -> ")
        assert chain[0] == reader
        assert chain[-1] == owner
        # `a -> b` means that `a` runs before `b`: `b` lists `a` in its `after`.
        for before, later in itertools.pairwise(chain):
            assert before in spec.after[later], diagnostic.message
