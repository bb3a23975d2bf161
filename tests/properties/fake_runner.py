"""A fake `CommandRunner`, a recording reporter and a gate for tests on MockClock.

A command of a fake step is named `cmd0`, `cmd1`, and so on. The script of
the step gives, for each attempt and each command, how long it runs (integer
ticks of virtual time) and how it ends.
"""

from __future__ import annotations

import enum
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from parc.plan import Plan, PlanStep
from parc.runtime.executor import BuildResult, StepResult
from parc.runtime.logs import StepLog
from parc.runtime.process import ExitStatus
from parc.runtime.scheduler import Verdict


class Outcome(enum.Enum):
    OK = "ok"
    FAIL = "fail"
    NO_START = "no start"


@attrs.frozen
class Command:
    duration: int
    outcome: Outcome = Outcome.OK


@attrs.frozen
class Script:
    """What each attempt of one step does: attempts[attempt][command]."""

    attempts: tuple[tuple[Command, ...], ...]
    ignores_signals: bool = False
    up_to_date: bool = False


@attrs.define
class Call:
    """One run of one fake command."""

    step: str
    attempt: int
    command: int
    start: float
    end: float | None = None
    killed_by: int | None = None
    scope: trio.CancelScope | None = None


class FakeRunner:
    """Runs scripted commands: each sleeps its duration, then exits 0 or 1.

    A forwarded signal ends a command at once with minus the signal number,
    unless its step ignores signals; SIGKILL always ends it.
    """

    def __init__(self, scripts: Mapping[str, Script]) -> None:
        self.scripts = scripts
        self.calls: list[Call] = []
        self.running: list[Call] = []
        self.attempts: dict[str, int] = {}
        self.signals: list[tuple[float, int]] = []

    async def run(self, command: str, step: PlanStep, log: StepLog, rank: int = 0) -> ExitStatus:
        index = int(command.removeprefix("cmd"))
        if index == 0:
            self.attempts[step.name] = self.attempts.get(step.name, 0) + 1
        attempt = self.attempts[step.name]
        planned = self.scripts[step.name].attempts[attempt - 1][index]
        call = Call(step.name, attempt, index, trio.current_time())
        self.calls.append(call)
        if planned.outcome is Outcome.NO_START:
            call.end = call.start
            return ExitStatus(None, "fake command cannot start")

        self.running.append(call)
        try:
            with trio.CancelScope() as scope:
                call.scope = scope
                log.write(f"{step.name} attempt {attempt} command {index}\n".encode())
                # A command of zero ticks returns without a checkpoint: all that
                # ends at one instant must reach the executor in the same
                # scheduling batch, as the reference model assumes.
                if planned.duration:
                    await trio.sleep(planned.duration)
        finally:
            call.end = trio.current_time()
            self.running.remove(call)
        if call.killed_by is not None:
            return ExitStatus(-call.killed_by)
        return ExitStatus(0 if planned.outcome is Outcome.OK else 1)

    def signal_all(self, signum: int) -> None:
        self.signals.append((trio.current_time(), signum))
        for call in self.running:
            if signum == signal.SIGKILL or not self.scripts[call.step].ignores_signals:
                if call.killed_by is None:
                    call.killed_by = signum
                assert call.scope is not None
                call.scope.cancel()


class FakeGate:
    """Calls a step up to date when its script marks it so and no dependency ran."""

    def __init__(self, scripts: Mapping[str, Script]) -> None:
        self.scripts = scripts
        self.checked: list[tuple[str, bool]] = []
        self.recorded: list[StepResult] = []

    async def check(self, step: PlanStep, dependencies_ran: bool) -> str | None:
        self.checked.append((step.name, dependencies_ran))
        if self.scripts[step.name].up_to_date and not dependencies_ran:
            return "nothing changed"
        return None

    async def record(self, result: StepResult) -> None:
        self.recorded.append(result)

    def flush(self) -> None:
        pass


@attrs.frozen
class Event:
    """One reporter event, in the order the executor sent them."""

    time: float
    kind: str
    step: str = ""
    detail: Any = None


class RecordingReporter:
    """Keeps every event with the virtual time it happened at."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.result: BuildResult | None = None

    def _add(self, kind: str, step: str = "", detail: Any = None) -> None:
        self.events.append(Event(trio.current_time(), kind, step, detail))

    def build_started(self, plan: Plan, total: int) -> None:
        self._add("build_started", detail=total)

    def step_started(self, step: PlanStep, log: Path | None) -> None:
        self._add("started", step.name)

    def step_output(self, step: PlanStep, data: bytes) -> None:
        self._add("output", step.name, data)

    def step_timed_out(self, step: PlanStep, attempt: int, elapsed: float) -> None:
        self._add("timed_out", step.name, (attempt, elapsed))

    def step_retrying(self, step: PlanStep, attempt: int, previous: Verdict) -> None:
        self._add("retrying", step.name, (attempt, previous))

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None:
        self._add("finished", result.step.name, (result, tuple(blocked)))

    def build_stopping(self, reason: str, running: Sequence[str]) -> None:
        self._add("stopping", detail=(reason, tuple(running)))

    def still_running(self, running: Sequence[tuple[str, float]]) -> None:
        self._add("still_running", detail=tuple(running))

    def interrupted(self, signum: int, running: Sequence[str], grace: float) -> None:
        self._add("interrupted", detail=(signum, tuple(running)))

    def killing(self, running: Sequence[str], reason: str) -> None:
        self._add("killing", detail=(tuple(running), reason))

    def build_finished(self, result: BuildResult) -> None:
        self._add("build_finished")
        self.result = result

    def of_kind(self, kind: str) -> list[Event]:
        return [event for event in self.events if event.kind == kind]
