"""Graph generators: one function per shape, deterministic for a given size and seed."""

from __future__ import annotations

import random

from bench.graph import Graph, Step

JOIN = "join"


def step_name(index: int, count: int) -> str:
    """Name step `index` of `count` with zero padding, so names sort in order."""
    return f"s{index:0{len(str(max(count - 1, 0)))}d}"


def wide(count: int, command: str = "true") -> Graph:
    """Build `count` independent steps and a join step that runs after all of them."""
    names = [step_name(index, count) for index in range(count)]
    steps = [Step(name, command) for name in names]
    steps.append(Step(JOIN, command, after=tuple(names)))
    return Graph("wide", tuple(steps), join=JOIN)


def chain(count: int, command: str = "true") -> Graph:
    """Build `count` steps where each runs after the one before it."""
    steps: list[Step] = []
    for index in range(count):
        after = (steps[-1].name,) if steps else ()
        steps.append(Step(step_name(index, count), command, after=after))
    return Graph("chain", tuple(steps))


def dag(layers: int, width: int, seed: int) -> Graph:
    """Build a layered random DAG of `sleep` steps with seeded durations.

    Every step after the first layer runs after one to three steps of the
    layer before it, and sometimes after one more step of an older layer.
    About one step in five is long (60-150 ms) and the rest short (5-40 ms),
    so the order in which ready steps start decides the wall time once job
    slots are scarce.
    """
    rng = random.Random(seed)
    count = layers * width
    steps: list[Step] = []
    previous: list[str] = []
    older: list[str] = []
    for layer in range(layers):
        current: list[str] = []
        for column in range(width):
            name = step_name(layer * width + column, count)
            after: set[str] = set()
            if previous:
                after.update(rng.sample(previous, rng.randint(1, min(3, len(previous)))))
            if older and rng.random() < 0.3:
                after.add(rng.choice(older))
            millis = rng.randint(60, 150) if rng.random() < 0.2 else rng.randint(5, 40)
            seconds = millis / 1000
            steps.append(Step(name, f"sleep {seconds:.3f}", tuple(sorted(after)), duration=seconds))
            current.append(name)
        older.extend(previous)
        previous = current
    return Graph("dag", tuple(steps))


def noop(count: int) -> Graph:
    """Build `count` independent file steps, each copying its own source file.

    After one build every output is newer than its input, so make and ninja
    have nothing to do.
    """
    steps: list[Step] = []
    sources: list[str] = []
    for index in range(count):
        name = step_name(index, count)
        source = f"src/{name}.txt"
        output = f"out/{name}.txt"
        sources.append(source)
        steps.append(Step(name, f"cp {source} {output}", inputs=(source,), output=output))
    return Graph("noop", tuple(steps), sources=tuple(sources), directories=("out",))


def big(layers: int, width: int, seed: int) -> Graph:
    """Build a layered random DAG of file steps, for the time it takes to read and check it.

    Each step reads its own source and the outputs of the one to three steps
    of the layer before it that it runs after, and writes one output. This
    gives the compiler's ownership and race checks one glob per file.
    """
    rng = random.Random(seed)
    count = layers * width
    steps: list[Step] = []
    sources: list[str] = []
    previous: list[Step] = []
    for layer in range(layers):
        current: list[Step] = []
        for column in range(width):
            name = step_name(layer * width + column, count)
            source = f"src/{name}.c"
            output = f"out/{name}.o"
            dependencies = (
                rng.sample(previous, rng.randint(1, min(3, len(previous)))) if previous else []
            )
            dependencies.sort(key=lambda step: step.name)
            inputs = (source, *(str(dependency.output) for dependency in dependencies))
            step = Step(
                name,
                f"cp {source} {output}",
                after=tuple(dependency.name for dependency in dependencies),
                inputs=inputs,
                output=output,
            )
            sources.append(source)
            current.append(step)
        steps.extend(current)
        previous = current
    return Graph("big", tuple(steps), sources=tuple(sources), directories=("out",))
