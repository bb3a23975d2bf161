"""Dependency cycles stay reported when the spec has other, unrelated errors.

The oracle finds the cycles by brute force: two steps are on a common cycle
when each reaches the other through `after` edges. The compiler reports one
E0301 per such group of steps.
"""

from __future__ import annotations

import attrs
from hypothesis import assume, given
from hypothesis import strategies as st

from parc.compiler import compile_source
from parc.diagnostics import Codes, CompileError
from parc.source import Source


@attrs.frozen
class Spec:
    """Steps `s0`, `s1`, ... in spec order; `after[i]` lists the indexes step `i` runs after."""

    after: tuple[tuple[int, ...], ...]
    integrate: tuple[bool, ...]

    def render(self, extra_after: dict[int, str], extra_run: dict[int, str]) -> str:
        lines = []
        for index, targets in enumerate(self.after):
            kind = "integrate" if self.integrate[index] else "track"
            names = [f"s{target}" for target in targets]
            if index in extra_after:
                names.append(extra_after[index])
            header = f"{kind} s{index}"
            if names:
                header += " after " + ", ".join(names)
            lines.append(header + " {")
            lines.append(f'    run "{extra_run.get(index, "true")}"')
            lines.append("}")
        return "\n".join(lines) + "\n"


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    count = draw(st.integers(min_value=1, max_value=7))
    after = []
    for index in range(count):
        others = [other for other in range(count) if other != index]
        targets = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
        after.append(tuple(targets))
    integrate = tuple(draw(st.lists(st.booleans(), min_size=count, max_size=count)))
    return Spec(tuple(after), integrate)


def edges(spec: Spec) -> dict[int, set[int]]:
    """Return the steps each step runs after, including the implicit ones of `integrate`."""
    tracks = {index for index, integrate in enumerate(spec.integrate) if not integrate}
    result = {}
    for index, targets in enumerate(spec.after):
        if spec.integrate[index] and not targets:
            result[index] = tracks - {index}
        else:
            result[index] = set(targets)
    return result


def cycle_groups(spec: Spec) -> set[frozenset[str]]:
    """Return the groups of two or more steps that all reach each other: brute force."""
    graph = edges(spec)
    count = len(spec.after)
    reach = [[target in graph[step] for target in range(count)] for step in range(count)]
    for middle in range(count):
        for step in range(count):
            for target in range(count):
                reach[step][target] = reach[step][target] or (
                    reach[step][middle] and reach[middle][target]
                )
    groups = set()
    for step in range(count):
        group = frozenset(
            f"s{other}"
            for other in range(count)
            if other == step or (reach[step][other] and reach[other][step])
        )
        if len(group) > 1:
            groups.add(group)
    return groups


def reported_cycles(text: str) -> list[str]:
    try:
        compile_source(Source("build.par", text))
    except CompileError as error:
        return [d.message for d in error.diagnostics if d.code is Codes.CYCLE]
    return []


def cycle_members(message: str) -> frozenset[str]:
    return frozenset(message.removeprefix("dependency cycle: ").split(" -> "))


@given(specs())
def test_cycles_match_brute_force(spec: Spec) -> None:
    messages = reported_cycles(spec.render({}, {}))
    groups = cycle_groups(spec)
    assert len(messages) == len(groups)
    for message in messages:
        members = cycle_members(message)
        assert any(members <= group for group in groups), message


@given(specs(), st.data())
def test_unresolved_after_name_keeps_cycles(spec: Spec, data: st.DataObject) -> None:
    # An `integrate` step without `after` runs after every track, so giving
    # it an `after` list, even of one undefined name, changes its edges:
    # only the other steps can take the name without changing the graph.
    candidates = [
        index for index, targets in enumerate(spec.after) if targets or not spec.integrate[index]
    ]
    assume(candidates)
    step = data.draw(st.sampled_from(candidates))
    before = reported_cycles(spec.render({}, {}))
    after = reported_cycles(spec.render({step: "missing"}, {}))
    assert after == before


@given(specs(), st.data())
def test_undefined_variable_keeps_cycles(spec: Spec, data: st.DataObject) -> None:
    step = data.draw(st.integers(min_value=0, max_value=len(spec.after) - 1))
    before = reported_cycles(spec.render({}, {}))
    after = reported_cycles(spec.render({}, {step: "{{nope}} x"}))
    assert after == before
