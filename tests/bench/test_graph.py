"""The graph model and the shape generators."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import shapes
from bench.graph import Graph, Step


@st.composite
def random_graphs(draw: st.DrawFn) -> Graph:
    """Draw a small DAG: each step runs after any subset of the steps before it."""
    count = draw(st.integers(min_value=1, max_value=8))
    steps: list[Step] = []
    for index in range(count):
        earlier = [step.name for step in steps]
        after = draw(st.lists(st.sampled_from(earlier), unique=True)) if earlier else []
        duration = draw(st.integers(min_value=0, max_value=100)) / 1000
        steps.append(Step(f"s{index}", "true", tuple(after), duration=duration))
    return Graph("random", tuple(steps))


def _paths(graph: Graph) -> list[list[Step]]:
    """Enumerate every dependency chain that ends at a step nothing runs after."""
    by_name = graph.by_name
    needed = {dependency for _, dependency in graph.edges()}

    def chains_to(step: Step) -> list[list[Step]]:
        if not step.after:
            return [[step]]
        return [[*chain, step] for name in step.after for chain in chains_to(by_name[name])]

    return [chain for step in graph.steps if step.name not in needed for chain in chains_to(step)]


@given(random_graphs())
def test_critical_path_is_heaviest_chain(graph: Graph) -> None:
    heaviest = max(sum(step.duration for step in chain) for chain in _paths(graph))
    assert graph.critical_path() == pytest.approx(heaviest)


def test_graph_rejects_unknown_dependency() -> None:
    with pytest.raises(ValueError, match="runs after `b`, which is not defined before it"):
        Graph("bad", (Step("a", "true", after=("b",)), Step("b", "true")))


def test_graph_rejects_duplicate_step() -> None:
    with pytest.raises(ValueError, match="step `a` is defined twice"):
        Graph("bad", (Step("a", "true"), Step("a", "true")))


def test_graph_rejects_partial_join() -> None:
    steps = (Step("a", "true"), Step("b", "true"), Step("j", "true", after=("a",)))
    with pytest.raises(ValueError, match="must run after every other step"):
        Graph("bad", steps, join="j")


def test_wide_join_runs_after_every_step() -> None:
    graph = shapes.wide(12)

    assert len(graph.steps) == 13
    assert graph.join == "join"
    assert set(graph.steps[-1].after) == {step.name for step in graph.steps[:-1]}
    assert [step.name for step in graph.steps[:3]] == ["s00", "s01", "s02"]


def test_chain_links_each_step_to_previous() -> None:
    graph = shapes.chain(4)
    assert list(graph.edges()) == [("s1", "s0"), ("s2", "s1"), ("s3", "s2")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dag_steps_follow_previous_layer(seed: int) -> None:
    layers, width = 6, 5
    graph = shapes.dag(layers, width, seed)
    layer_of = {step.name: index // width for index, step in enumerate(graph.steps)}

    for step in graph.steps:
        if layer_of[step.name] == 0:
            assert step.after == ()
            continue
        previous = [name for name in step.after if layer_of[name] == layer_of[step.name] - 1]
        assert 1 <= len(previous) <= 3
        assert all(layer_of[name] < layer_of[step.name] for name in step.after)
        assert step.command == f"sleep {step.duration:.3f}"
        assert 0.005 <= step.duration <= 0.150


def test_dag_is_repeatable_for_a_seed() -> None:
    assert shapes.dag(5, 4, seed=9) == shapes.dag(5, 4, seed=9)
    assert shapes.dag(5, 4, seed=9) != shapes.dag(5, 4, seed=10)


def test_big_reads_what_it_runs_after() -> None:
    graph = shapes.big(4, 5, seed=3)
    by_name = graph.by_name

    assert len(graph.steps) == 20
    assert len(graph.sources) == 20
    for step in graph.steps:
        outputs = {by_name[name].output for name in step.after}
        assert set(step.inputs) == {f"src/{step.name}.c", *outputs}
        assert step.output == f"out/{step.name}.o"


def test_step_names_sort_in_graph_order() -> None:
    names = [shapes.step_name(index, 1000) for index in range(1000)]
    assert names == sorted(names)
    assert names[0] == "s000"
    assert shapes.step_name(0, 1) == "s0"
