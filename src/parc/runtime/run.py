"""`run_plan`: run a plan on trio with real processes and a display."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import trio

from parc.plan import Plan, PlanStep
from parc.runtime import logs_directory
from parc.runtime.commands import ProcessRunner
from parc.runtime.executor import BuildResult, Options, execute
from parc.runtime.interrupts import SignalGuard, guard_signals, pause_for_tests, with_late_signal
from parc.runtime.logs import StepLog
from parc.runtime.output import ThreadedOutput
from parc.runtime.process import set_child_subreaper
from parc.runtime.progress import Display, Progress, open_display
from parc.runtime.report import OutputMode, Reporter


def run_plan(
    plan: Plan,
    options: Options,
    out: BinaryIO,
    mode: OutputMode = OutputMode.GROUPED,
    color: bool = False,
    reporter: Reporter | None = None,
    progress: Progress = Progress.PLAIN,
) -> BuildResult:
    """Run `plan` with real processes and report to `out`; return how each step ended.

    Every byte of the report is written and flushed to `out` before this
    returns. `progress` chooses the display (`auto` is not accepted here:
    resolve it first). `reporter` replaces the display; it then gets no
    output stream of its own.
    """
    if not options.handle_signals:
        return trio.run(_run_plan, plan, options, out, mode, color, reporter, progress, None)

    # The guard is installed before trio.run, which then leaves SIGINT to
    # it instead of raising KeyboardInterrupt wherever the signal lands.
    with guard_signals() as guard:
        if guard is not None:
            guard.arm()
        build = trio.run(_run_plan, plan, options, out, mode, color, reporter, progress, guard)
        pause_for_tests("finished")
        late = with_late_signal(build)
        assert late is not None
        return late


async def _run_plan(
    plan: Plan,
    options: Options,
    out: BinaryIO,
    mode: OutputMode,
    color: bool,
    reporter: Reporter | None,
    progress: Progress,
    guard: SignalGuard | None,
) -> BuildResult:
    root = Path(plan.root)
    runner = ProcessRunner(root, dict(os.environ), options.grace)
    if guard is not None:
        # From the second signal on, whatever still runs gets SIGKILL at
        # once, also after the executor has stopped listening.
        guard.on_repeat.append(runner.kill_now)
    output = ThreadedOutput(out)
    display: Display | None = None
    if reporter is None:
        display = open_display(progress, output, out, plan, options, mode, color)
        reporter = display.reporter
    active = reporter
    wait_room = display.wait_room if display is not None else output.wait_room

    logs = logs_directory(root)

    def open_log(step: PlanStep) -> StepLog:
        def forward(data: bytes) -> None:
            active.step_output(step, data)

        return StepLog(logs / f"{step.name}.log", on_output=forward, wait_room=wait_room)

    was_subreaper = set_child_subreaper(True)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(output.run)
            if display is not None:
                await nursery.start(display.run)
            try:
                return await execute(plan, runner, active, options, open_log)
            finally:
                pause_for_tests("executor")
                await runner.close()
                pause_for_tests("display")
                if display is not None:
                    display.close()
                pause_for_tests("drain")
                with trio.CancelScope(shield=True):
                    await output.drain()
                nursery.cancel_scope.cancel()
    finally:
        set_child_subreaper(was_subreaper)
        if guard is not None:
            guard.on_repeat.remove(runner.kill_now)
