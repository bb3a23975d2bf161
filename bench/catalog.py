"""The benchmarks: each shape at its size, the tools compared on it, and the targets.

To add a benchmark, write a function that takes `Settings` and returns
`Benchmark`s, and append it to `FACTORIES`; `python -m bench run` then runs
it with the others and reports its targets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs

from bench import shapes
from bench.suite import CRITICAL_PATH, Benchmark, Comparison, MemoryTarget, Target, Tool
from bench.timing import BenchError, run_checked

MAKE = "/usr/bin/make"
NINJA = "/usr/bin/ninja"

DAG_SEED = 7
BIG_SEED = 11
MEGABYTE = 1024 * 1024


@attrs.frozen
class Settings:
    """What every benchmark factory may depend on.

    `parc` is the command that runs parc, such as the venv's `parc` script.
    `quick` asks for a run of a few minutes: fewer rounds, and smaller graphs
    where the full size takes long.
    """

    parc: tuple[str, ...]
    quick: bool = False

    def rounds(self, full: int) -> int:
        return min(full, 3) if self.quick else full


def _parc(settings: Settings, *arguments: str) -> tuple[str, ...]:
    return (*settings.parc, *arguments)


def _two_jobs(settings: Settings) -> tuple[Tool, ...]:
    """Return parc, ninja and make, each building with 2 job slots."""
    return (
        Tool("parc", _parc(settings, "build", "-j", "2")),
        Tool("ninja", (NINJA, "-j", "2")),
        Tool("make", (MAKE, "-j", "2")),
    )


def wide(settings: Settings) -> list[Benchmark]:
    count = 1000
    tools = _two_jobs(settings)
    comparison = Comparison("-j 2", tools, targets=(Target("parc", "ninja", 1.0),))
    return [
        Benchmark(
            "wide",
            f"{count:,} independent `true` steps and a join step that runs after all of them",
            lambda: shapes.wide(count),
            (comparison,),
            runs=settings.rounds(10),
        )
    ]


def chain(settings: Settings) -> list[Benchmark]:
    count = 500
    tools = _two_jobs(settings)
    return [
        Benchmark(
            "chain",
            f"A chain of {count} `true` steps, each after the one before: "
            "the cost of one step's turn-around",
            lambda: shapes.chain(count),
            (Comparison("-j 2", tools),),
            runs=settings.rounds(10),
        )
    ]


def dag(settings: Settings) -> list[Benchmark]:
    layers, width = 10, 20
    unlimited = Comparison(
        "unlimited jobs",
        (
            Tool("parc", _parc(settings, "build", "-j", "0")),
            Tool("ninja", (NINJA, "-j", "0")),
            Tool("make", (MAKE, "-j")),
        ),
        targets=(Target("parc", CRITICAL_PATH, 1.03),),
    )
    eight = Comparison(
        "-j 8, second build",
        (
            Tool("parc", _parc(settings, "build", "-j", "8")),
            Tool("make", (MAKE, "-j", "8")),
            Tool("ninja", (NINJA, "-j", "8")),
        ),
        targets=(Target("parc", "make", 0.95),),
        note=(
            "every round follows earlier builds, so parc orders ready steps by the durations "
            "it recorded in them"
        ),
    )
    return [
        Benchmark(
            "dag",
            f"A layered random DAG of {layers * width} `sleep` steps "
            f"({layers} layers of {width}, seed {DAG_SEED})",
            lambda: shapes.dag(layers, width, DAG_SEED),
            (unlimited, eight),
            runs=settings.rounds(10),
        )
    ]


def verify_up_to_date(directory: Path) -> None:
    """Raise BenchError unless make and ninja both find nothing to do in `directory`."""
    try:
        run_checked((MAKE, "-q"), directory)
    except BenchError:
        message = f"`make -q` in {directory} finds out-of-date targets after the warm-up"
        raise BenchError(message) from None
    output = run_checked((NINJA, "-n"), directory)
    if "no work to do" not in output:
        message = f"`ninja -n` in {directory} finds work after the warm-up:\n{output[-2000:]}"
        raise BenchError(message)


def noop(settings: Settings) -> list[Benchmark]:
    count = 1000 if settings.quick else 5000
    tools = (
        Tool("parc", _parc(settings, "build", "-j", "2")),
        Tool("make", (MAKE, "-j", "2")),
        Tool("ninja", (NINJA, "-j", "2")),
        Tool("make -r", (MAKE, "-r", "-j", "2")),
    )
    comparison = Comparison(
        "everything up to date",
        tools,
        targets=(Target("parc", "make", 1.0), Target("parc", "ninja", 3.0)),
        warmups=2,
        verify=verify_up_to_date,
    )
    return [
        Benchmark(
            "noop",
            f"{count:,} file steps that each copy one source file, all up to date",
            lambda: shapes.noop(count),
            (comparison,),
            runs=settings.rounds(5),
        )
    ]


def big(settings: Settings) -> list[Benchmark]:
    layers, width = (20, 100) if settings.quick else (100, 100)
    others = (Tool("make -n", (MAKE, "-n")), Tool("ninja -n", (NINJA, "-n")))
    cold = Comparison(
        "from scratch",
        (Tool("parc check", _parc(settings, "check"), prepare=("rm", "-rf", ".parc")), *others),
        targets=(Target("parc check", "make -n", 4.0),),
        memory_targets=(MemoryTarget("parc check", 200 * MEGABYTE),),
        note="`.parc/` is removed before every parc run",
    )
    warm = Comparison(
        "nothing changed since the last check",
        (Tool("parc check", _parc(settings, "check")), *others),
        targets=(Target("parc check", "make -n", 1.0),),
    )
    return [
        Benchmark(
            "big",
            f"{layers * width:,} file steps in {layers} layers of {width} (seed {BIG_SEED}), "
            "each reading its source and the outputs it runs after: compile time only",
            lambda: shapes.big(layers, width, BIG_SEED),
            (cold, warm),
            runs=settings.rounds(5),
        )
    ]


FACTORIES: list[Callable[[Settings], list[Benchmark]]] = [wide, chain, dag, noop, big]


def all_benchmarks(settings: Settings) -> list[Benchmark]:
    return [benchmark for factory in FACTORIES for benchmark in factory(settings)]
