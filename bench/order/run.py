"""Measure what longest-remaining-path order gains over first-come order at -j 2.

Runs the graph in `build.par` three ways, with real processes:

- first-come: ready steps start in the order they became ready (spec order
  among steps that became ready together), as a plain queue would;
- critical path without records: longest remaining path first, every step
  weighted the same because no duration has been recorded yet;
- critical path with records: the same, weighted by the durations that the
  first-come run measured, as a second build would be.

For each, it also computes the makespan in virtual time (trio's MockClock,
fake commands that take exactly their planned time), which is what the
wall-clock numbers approach on an idle machine.

Usage: python bench/order/run.py [--jobs 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Mapping
from pathlib import Path

import trio
import trio.testing

from parc.compiler import compile_file
from parc.plan import Plan, PlanStep
from parc.runtime import Options, Order, run_plan
from parc.runtime.executor import execute
from parc.runtime.logs import StepLog
from parc.runtime.process import ExitStatus
from parc.runtime.report import NullReporter

SPEC = Path(__file__).resolve().parent / "build.par"


class PlannedRunner:
    """Fake commands that sleep, in virtual time, as long as the real ones would."""

    def __init__(self, unit: float) -> None:
        self.unit = unit

    async def run(self, command: str, step: PlanStep, log: StepLog, rank: int = 0) -> ExitStatus:
        await trio.sleep(command.count("sleep ") * self.unit)
        return ExitStatus(0)

    def signal_all(self, signum: int) -> None:
        pass


def virtual_makespan(
    plan: Plan, jobs: int, order: Order, durations: Mapping[str, float], unit: float
) -> float:
    options = Options(jobs=jobs, order=order, durations=durations, handle_signals=False)

    async def main() -> float:
        result = await execute(plan, PlannedRunner(unit), NullReporter(), options)
        return result.ended - result.started

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def real_makespan(
    plan: Plan, jobs: int, order: Order, durations: Mapping[str, float]
) -> tuple[float, dict[str, float]]:
    """Run the plan for real; return the wall time and each step's measured duration."""
    options = Options(jobs=jobs, order=order, durations=durations)
    with open(os.devnull, "wb") as sink:
        result = run_plan(plan, options, sink)
    if result.exit_code != 0:
        raise SystemExit(f"the benchmark build failed with exit code {result.exit_code}")
    measured = {name: step.duration for name, step in result.results.items()}
    return result.ended - result.started, measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="job slots [default: 2]")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each order [default: 3]")
    arguments = parser.parse_args()

    plan = compile_file(SPEC).plan
    unit = float(next(step.commands[0].split()[1] for step in plan.steps))

    first_come = [real_makespan(plan, arguments.jobs, Order.FIRST_COME, {})]
    recorded = first_come[0][1]
    first_come += [
        real_makespan(plan, arguments.jobs, Order.FIRST_COME, {})
        for _ in range(arguments.repeat - 1)
    ]
    rows = [
        ("first-come", Order.FIRST_COME, {}, [seconds for seconds, _ in first_come]),
        ("critical path, no records", Order.CRITICAL_PATH, {}, []),
        ("critical path, recorded durations", Order.CRITICAL_PATH, recorded, []),
    ]
    for _, order, durations, times in rows[1:]:
        times.extend(
            real_makespan(plan, arguments.jobs, order, durations)[0]
            for _ in range(arguments.repeat)
        )

    print(f"{SPEC.name}: {len(plan.steps)} steps, -j {arguments.jobs}, unit {unit}s")
    print()
    print("| order | virtual makespan | wall time, median of runs | runs |")
    print("| --- | --- | --- | --- |")
    for label, order, durations, times in rows:
        planned = virtual_makespan(plan, arguments.jobs, order, durations, unit)
        print(
            f"| {label} | {planned:.2f}s | {statistics.median(times):.2f}s | "
            f"{', '.join(f'{t:.2f}' for t in times)} |"
        )


if __name__ == "__main__":
    main()
