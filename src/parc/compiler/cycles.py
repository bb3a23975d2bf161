"""Dependency cycles: found with Tarjan's algorithm, one report per cycle.

Each strongly connected component with more than one step holds at least one
cycle. The report shows a shortest cycle through the component's first step
in spec order, starting and ending at that step, so the message stays the
same however the spec is edited elsewhere.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from parc.diagnostics import Codes, Diagnostic, Label
from parc.source import Source

if TYPE_CHECKING:
    from parc.compiler.analyze import Edge


def find_cycles(source: Source, steps: list[str], edges: list[Edge]) -> list[Diagnostic]:
    """Return one diagnostic for each cycle among `steps`, which are in spec order."""
    order = {name: index for index, name in enumerate(steps)}
    successors: dict[str, list[Edge]] = {name: [] for name in steps}
    for edge in edges:
        successors[edge.step].append(edge)

    diagnostics = []
    for component in _strongly_connected(steps, successors):
        if len(component) < 2:
            continue
        members = set(component)
        first = min(component, key=order.__getitem__)
        cycle = _shortest_cycle(first, members, successors)
        diagnostics.append(_report(source, cycle))
    return diagnostics


def _strongly_connected(steps: list[str], successors: dict[str, list[Edge]]) -> list[list[str]]:
    """Tarjan's algorithm with an explicit stack, so deep graphs cannot overflow."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    for root in steps:
        if root in index_of:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            outgoing = successors[node]
            if position < len(outgoing):
                work.append((node, position + 1))
                target = outgoing[position].target
                if target not in index_of:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index_of[target])
                continue
            if low[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _shortest_cycle(start: str, members: set[str], successors: dict[str, list[Edge]]) -> list[Edge]:
    """Return the edges of a shortest cycle through `start` within one component."""
    came_by: dict[str, Edge] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for edge in successors[node]:
            if edge.target not in members:
                continue
            if edge.target == start:
                path = [edge]
                while path[-1].step != start:
                    path.append(came_by[path[-1].step])
                path.reverse()
                return path
            if edge.target not in came_by:
                came_by[edge.target] = edge
                queue.append(edge.target)
    raise AssertionError(f"no cycle through {start!r} in its component")


def _report(source: Source, cycle: list[Edge]) -> Diagnostic:
    # Each edge's step runs after its target, so the names in reverse read
    # in execution order: each step would have to run before the next one.
    names = [cycle[0].step] + [edge.step for edge in reversed(cycle)]
    closing = cycle[-1]
    labels = tuple(Label(source, edge.span, _edge_note(edge)) for edge in cycle[:-1])
    return Diagnostic(
        Codes.CYCLE,
        "dependency cycle: " + " -> ".join(names),
        source,
        closing.span,
        primary_label=_edge_note(closing) + ", which closes the cycle",
        labels=labels,
        help="each step has to run before the next one, so none of them can start; "
        + _cycle_fix(cycle),
    )


def _cycle_fix(cycle: list[Edge]) -> str:
    """Say how to break the cycle: remove an `after` entry, or replace an implicit dependency."""
    fixes = []
    if any(not edge.implicit for edge in cycle):
        fixes.append("remove one of these `after` entries")
    for edge in cycle:
        if edge.implicit:
            fixes.append(f"give `{edge.step}` an `after` list that leaves out `{edge.target}`")
    return ", or ".join(fixes)


def _edge_note(edge: Edge) -> str:
    if edge.implicit:
        return f"`{edge.step}` has no `after`, so it runs after every track, `{edge.target}` too"
    return f"`{edge.step}` runs after `{edge.target}`"
