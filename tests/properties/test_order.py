"""The benchmark graph in virtual time: what each order gives at -j 2, exactly."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import trio
import trio.testing

from parc.compiler import compile_file
from parc.plan import Plan, PlanStep
from parc.runtime.executor import BuildResult, Options, execute
from parc.runtime.logs import StepLog
from parc.runtime.process import ExitStatus
from parc.runtime.report import NullReporter
from parc.runtime.scheduler import Order

SPEC = Path(__file__).resolve().parents[2] / "bench" / "order" / "build.par"


class SleepCounter:
    """Takes one tick of virtual time per `sleep` in the command."""

    async def run(self, command: str, step: PlanStep, log: StepLog, rank: int = 0) -> ExitStatus:
        await trio.sleep(command.count("sleep "))
        return ExitStatus(0)

    def signal_all(self, signum: int) -> None:
        pass


def run_virtual(plan: Plan, order: Order, durations: Mapping[str, float]) -> BuildResult:
    options = Options(jobs=2, order=order, durations=durations, handle_signals=False)

    async def main() -> BuildResult:
        return await execute(plan, SleepCounter(), NullReporter(), options)

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def test_recorded_durations_beat_first_come_order() -> None:
    plan = compile_file(SPEC).plan
    first_come = run_virtual(plan, Order.FIRST_COME, {})
    recorded = {name: result.duration for name, result in first_come.results.items()}
    unweighted = run_virtual(plan, Order.CRITICAL_PATH, {})
    weighted = run_virtual(plan, Order.CRITICAL_PATH, recorded)

    assert first_come.ended - first_come.started == 12
    assert unweighted.ended - unweighted.started == 11
    assert weighted.ended - weighted.started == 10  # the chain alone takes 8; 20 units / 2 slots

    starts = {name: result.started for name, result in weighted.results.items()}
    assert starts["chain1"] == starts["big"] == 0
    assert [starts[f"chain{i}"] for i in range(1, 5)] == [0, 2, 4, 6]
