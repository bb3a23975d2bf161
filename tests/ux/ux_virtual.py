"""Builds on trio's virtual clock, with scripted commands, for output compared byte for byte.

A scripted command is `sleep N; echo TEXT; exit CODE`-like data: it writes its
lines to the step's log, sleeps whole ticks of virtual time and exits with its
code. Times are exact, so a reporter's output can be compared as bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import attrs
import trio
import trio.testing

from parc.plan import Plan, PlanStep
from parc.runtime.executor import BuildResult, Options, execute
from parc.runtime.logs import StepLog
from parc.runtime.output import DirectOutput
from parc.runtime.process import ExitStatus
from parc.runtime.report import Reporter


@attrs.frozen
class Script:
    """What a step's one command does: print `lines`, take `ticks` seconds, exit with `code`."""

    lines: tuple[str, ...] = ()
    ticks: int = 1
    code: int = 0


class ScriptRunner:
    def __init__(self, scripts: Mapping[str, Script]) -> None:
        self.scripts = scripts

    async def run(self, command: str, step: PlanStep, log: StepLog, rank: int = 0) -> ExitStatus:
        script = self.scripts[step.name]
        for line in script.lines:
            log.write(f"{line}\n".encode())
        await trio.sleep(script.ticks)
        return ExitStatus(script.code)

    def signal_all(self, signum: int) -> None:
        pass


def run_virtual(
    plan: Plan, scripts: Mapping[str, Script], reporter: Reporter, logs: Path, jobs: int = 2
) -> BuildResult:
    """Run `plan` on virtual time with real log files under `logs`."""
    options = Options(jobs=jobs, handle_signals=False, heartbeat=None)

    def open_log(step: PlanStep) -> StepLog:
        def forward(data: bytes) -> None:
            reporter.step_output(step, data)

        return StepLog(logs / f"{step.name}.log", on_output=forward)

    async def main() -> BuildResult:
        return await execute(plan, ScriptRunner(scripts), reporter, options, open_log)

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def sink() -> tuple[DirectOutput, io.BytesIO]:
    buffer = io.BytesIO()
    return DirectOutput(buffer), buffer
