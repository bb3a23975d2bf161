"""What a build shows while it runs: the `Reporter` protocol and the plain printer.

The executor never prints. It sends past-tense events to a reporter, which
decides what the user sees.
"""

from __future__ import annotations

import enum
import os
import signal
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, Protocol

from parc.plan import Plan, PlanStep
from parc.runtime.logs import copy_file, tail_lines
from parc.runtime.scheduler import Status

if TYPE_CHECKING:
    from parc.runtime.executor import BuildResult, StepResult

FAILURE_TAIL_LINES = 20
MAX_PARTIAL_LINE = 1 << 16


class OutputMode(enum.Enum):
    """How step output reaches the terminal.

    GROUPED prints each step's output as one block when the step ends.
    PREFIXED prints whole lines as they come, each prefixed with the step's
    name. RAW prints whole lines as they come, without a prefix.
    """

    GROUPED = "grouped"
    PREFIXED = "prefixed"
    RAW = "raw"


class Reporter(Protocol):
    def build_started(self, plan: Plan) -> None: ...

    def step_started(self, step: PlanStep) -> None: ...

    def step_output(self, step: PlanStep, data: bytes) -> None: ...

    def step_retrying(self, step: PlanStep, attempt: int, total: int) -> None: ...

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None: ...

    def interrupted(self, signum: int, running: Sequence[str]) -> None: ...

    def build_finished(self, result: BuildResult) -> None: ...


class NullReporter:
    """Shows nothing; for tests and for library use."""

    def build_started(self, plan: Plan) -> None:
        pass

    def step_started(self, step: PlanStep) -> None:
        pass

    def step_output(self, step: PlanStep, data: bytes) -> None:
        pass

    def step_retrying(self, step: PlanStep, attempt: int, total: int) -> None:
        pass

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None:
        pass

    def interrupted(self, signum: int, running: Sequence[str]) -> None:
        pass

    def build_finished(self, result: BuildResult) -> None:
        pass


_GREEN = "\x1b[32m"
_RED = "\x1b[1;31m"
_YELLOW = "\x1b[33m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


class PlainReporter:
    """Prints plain lines that read well on a terminal and in a CI log.

    Each finished step gets a `[done/total] name: status` header; in grouped
    mode its output follows as one block. A failure also names the steps it
    blocks and the path of its log. The last line counts each status.
    """

    def __init__(
        self,
        out: BinaryIO,
        mode: OutputMode = OutputMode.GROUPED,
        color: bool = False,
        root: str | None = None,
    ) -> None:
        self.out = out
        self.mode = mode
        self.color = color
        self.root = root
        self.total = 0
        self.finished = 0
        self.started_at = time.monotonic()
        self._partial: dict[str, bytes] = {}

    def _paint(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.color else text

    def _line(self, text: str) -> None:
        self.out.write(text.encode("utf-8", errors="replace") + b"\n")

    def build_started(self, plan: Plan) -> None:
        self.total = len(plan.steps)
        self.started_at = time.monotonic()

    def step_started(self, step: PlanStep) -> None:
        if self.mode is not OutputMode.GROUPED:
            self._line(f"{self._prefix(step.name)}started")
            self.out.flush()

    def _prefix(self, name: str) -> str:
        return f"{name} | " if self.mode is OutputMode.PREFIXED else ""

    def step_output(self, step: PlanStep, data: bytes) -> None:
        if self.mode is OutputMode.GROUPED:
            return
        buffered = self._partial.get(step.name, b"") + data
        lines = buffered.split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_PARTIAL_LINE:
            lines.append(rest)
            rest = b""
        prefix = self._prefix(step.name).encode()
        for line in lines:
            self.out.write(prefix + line + b"\n")
        self._partial[step.name] = rest
        if lines:
            self.out.flush()

    def step_retrying(self, step: PlanStep, attempt: int, total: int) -> None:
        self._line(
            f"{self._prefix(step.name)}parc: `{step.name}` failed; attempt {attempt} of {total}"
        )
        self.out.flush()

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None:
        self.finished += 1
        step = result.step
        verdict = result.verdict
        rest = self._partial.pop(step.name, b"")
        if rest:
            self.out.write(self._prefix(step.name).encode() + rest + b"\n")

        header = f"[{self.finished}/{self.total}] {step.name}: "
        attempts = f" (attempt {result.attempts})" if result.attempts > 1 else ""
        if verdict.status is Status.SUCCEEDED:
            header += self._paint(_GREEN, "succeeded") + f" in {result.duration:.2f}s{attempts}"
        else:
            reason = f": {verdict.reason}" if verdict.reason else ""
            header += self._paint(_RED, f"{verdict.status.value}{reason}")
            header += f" after {result.duration:.2f}s{attempts}"
        self._line(header)

        log = result.log_path
        grouped = self.mode is OutputMode.GROUPED
        if grouped and log is not None and log.exists() and log.stat().st_size:
            copy_file(log, self.out)
            if not _ends_with_newline(log):
                self.out.write(b"\n")

        if verdict.status.is_failure:
            if self.mode is not OutputMode.GROUPED and result.log_path is not None:
                self._show_tail(result)
            if blocked:
                names = ", ".join(blocked)
                self._line(self._paint(_RED, f"parc: `{step.name}` failed; it blocks {names}"))
            if result.log_path is not None:
                self._line(f"parc: log: {self._relative(result.log_path)}")
        self.out.flush()

    def _show_tail(self, result: StepResult) -> None:
        path = result.log_path
        if path is None or not path.exists():
            return
        lines = tail_lines(path, FAILURE_TAIL_LINES)
        if lines:
            self._line(f"parc: last lines of `{result.step.name}`:")
            for line in lines:
                self._line(f"    {line}")

    def _relative(self, path: os.PathLike[str]) -> str:
        text = os.fspath(path)
        if self.root is not None:
            try:
                return os.path.relpath(text)
            except ValueError:
                return text
        return text

    def interrupted(self, signum: int, running: Sequence[str]) -> None:
        name = signal.Signals(signum).name
        names = ", ".join(running) if running else "nothing"
        self._line(self._paint(_YELLOW, f"parc: {name} received; stopping {names}"))
        self.out.flush()

    def build_finished(self, result: BuildResult) -> None:
        counts = []
        for status in Status:
            count = result.count(status)
            if count:
                counts.append(f"{count} {status.value}")
        summary = ", ".join(counts) if counts else "nothing to do"
        elapsed = result.ended - result.started
        failed = any(r.verdict.status.is_failure for r in result.results.values())
        style = _RED if failed or result.interrupted_by else _BOLD
        cancelled = [
            name for name, r in result.results.items() if r.verdict.status is Status.CANCELLED
        ]
        if cancelled:
            self._line(f"parc: cancelled: {', '.join(cancelled)}")
        self._line(self._paint(style, f"parc: {summary} in {elapsed:.2f}s"))
        self.out.flush()


def _ends_with_newline(path: os.PathLike[str]) -> bool:
    with open(path, "rb") as source:
        source.seek(0, 2)
        if source.tell() == 0:
            return True
        source.seek(-1, 2)
        return source.read(1) == b"\n"
