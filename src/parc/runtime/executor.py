"""The executor: runs a plan on trio with the scheduler's decisions.

One nursery holds a task per running step and a task that watches signals.
A central loop starts every step the scheduler allows, then waits for a step
to end. It drains every completion that is already queued before it starts
anything new, so steps that end at the same instant are handled together and
the order of starts is repeatable (trio itself would break such ties at
random).
"""

from __future__ import annotations

import logging
import math
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import attrs
import trio

from parc.plan import Plan, PlanStep
from parc.runtime.commands import CommandRunner
from parc.runtime.logs import StepLog
from parc.runtime.process import ExitStatus
from parc.runtime.report import Reporter
from parc.runtime.scheduler import Scheduler, Status, Verdict

logger = logging.getLogger("parc.runtime")

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@attrs.frozen
class StepResult:
    """The end of one step: its verdict, the last command's exit, and timing."""

    step: PlanStep
    verdict: Verdict
    attempts: int = 0
    exit: ExitStatus | None = None
    started: float | None = None
    ended: float | None = None
    log_path: Path | None = None

    @property
    def duration(self) -> float:
        if self.started is None or self.ended is None:
            return 0.0
        return self.ended - self.started


@attrs.frozen
class BuildResult:
    results: Mapping[str, StepResult]
    started: float
    ended: float
    interrupted_by: int | None = None

    @property
    def exit_code(self) -> int:
        """0 on success, 1 when a step failed, 128 + the signal when interrupted."""
        if self.interrupted_by is not None:
            return 128 + self.interrupted_by
        failed = any(result.verdict.status.is_failure for result in self.results.values())
        return 1 if failed else 0

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results.values() if result.verdict.status is status)


LogFactory = Callable[[PlanStep], StepLog]


class StepGate(Protocol):
    """Decides whether a step needs to run, and learns how each step ended.

    The incremental-build state implements it; without a gate every step runs.
    """

    async def check(self, step: PlanStep, dependencies_ran: bool) -> str | None:
        """Return why the step is up to date and can be skipped, or None to run it."""
        ...

    async def record(self, result: StepResult) -> None:
        """Learn how a step that was started ended."""
        ...


@attrs.define
class Options:
    """How to run a plan.

    `jobs` is the number of job slots (None: unlimited). `grace` is the time in
    seconds between forwarding a signal and SIGKILL. `durations` holds the
    recorded durations in seconds that order ready steps.
    """

    jobs: int | None = None
    keep_going: bool = False
    grace: float = 5.0
    durations: Mapping[str, float] = attrs.Factory(dict)
    handle_signals: bool = True
    gate: StepGate | None = None


async def execute(
    plan: Plan,
    runner: CommandRunner,
    reporter: Reporter,
    options: Options,
    open_log: LogFactory | None = None,
) -> BuildResult:
    """Run every step of `plan` and return how each ended."""
    return await _Executor(plan, runner, reporter, options, open_log).run()


class _Executor:
    def __init__(
        self,
        plan: Plan,
        runner: CommandRunner,
        reporter: Reporter,
        options: Options,
        open_log: LogFactory | None,
    ) -> None:
        self.plan = plan
        self.runner = runner
        self.reporter = reporter
        self.options = options
        self.open_log = open_log or (lambda step: StepLog(None))
        self.scheduler = Scheduler(plan, options.jobs, options.keep_going, options.durations)
        self.results: dict[str, StepResult] = {}
        self.ran: set[str] = set()
        self.interrupted_by: int | None = None
        self.killed = False

    async def run(self) -> BuildResult:
        started = trio.current_time()
        self.reporter.build_started(self.plan)
        send, receive = trio.open_memory_channel[StepResult](math.inf)
        async with trio.open_nursery() as nursery:
            if self.options.handle_signals:
                await nursery.start(self._watch_signals)
            while True:
                for step in self.scheduler.start_ready():
                    self.reporter.step_started(step)
                    nursery.start_soon(self._run_step, step, send)
                if self.scheduler.done():
                    break
                self._finished(await receive.receive())
                while True:
                    try:
                        result = receive.receive_nowait()
                    except trio.WouldBlock:
                        break
                    self._finished(result)
            nursery.cancel_scope.cancel()

        for name, verdict in self.scheduler.close().items():
            if name not in self.results:
                self.results[name] = StepResult(self.plan.by_name[name], verdict)
        ordered = {step.name: self.results[step.name] for step in self.plan.steps}
        build = BuildResult(ordered, started, trio.current_time(), self.interrupted_by)
        self.reporter.build_finished(build)
        return build

    def _finished(self, result: StepResult) -> None:
        self.results[result.step.name] = result
        blocked = self.scheduler.finish(result.step.name, result.verdict)
        for name in blocked:
            self.results[name] = StepResult(self.plan.by_name[name], self.scheduler.verdicts[name])
        self.reporter.step_finished(result, blocked)

    async def _run_step(self, step: PlanStep, send: trio.MemorySendChannel[StepResult]) -> None:
        gate = self.options.gate
        if gate is not None:
            dependencies_ran = any(name in self.ran for name in step.after)
            reason = await gate.check(step, dependencies_ran)
            if reason is not None:
                now = trio.current_time()
                skipped = Verdict(Status.UP_TO_DATE, reason)
                send.send_nowait(StepResult(step, skipped, 0, None, now, now))
                return
        self.ran.add(step.name)
        log = self.open_log(step)
        started = trio.current_time()
        total = step.retries + 1
        status: ExitStatus | None = None
        verdict = Verdict(Status.SUCCEEDED)
        attempt = 0
        try:
            for attempt in range(1, total + 1):
                if attempt > 1:
                    log.note(f"parc: attempt {attempt} of {total}")
                    self.reporter.step_retrying(step, attempt, total)
                status, verdict = await self._attempt(step, log)
                if verdict.status is Status.SUCCEEDED or self.interrupted_by is not None:
                    break
                if status is not None and status.returncode is None:
                    break  # retrying cannot create a missing directory
        finally:
            log.close()
        result = StepResult(step, verdict, attempt, status, started, trio.current_time(), log.path)
        if gate is not None:
            await gate.record(result)
        send.send_nowait(result)

    async def _attempt(self, step: PlanStep, log: StepLog) -> tuple[ExitStatus | None, Verdict]:
        """Run every command of one attempt, within the step's timeout."""
        status: ExitStatus | None = None
        completed = False
        deadline = trio.current_time() + step.timeout if step.timeout is not None else math.inf
        attempt_start = trio.current_time()
        with trio.move_on_at(deadline) as scope:
            for command in step.commands:
                if self.interrupted_by is not None:
                    break
                status = await self.runner.run(command, step, log)
                if not status.ok:
                    break
            else:
                completed = True

        if scope.cancelled_caught:
            elapsed = trio.current_time() - attempt_start
            return status, Verdict(Status.TIMED_OUT, f"timed out after {elapsed:.1f}s")
        if completed:
            return status, Verdict(Status.SUCCEEDED)
        if self.interrupted_by is not None:
            name = signal.Signals(self.interrupted_by).name
            return status, Verdict(Status.CANCELLED, f"interrupted by {name}")
        assert status is not None
        if status.start_error is not None:
            return status, Verdict(Status.NOT_STARTED, status.start_error)
        return status, Verdict(Status.FAILED, status.describe())

    async def _watch_signals(
        self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Forward SIGINT, SIGTERM and SIGHUP to every running command.

        The first signal stops new starts and is forwarded; SIGKILL follows
        after the grace period. A second signal kills at once.
        """
        with trio.open_signal_receiver(*HANDLED_SIGNALS) as signals:
            task_status.started()
            async with trio.open_nursery() as nursery:
                async for signum in signals:
                    if self.interrupted_by is None:
                        self.interrupted_by = signum
                        name = signal.Signals(signum).name
                        self.scheduler.stop(f"parc was interrupted by {name}")
                        self.reporter.interrupted(signum, sorted(self.scheduler.running))
                        self.runner.signal_all(signum)
                        nursery.start_soon(self._kill_after_grace)
                    else:
                        self._kill_now()

    async def _kill_after_grace(self) -> None:
        await trio.sleep(self.options.grace)
        self._kill_now()

    def _kill_now(self) -> None:
        if not self.killed:
            self.killed = True
            logger.debug("sending SIGKILL to every running command")
        self.runner.signal_all(signal.SIGKILL)
