"""Benchmarks, the comparisons run on them, and the runner that times them.

A `Benchmark` is one generated graph; each of its `Comparison`s times a few
tools on that graph, pair by pair: every round runs each tool once, in a fixed
order (A B C A B C ...), so slow drifts in machine load hit every tool alike.
Ratios are taken within a round and summarised by their median, which is the
number the targets are checked against.
"""

from __future__ import annotations

import logging
import os
import shlex
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from bench.graph import Graph
from bench.timing import Timing, peak_memory, run_checked, time_once
from bench.writers import materialize

logger = logging.getLogger("bench")

CRITICAL_PATH = "critical path"
"""The denominator of a ratio against the graph's designed critical path."""


@attrs.frozen
class Tool:
    """A command timed in a comparison.

    `prepare` runs, untimed, before every run of the command (warm-up runs
    included), for example to remove a cache for a cold start.
    """

    label: str
    argv: tuple[str, ...]
    prepare: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        """The command as the report shows it: the program's file name, then its arguments."""
        return shlex.join([Path(self.argv[0]).name, *self.argv[1:]])


@attrs.frozen
class Target:
    """A goal: the median per-round ratio of `numerator` to `denominator` is at most `limit`.

    Both name tools of the comparison; `denominator` may be `CRITICAL_PATH`.
    """

    numerator: str
    denominator: str
    limit: float


@attrs.frozen
class MemoryTarget:
    """A goal: the peak resident set of `tool` is at most `limit` bytes."""

    tool: str
    limit: int


@attrs.frozen
class Comparison:
    """Tools timed pair by pair on the graph of one benchmark.

    The first tool is the subject: the report gives its ratio to every other
    tool. `warmups` untimed rounds run first; the last one is also where
    peak memory is measured, under the same conditions as the timed runs.
    `verify` runs after the warm-up and raises `BenchError` if the graph is
    not in the state the comparison means to measure.
    """

    name: str
    tools: tuple[Tool, ...]
    targets: tuple[Target, ...] = ()
    memory_targets: tuple[MemoryTarget, ...] = ()
    warmups: int = 1
    verify: Callable[[Path], None] | None = None
    note: str = ""


@attrs.frozen
class Benchmark:
    """A generated graph and the comparisons run on it.

    `runs` is the number of timed rounds of each comparison.
    """

    name: str
    description: str
    generate: Callable[[], Graph]
    comparisons: tuple[Comparison, ...]
    runs: int


# Results.


@attrs.frozen
class ToolResult:
    label: str
    command: str
    argv: tuple[str, ...]
    timings: tuple[Timing, ...]
    peak_rss: int

    @property
    def walls(self) -> list[float]:
        return [timing.wall for timing in self.timings]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu_median(self) -> float:
        return statistics.median(timing.cpu for timing in self.timings)


@attrs.frozen
class RatioResult:
    """The ratios of one pair of tools, one per round, and the target's limit if any."""

    numerator: str
    denominator: str
    ratios: tuple[float, ...]
    limit: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def met(self) -> bool | None:
        return None if self.limit is None else self.median <= self.limit


@attrs.frozen
class MemoryResult:
    tool: str
    peak_rss: int
    limit: int

    @property
    def met(self) -> bool:
        return self.peak_rss <= self.limit


@attrs.frozen
class ComparisonResult:
    benchmark: str
    name: str
    steps: int
    runs: int
    critical_path: float | None
    tools: tuple[ToolResult, ...]
    ratios: tuple[RatioResult, ...]
    memory: tuple[MemoryResult, ...]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    note: str = ""

    def ratio(self, numerator: str, denominator: str) -> RatioResult:
        for result in self.ratios:
            if (result.numerator, result.denominator) == (numerator, denominator):
                return result
        raise KeyError(f"{numerator} / {denominator}")


# The runner.


def run_benchmark(
    benchmark: Benchmark, workdir: Path, runs: int | None = None
) -> list[ComparisonResult]:
    """Generate the benchmark's graph under `workdir` and run each of its comparisons.

    `runs` overrides the benchmark's number of timed rounds.

    Raises:
        BenchError: a tool is missing, a command failed or a check failed.
    """
    graph = benchmark.generate()
    directory = workdir / benchmark.name
    logger.info("%s: writing %d steps to %s", benchmark.name, len(graph.steps), directory)
    materialize(graph, directory)
    rounds = runs if runs is not None else benchmark.runs
    return [
        _run_comparison(benchmark.name, comparison, graph, directory, rounds)
        for comparison in benchmark.comparisons
    ]


def _prepare(tool: Tool, directory: Path) -> None:
    if tool.prepare:
        run_checked(tool.prepare, directory)


def _run_comparison(
    benchmark: str, comparison: Comparison, graph: Graph, directory: Path, rounds: int
) -> ComparisonResult:
    # Phases: warm-up rounds (the last one measures memory), the check that
    # the graph is in the intended state, the timed rounds, then ratios.
    title = f"{benchmark}: {comparison.name}"
    load_before = os.getloadavg()
    memory: dict[str, int] = {}
    for warmup in range(comparison.warmups):
        for tool in comparison.tools:
            logger.info("%s: warm-up %d, %s", title, warmup + 1, tool.command)
            _prepare(tool, directory)
            memory[tool.label] = peak_memory(tool.argv, directory)
    if comparison.verify is not None:
        comparison.verify(directory)

    timings: dict[str, list[Timing]] = {tool.label: [] for tool in comparison.tools}
    for number in range(rounds):
        for tool in comparison.tools:
            _prepare(tool, directory)
            timing = time_once(tool.argv, directory)
            timings[tool.label].append(timing)
            logger.info("%s: round %d, %s: %.3f s", title, number + 1, tool.label, timing.wall)
    for tool in comparison.tools:
        if tool.label not in memory:
            memory[tool.label] = peak_memory(tool.argv, directory)

    tools = tuple(
        ToolResult(
            tool.label, tool.command, tool.argv, tuple(timings[tool.label]), memory[tool.label]
        )
        for tool in comparison.tools
    )
    critical_path = graph.critical_path() or None
    return ComparisonResult(
        benchmark=benchmark,
        name=comparison.name,
        steps=len(graph.steps),
        runs=rounds,
        critical_path=critical_path,
        tools=tools,
        ratios=tuple(_ratios(comparison, timings, critical_path)),
        memory=tuple(
            MemoryResult(goal.tool, memory[goal.tool], goal.limit)
            for goal in comparison.memory_targets
        ),
        load_before=load_before,
        load_after=os.getloadavg(),
        note=comparison.note,
    )


def _ratios(
    comparison: Comparison, timings: dict[str, list[Timing]], critical_path: float | None
) -> list[RatioResult]:
    """Return the subject's ratio to every other tool, each tool's ratio to the
    critical path when the graph has one, and every targeted ratio."""
    subject = comparison.tools[0].label
    pairs: list[tuple[str, str]] = [(subject, tool.label) for tool in comparison.tools[1:]]
    if critical_path is not None:
        pairs += [(tool.label, CRITICAL_PATH) for tool in comparison.tools]
    for target in comparison.targets:
        if (target.numerator, target.denominator) not in pairs:
            pairs.append((target.numerator, target.denominator))
    limits = {(target.numerator, target.denominator): target.limit for target in comparison.targets}

    results: list[RatioResult] = []
    for numerator, denominator in pairs:
        tops = [timing.wall for timing in timings[numerator]]
        if denominator == CRITICAL_PATH:
            assert critical_path is not None, "a critical-path target needs sleep durations"
            bottoms = [critical_path] * len(tops)
        else:
            bottoms = [timing.wall for timing in timings[denominator]]
        ratios = tuple(top / bottom for top, bottom in zip(tops, bottoms, strict=True))
        limit = limits.get((numerator, denominator))
        results.append(RatioResult(numerator, denominator, ratios, limit))
    return results


def run_all(
    benchmarks: Sequence[Benchmark], workdir: Path, runs: int | None = None
) -> list[ComparisonResult]:
    results: list[ComparisonResult] = []
    for benchmark in benchmarks:
        results.extend(run_benchmark(benchmark, workdir, runs))
    return results
