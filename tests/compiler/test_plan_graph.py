"""The plan's derived facts: levels, critical path, width and speedup."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parc.plan import Plan, PlanStep


@st.composite
def plans(draw: st.DrawFn, max_steps: int = 9) -> Plan:
    """A plan whose steps run after random earlier steps, in a random spec order."""
    count = draw(st.integers(0, max_steps))
    names = [f"s{index}" for index in range(count)]
    order = draw(st.permutations(names))
    after = {
        name: tuple(sorted(draw(st.sets(st.sampled_from(order[:position]))) if position else ()))
        for position, name in enumerate(order)
    }
    steps = tuple(
        PlanStep(name=name, kind="track", index=index, commands=("true",), after=after[name])
        for index, name in enumerate(names)
    )
    return Plan(spec="build.par", root="/project", steps=steps)


def _ancestors(plan: Plan) -> dict[str, set[str]]:
    by_name = plan.by_name
    result = {}
    for step in plan.steps:
        found: set[str] = set()
        pending = list(step.after)
        while pending:
            name = pending.pop()
            if name not in found:
                found.add(name)
                pending.extend(by_name[name].after)
        result[step.name] = found
    return result


def brute_width(plan: Plan) -> int:
    """Try every set of steps, largest first, until one has no two ordered steps."""
    ancestors = _ancestors(plan)
    names = [step.name for step in plan.steps]
    for size in range(len(names), 0, -1):
        for group in itertools.combinations(names, size):
            if all(
                a not in ancestors[b] and b not in ancestors[a]
                for a, b in itertools.combinations(group, 2)
            ):
                return size
    return 0


@given(plans())
def test_width_agrees_with_brute_force(plan: Plan) -> None:
    assert plan.max_parallelism() == brute_width(plan)


@given(plans(max_steps=30))
def test_width_between_widest_level_and_step_count(plan: Plan) -> None:
    width = plan.max_parallelism()
    widest_level = max((len(level) for level in plan.levels()), default=0)
    assert widest_level <= width <= len(plan.steps)


@given(plans())
def test_levels_are_antichains_in_dependency_order(plan: Plan) -> None:
    ancestors = _ancestors(plan)
    seen: set[str] = set()
    for level in plan.levels():
        for name in level:
            assert ancestors[name] <= seen
        seen.update(level)
    assert seen == {step.name for step in plan.steps}


@given(plans())
def test_critical_path_is_a_longest_chain(plan: Plan) -> None:
    path, length = plan.critical_path()
    assert length == len(path) == len(plan.levels())
    for earlier, later in itertools.pairwise(path):
        assert earlier in plan.by_name[later].after


@given(plans())
def test_speedup_is_steps_over_critical_path(plan: Plan) -> None:
    _, length = plan.critical_path()
    if plan.steps:
        assert plan.speedup() == len(plan.steps) / length
    else:
        assert plan.speedup() == 1.0


def _chain_plan(after: dict[str, tuple[str, ...]]) -> Plan:
    steps = tuple(
        PlanStep(name=name, kind="track", index=index, commands=("true",), after=dependencies)
        for index, (name, dependencies) in enumerate(after.items())
    )
    return Plan(spec="build.par", root="/project", steps=steps)


def test_width_exceeds_widest_level() -> None:
    plan = _chain_plan({"a": (), "b": ("a",), "c": ("b",), "d": ("a",), "e": ()})
    assert plan.levels() == [["a", "e"], ["b", "d"], ["c"]]
    assert plan.max_parallelism() == 3  # c, d and e


def test_width_of_tree_is_leaf_count() -> None:
    after: dict[str, tuple[str, ...]] = {"t0": ()}
    for index in range(1, 200):
        after[f"t{index}"] = (f"t{(index - 1) // 4}",)
    plan = _chain_plan(after)
    parents = {dependency for dependencies in after.values() for dependency in dependencies}
    assert plan.max_parallelism() == len(after) - len(parents)
    assert plan.max_parallelism() > max(len(level) for level in plan.levels())


@given(plans(max_steps=12))
def test_plan_json_follows_schema(plan: Plan) -> None:
    jsonschema.validate(plan.to_json(), Plan.json_schema())


@given(plans(max_steps=12))
def test_plan_json_round_trips(plan: Plan) -> None:
    assert Plan.from_json(json.loads(plan.dumps())) == plan


def test_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(Plan.json_schema())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda data: data.pop("version"), "'version' is a required property"),
        (lambda data: data.update(version=2), "1 was expected"),
        (lambda data: data["steps"][0].update(kind="job"), "is not one of"),
        (lambda data: data["steps"][0].update(retries=-1), "less than the minimum"),
        (lambda data: data["steps"][0].update(owns=["/abs"]), "should not be valid"),
    ],
)
def test_schema_rejects_invalid_plans(
    change: Callable[[dict[str, Any]], object], reason: str
) -> None:
    plan = _chain_plan({"a": (), "b": ("a",)})
    data = plan.to_json()
    data["steps"][0]["owns"] = ["out/**"]
    jsonschema.validate(data, Plan.json_schema())
    change(data)
    with pytest.raises(jsonschema.ValidationError, match=reason):
        jsonschema.validate(data, Plan.json_schema())
