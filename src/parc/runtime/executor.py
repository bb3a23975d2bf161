"""The executor: runs a plan on trio with the scheduler's decisions.

One nursery holds a task per running step, a task that watches signals and
a task that reports steps that run long. A central loop starts every step
the scheduler allows, then waits for a step to end. It drains every
completion that is already queued before it starts anything new, so steps
that end at the same instant are handled together and the order of starts
is repeatable (trio itself would break such ties at random).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import math
import signal
from collections.abc import AsyncIterable, Callable, Collection, Mapping
from pathlib import Path
from typing import Protocol

import attrs
import trio

from parc.plan import Plan, PlanStep
from parc.runtime.commands import CommandRunner
from parc.runtime.interrupts import HANDLED_SIGNALS, active_guard
from parc.runtime.logs import StepLog
from parc.runtime.process import ExitStatus, signal_name
from parc.runtime.report import Reporter, attempt_label, format_seconds
from parc.runtime.scheduler import Order, Scheduler, Status, Verdict

logger = logging.getLogger("parc.runtime")


@attrs.frozen
class StepResult:
    """The end of one step: its verdict, the last command's exit, and timing.

    `attempts` counts the attempts that ran (0 for a step that never ran).
    `started` and `ended` are trio clock times. `slot` is the job slot the
    step held, numbered from 0, or None for a step that never started.
    """

    step: PlanStep
    verdict: Verdict
    attempts: int = 0
    exit: ExitStatus | None = None
    started: float | None = None
    ended: float | None = None
    log_path: Path | None = None
    slot: int | None = None

    @property
    def duration(self) -> float:
        if self.started is None or self.ended is None:
            return 0.0
        return self.ended - self.started


@attrs.frozen
class BuildResult:
    """The outcome of every step of the plan, in spec order, and of the whole build."""

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


@attrs.define
class _TimeoutNotice:
    """Whether the reporter has heard that one attempt timed out."""

    step: PlanStep
    attempt: int
    begun: float
    reported: bool = False
    scope: trio.CancelScope = attrs.Factory(trio.CancelScope)


class StepGate(Protocol):
    """Decides whether a step needs to run, and learns how each step ended.

    The incremental-build state implements it; without a gate every step runs.
    """

    async def check(self, step: PlanStep, dependencies_ran: bool) -> str | None:
        """Return why the step is up to date and can be skipped, or None to run it."""
        ...

    async def record(self, result: StepResult) -> None:
        """Learn how a step that was started ended; it may be stored only at `flush`."""
        ...

    def flush(self) -> None:
        """Store what `record` learned.

        The executor calls it after every group of ends, once it has started
        the steps that those ends made ready.
        """
        ...


@attrs.define
class Options:
    """How to run a plan.

    `jobs` is the number of job slots (None: unlimited). `grace` is the time
    in seconds between forwarding a signal and SIGKILL. `durations` holds the
    recorded durations in seconds that order ready steps. `requested` names
    the steps to run with every dependency (None: all); the others end as not
    requested. `heartbeat` is the time in seconds without a step starting or
    ending after which the reporter hears which steps still run (None: never).
    """

    jobs: int | None = None
    keep_going: bool = False
    grace: float = 5.0
    durations: Mapping[str, float] = attrs.Factory(dict)
    handle_signals: bool = True
    gate: StepGate | None = None
    requested: Collection[str] | None = None
    order: Order = Order.CRITICAL_PATH
    heartbeat: float | None = None


async def execute(
    plan: Plan,
    runner: CommandRunner,
    reporter: Reporter,
    options: Options,
    open_log: LogFactory | None = None,
    interrupts: trio.abc.ReceiveChannel[int] | None = None,
) -> BuildResult:
    """Run the requested steps of `plan` and return how each step ended.

    Args:
        plan: the steps to run.
        runner: runs one command of a step.
        reporter: hears every event of the build.
        options: slots, keep-going, grace, order and the gate.
        open_log: opens the log of a step that is about to run.
        interrupts: signal numbers to act on as if they were received. When
            it is None and `options.handle_signals` is set, parc handles the
            real SIGINT, SIGTERM and SIGHUP.

    Returns:
        One result per step of the plan, in spec order.
    """
    executor = _Executor(plan, runner, reporter, options, open_log)
    return await executor.run(interrupts)


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
        self.scheduler = Scheduler(
            plan,
            options.jobs,
            options.keep_going,
            options.durations,
            options.requested,
            options.order,
        )
        self.results: dict[str, StepResult] = {}
        self.ran: set[str] = set()
        self.start_times: dict[str, float] = {}
        self.slots: dict[str, int] = {}
        self.released_slots: list[int] = []  # a heap
        self.ranks = itertools.count()
        """Numbers the steps in the order they start, which orders the starts of their commands."""
        self.last_activity = 0.0
        self.interrupted_by: int | None = None
        self.killed = False
        self.nursery: trio.Nursery | None = None

    async def run(self, interrupts: trio.abc.ReceiveChannel[int] | None) -> BuildResult:
        started = trio.current_time()
        self.last_activity = started
        total = sum(1 for step in self.plan.steps if step.name not in self.scheduler.verdicts)
        self.reporter.build_started(self.plan, total)
        send, receive = trio.open_memory_channel[StepResult](math.inf)

        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            if interrupts is not None:
                await nursery.start(self._watch_signals, interrupts)
            elif self.options.handle_signals:
                await nursery.start(self._watch_real_signals)
            if self.options.heartbeat:
                nursery.start_soon(self._heartbeat, self.options.heartbeat)

            gate = self.options.gate
            while True:
                for step in self.scheduler.start_ready():
                    self.start_times[step.name] = trio.current_time()
                    self.last_activity = trio.current_time()
                    slot = self._free_slot()
                    self.slots[step.name] = slot
                    nursery.start_soon(self._run_step, step, slot, next(self.ranks), send)
                # A parc killed before this commit loses only the ends
                # handled above, and their steps run again in the next build.
                if gate is not None:
                    gate.flush()
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
        name = result.step.name
        self.last_activity = trio.current_time()
        self.start_times.pop(name, None)
        slot = self.slots.pop(name, None)
        if slot is not None:
            heapq.heappush(self.released_slots, slot)
        self.results[name] = result
        was_stopping = self.scheduler.stopping
        blocked = self.scheduler.finish(name, result.verdict)
        for blocked_name in blocked:
            self.results[blocked_name] = StepResult(
                self.plan.by_name[blocked_name], self.scheduler.verdicts[blocked_name]
            )
        self.reporter.step_finished(result, blocked)

        # Say once that a failure stopped the build, if that changes anything.
        stopped = self.scheduler.stopped_reason
        if not was_stopping and stopped is not None and self.interrupted_by is None:
            unfinished = [n for n in self.plan.by_name if n not in self.scheduler.verdicts]
            if unfinished:
                self.reporter.build_stopping(stopped, self._running_names())

    def _free_slot(self) -> int:
        """Take the lowest job slot number that no running step holds."""
        if self.released_slots:
            return heapq.heappop(self.released_slots)
        return len(self.slots)

    # One step.

    async def _run_step(
        self, step: PlanStep, slot: int, rank: int, send: trio.MemorySendChannel[StepResult]
    ) -> None:
        gate = self.options.gate
        if gate is not None:
            dependencies_ran = any(name in self.ran for name in step.after)
            reason = await gate.check(step, dependencies_ran)
            if reason is not None:
                now = trio.current_time()
                skipped = Verdict(Status.UP_TO_DATE, reason)
                send.send_nowait(StepResult(step, skipped, 0, None, now, now, slot=slot))
                return

        self.ran.add(step.name)
        log = self.open_log(step)
        self.reporter.step_started(step, log.path)
        started = trio.current_time()
        status: ExitStatus | None = None
        verdict = Verdict(Status.SUCCEEDED)
        attempt = 0
        try:
            while attempt <= step.retries and self.interrupted_by is None:
                attempt += 1
                if step.retries:
                    log.note(f"parc: {attempt_label(attempt, step)}")
                if attempt > 1:
                    self.reporter.step_retrying(step, attempt, verdict)
                status, verdict = await self._attempt(step, attempt, log, rank)
                if verdict.status not in (Status.FAILED, Status.TIMED_OUT):
                    break  # success, cancelled, or a command that cannot start
        finally:
            log.close()
        if attempt == 0:  # interrupted before its first command
            verdict = Verdict(Status.CANCELLED, self._interrupt_reason())

        result = StepResult(
            step, verdict, attempt, status, started, trio.current_time(), log.path, slot
        )
        if gate is not None:
            await gate.record(result)
        send.send_nowait(result)

    async def _attempt(
        self, step: PlanStep, attempt: int, log: StepLog, rank: int
    ) -> tuple[ExitStatus | None, Verdict]:
        """Run every command of one attempt, within the step's timeout.

        An attempt times out when its commands have not all ended before the
        timeout has passed. The deadline belongs to the cancel scope around
        the commands, so a timeout ends the attempt within this task, in the
        same scheduling batch as anything else that ends at that instant.
        """
        status: ExitStatus | None = None
        notice: _TimeoutNotice | None = None
        deadline = math.inf
        scope: trio.CancelScope | contextlib.nullcontext[None] = contextlib.nullcontext()
        if step.timeout is not None:
            # Only a step with a timeout pays for the scope and the task that
            # reports the timeout at once.
            begun = trio.current_time()
            deadline = begun + step.timeout
            notice = _TimeoutNotice(step, attempt, begun)
            assert self.nursery is not None
            self.nursery.start_soon(self._notice_timeout, notice, deadline)
            scope = trio.CancelScope(deadline=deadline)
        completed = False
        first_command = True
        with scope:
            for command in step.commands:
                if self.interrupted_by is not None:
                    break
                status = await self.runner.run(command, step, log, rank)
                if not status.ok:
                    break
                first_command = False
            else:
                completed = True

        if notice is not None:
            notice.scope.cancel()
            assert isinstance(scope, trio.CancelScope) and step.timeout is not None
            if scope.cancelled_caught or trio.current_time() >= deadline:
                self._report_timeout(notice)
                return status, Verdict(
                    Status.TIMED_OUT, f"exceeded its {format_seconds(step.timeout)} timeout"
                )
        if completed:
            return status, Verdict(Status.SUCCEEDED)
        if self.interrupted_by is not None:
            return status, Verdict(Status.CANCELLED, self._interrupt_reason())
        assert status is not None
        if status.start_error is not None:
            # Once a command of the step has run, the step did start: a later
            # command that is not found makes it fail like any other exit code.
            if first_command or status.returncode is None:
                return status, Verdict(Status.NOT_STARTED, status.start_error)
            return status, Verdict(Status.FAILED, status.start_error)
        return status, Verdict(Status.FAILED, status.describe())

    async def _notice_timeout(self, notice: _TimeoutNotice, deadline: float) -> None:
        """Tell the reporter of a timeout at once, while the commands are still being ended."""
        with notice.scope:
            await trio.sleep_until(deadline)
            self._report_timeout(notice)

    def _report_timeout(self, notice: _TimeoutNotice) -> None:
        if not notice.reported:
            notice.reported = True
            elapsed = trio.current_time() - notice.begun
            self.reporter.step_timed_out(notice.step, notice.attempt, elapsed)

    def _interrupt_reason(self) -> str:
        if self.interrupted_by is None:
            return ""
        return f"interrupted by {signal_name(self.interrupted_by)}"

    # Signals and the heartbeat.

    async def _watch_real_signals(
        self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        # The guard that `run_plan` installs handles the signals for the
        # whole build, its shutdown included, and replays those that came
        # before this task started.
        guard = active_guard()
        if guard is not None and guard.armed:
            with guard.listen(trio.lowlevel.current_trio_token()) as received:
                await self._watch_signals(received, task_status)
            return

        # A signal that parc was started with ignored stays ignored, so that
        # `nohup parc build` survives the terminal closing and a build started
        # in the background by a script is not stopped by the script's Ctrl-C.
        handled = [s for s in HANDLED_SIGNALS if signal.getsignal(s) is not signal.SIG_IGN]
        with trio.open_signal_receiver(*handled) as signals:
            await self._watch_signals(signals, task_status)

    async def _watch_signals(
        self,
        signals: AsyncIterable[int],
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Forward SIGINT, SIGTERM and SIGHUP to every running command.

        The first signal stops new starts and is forwarded; SIGKILL follows
        after the grace period. A second signal kills at once.
        """
        task_status.started()
        async with trio.open_nursery() as nursery:
            async for signum in signals:
                if self.interrupted_by is None:
                    self.interrupted_by = signum
                    self.scheduler.stop(f"parc was interrupted by {signal_name(signum)}")
                    running = self._running_names()
                    self.reporter.interrupted(signum, running, self.options.grace)
                    self.runner.signal_all(signum)
                    nursery.start_soon(self._kill_after_grace)
                else:
                    self._kill_now(f"second signal ({signal_name(signum)})")

    def _running_names(self) -> list[str]:
        return sorted(self.start_times, key=lambda name: (self.start_times[name], name))

    async def _kill_after_grace(self) -> None:
        await trio.sleep(self.options.grace)
        self._kill_now(f"the grace period of {format_seconds(self.options.grace)} is over")

    def _kill_now(self, reason: str) -> None:
        if not self.killed:
            self.killed = True
            self.reporter.killing(self._running_names(), reason)
            logger.debug("sending SIGKILL to every running command: %s", reason)
        self.runner.signal_all(signal.SIGKILL)

    async def _heartbeat(self, interval: float) -> None:
        """Tell the reporter which steps run, after `interval` seconds without news."""
        while True:
            await trio.sleep_until(self.last_activity + interval)
            now = trio.current_time()
            if now < self.last_activity + interval:
                continue
            running = [(name, now - self.start_times[name]) for name in self._running_names()]
            if running:
                self.reporter.still_running(running)
            self.last_activity = now
