"""What a build shows while it runs: the `Reporter` protocol and the plain printer.

The executor never prints. It sends past-tense events to a reporter, which
decides what the user sees. The reporter in turn only queues bytes and log
ranges on an `Output`, so it never blocks the event loop.
"""

from __future__ import annotations

import enum
import os
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from parc.plan import Plan, PlanStep
from parc.runtime.logs import tail_lines
from parc.runtime.output import FileRange, Output
from parc.runtime.process import signal_name
from parc.runtime.scheduler import Status, Verdict
from parc.runtime.seconds import format_seconds as format_seconds

if TYPE_CHECKING:
    from parc.runtime.executor import BuildResult, StepResult

FAILURE_TAIL_LINES = 20
MAX_PARTIAL_LINE = 1 << 16
"""The length past which a line without a newline is written as a piece, in live modes."""
MAX_PREFIX_WIDTH = 24

LINE_RESTART = re.compile(rb"\r|\x1b\[[01]?G|\x1b\[2K")
"""The sequences progress bars use to redraw their line: a carriage return, a
move to column 1 (`ESC[G`, `ESC[1G`) or erasing the whole line (`ESC[2K`)."""
_CONTROL_SEQUENCE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")


class OutputMode(enum.Enum):
    """The presentation of step output on the terminal.

    GROUPED prints each step's output as one block when the step ends.
    PREFIXED prints whole lines as they come, each prefixed with the step's
    name. RAW prints whole lines as they come, without a prefix. NONE prints
    no output, except the last lines of the log of a step that failed.
    """

    GROUPED = "grouped"
    PREFIXED = "prefixed"
    RAW = "raw"
    NONE = "none"


class Reporter(Protocol):
    def build_started(self, plan: Plan, total: int) -> None:
        """Announce a build of `total` requested steps of `plan`."""
        ...

    def step_started(self, step: PlanStep, log: Path | None) -> None: ...

    def step_output(self, step: PlanStep, data: bytes) -> None: ...

    def step_timed_out(self, step: PlanStep, attempt: int, elapsed: float) -> None:
        """Report an attempt that ran out of time, while its commands are being ended."""
        ...

    def step_retrying(self, step: PlanStep, attempt: int, previous: Verdict) -> None:
        """Attempt number `attempt` starts because the one before ended with `previous`."""
        ...

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None: ...

    def build_stopping(self, reason: str, running: Sequence[str]) -> None:
        """Report that a failure stopped the build: nothing new starts, `running` steps finish."""
        ...

    def still_running(self, running: Sequence[tuple[str, float]]) -> None:
        """Nothing started or ended for a while; these steps run, for these seconds."""
        ...

    def interrupted(self, signum: int, running: Sequence[str], grace: float) -> None: ...

    def killing(self, running: Sequence[str], reason: str) -> None: ...

    def build_finished(self, result: BuildResult) -> None: ...


class NullReporter:
    """Shows nothing; for tests and for library use."""

    def build_started(self, plan: Plan, total: int) -> None:
        pass

    def step_started(self, step: PlanStep, log: Path | None) -> None:
        pass

    def step_output(self, step: PlanStep, data: bytes) -> None:
        pass

    def step_timed_out(self, step: PlanStep, attempt: int, elapsed: float) -> None:
        pass

    def step_retrying(self, step: PlanStep, attempt: int, previous: Verdict) -> None:
        pass

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None:
        pass

    def build_stopping(self, reason: str, running: Sequence[str]) -> None:
        pass

    def still_running(self, running: Sequence[tuple[str, float]]) -> None:
        pass

    def interrupted(self, signum: int, running: Sequence[str], grace: float) -> None:
        pass

    def killing(self, running: Sequence[str], reason: str) -> None:
        pass

    def build_finished(self, result: BuildResult) -> None:
        pass


def attempt_label(attempt: int, step: PlanStep) -> str:
    return f"attempt {attempt} of {step.retries + 1}"


_GREEN = "\x1b[32m"
_RED = "\x1b[1;31m"
_YELLOW = "\x1b[33m"
_DIM = "\x1b[2m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"

_STATUS_STYLE = {
    Status.SUCCEEDED: _GREEN,
    Status.UP_TO_DATE: _GREEN,
    Status.FAILED: _RED,
    Status.TIMED_OUT: _RED,
    Status.NOT_STARTED: _RED,
    Status.CANCELLED: _YELLOW,
    Status.BLOCKED: _YELLOW,
    Status.NOT_REQUESTED: _DIM,
}


class PlainReporter:
    """Prints plain lines that read well on a terminal and in a CI log.

    Each finished step gets a `[done/total] name status` header, and so does
    each step that a failure blocks. `total` counts the requested steps less
    those found up to date so far, which get no header, so `done` never
    passes it and ends equal to it. In grouped
    mode its output follows as one block. A failure also shows its reason
    and attempt, the last lines of its log (in every mode but grouped, where
    the output was not one block), the log's path and the steps it blocks.
    The summary tabulates the steps (unless `summary` is false), lists every
    step that did not succeed, and counts each status.
    """

    lists_blocked = True
    """Whether each blocked step gets its own `[done/total]` line."""

    def __init__(
        self,
        output: Output,
        mode: OutputMode = OutputMode.GROUPED,
        color: bool = False,
        summary: bool = True,
        columns: Callable[[], int | None] | None = None,
    ) -> None:
        self.output = output
        self.mode = mode
        self.color = color
        self.summary = summary
        self.columns = columns
        """Returns the terminal's width for the summary, or None when there is no limit."""
        self.total = 0
        self.finished = 0
        self.width = 0
        self._logs: dict[str, Path] = {}
        self._shown: dict[str, int] = {}
        self._partial: dict[str, bytes] = {}

    # Formatting.

    def _paint(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.color else text

    def _paint_status(self, status: Status, text: str) -> str:
        return self._paint(_STATUS_STYLE[status], text)

    def _write_lines(self, *lines: str) -> None:
        self.output.write("".join(line + "\n" for line in lines).encode("utf-8", "replace"))

    def _step_prefix(self, name: str) -> bytes:
        if self.mode is not OutputMode.PREFIXED:
            return b""
        return f"{name:<{self.width}} | ".encode()

    # Events.

    def build_started(self, plan: Plan, total: int) -> None:
        self.total = total
        self.width = min(MAX_PREFIX_WIDTH, max((len(s.name) for s in plan.steps), default=0))

    def step_started(self, step: PlanStep, log: Path | None) -> None:
        if log is not None:
            self._logs[step.name] = log
            self._shown[step.name] = 0
        if self.mode is not OutputMode.NONE:
            self._write_lines(f"parc: `{step.name}` started")

    def step_output(self, step: PlanStep, data: bytes) -> None:
        if self.mode in (OutputMode.GROUPED, OutputMode.NONE):
            return
        # Only whole lines are written, so the lines of two steps never mix.
        buffered = self._partial.get(step.name, b"") + data
        lines = buffered.split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_PARTIAL_LINE:
            lines.append(rest)
            rest = b""
        self._partial[step.name] = rest
        if lines:
            prefix = self._step_prefix(step.name)
            self.output.write(b"".join(prefix + self._shown_line(line) + b"\n" for line in lines))

    def step_timed_out(self, step: PlanStep, attempt: int, elapsed: float) -> None:
        self._write_lines(
            self._paint(
                _RED,
                f"parc: `{step.name}` timed out after {format_seconds(elapsed)} "
                f"({attempt_label(attempt, step)}); ending its commands",
            )
        )
        self._show_so_far(step.name)

    def step_retrying(self, step: PlanStep, attempt: int, previous: Verdict) -> None:
        reason = f": {previous.reason}" if previous.reason else ""
        self._write_lines(
            self._paint(
                _YELLOW,
                f"parc: `{step.name}` {previous.status.value}{reason}; "
                f"starting {attempt_label(attempt, step)}",
            )
        )

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None:
        step = result.step
        verdict = result.verdict
        if verdict.status is Status.UP_TO_DATE:
            # Only the summary lists them, so a no-op build stays short, and
            # the total drops by one so that `[done/total]` ends at total.
            self.total -= 1
            return
        self.finished += 1
        self._flush_partial(step.name)

        self._write_lines(self._header(result))
        if self.mode is OutputMode.GROUPED:
            self._show_rest(step.name)

        if verdict.status.is_failure:
            lines: list[str] = []
            if self.mode is not OutputMode.GROUPED and result.log_path is not None:
                tail = tail_lines(result.log_path, FAILURE_TAIL_LINES)
                if tail:
                    lines.append(f"parc: last lines of the log of `{step.name}`:")
                    lines.extend(f"    {line}" for line in tail)
            if blocked:
                lines.append(
                    self._paint(_YELLOW, f"parc: `{step.name}` blocks {', '.join(blocked)}")
                )
            if result.log_path is not None:
                lines.append(f"parc: log of `{step.name}`: {_display_path(result.log_path)}")
            self._write_lines(*lines)
        # Each blocked step gets its own numbered line, so the counter has no gaps.
        for name in blocked:
            self.finished += 1
            if not self.lists_blocked:
                continue
            status = self._paint(_STATUS_STYLE[Status.BLOCKED], Status.BLOCKED.value)
            self._write_lines(
                f"[{self.finished}/{self.total}] {name} {status}: `{step.name}` failed"
            )
        self._logs.pop(step.name, None)
        self._shown.pop(step.name, None)

    def _header(self, result: StepResult) -> str:
        verdict = result.verdict
        step = result.step
        status = self._paint(_STATUS_STYLE[verdict.status], verdict.status.value)
        header = f"[{self.finished}/{self.total}] {step.name} {status}"
        preposition = "in" if verdict.status is Status.SUCCEEDED else "after"
        header += f" {preposition} {format_seconds(result.duration)}"
        # The duration spans every attempt, so a timed-out step's time would
        # otherwise read as if one attempt had run far past its timeout.
        if result.attempts > 1:
            header += f" over {result.attempts} attempts"
            if verdict.status is Status.TIMED_OUT:
                header += " and their grace periods"
        if verdict.reason:
            header += f": {verdict.reason}"
        # A step that could not start is not retried, so its attempt number
        # would only suggest attempts that never come.
        if step.retries and result.attempts and verdict.status is not Status.NOT_STARTED:
            header += f" ({attempt_label(result.attempts, step)})"
        return header

    def build_stopping(self, reason: str, running: Sequence[str]) -> None:
        waiting = f"; waiting for {', '.join(running)}" if running else ""
        self._write_lines(
            self._paint(_RED, f"parc: {reason}, so no new step starts (-k keeps going){waiting}")
        )

    def still_running(self, running: Sequence[tuple[str, float]]) -> None:
        steps = ", ".join(f"{name} ({format_seconds(seconds)})" for name, seconds in running)
        self._write_lines(f"parc: still running: {steps}")

    def interrupted(self, signum: int, running: Sequence[str], grace: float) -> None:
        name = signal_name(signum)
        if running:
            text = (
                f"parc: {name} received; sent it to {', '.join(running)}; "
                f"SIGKILL follows in {format_seconds(grace)} (or at a second signal)"
            )
        else:
            text = f"parc: {name} received; no step is running"
        self._write_lines(self._paint(_YELLOW, text))
        for step in running:
            self._show_so_far(step)

    def killing(self, running: Sequence[str], reason: str) -> None:
        if running:
            self._write_lines(
                self._paint(_RED, f"parc: {reason}; sending SIGKILL to {', '.join(running)}")
            )

    def build_finished(self, result: BuildResult) -> None:
        lines: list[str] = []
        if self.summary:
            from parc.runtime.summary import format_summary, summarize

            columns = self.columns() if self.columns is not None else None
            lines.extend(format_summary(summarize(result), self._paint_status, columns=columns))
        groups: dict[tuple[Status, str], list[str]] = defaultdict(list)
        for name, step_result in result.results.items():
            verdict = step_result.verdict
            if verdict.status in (Status.SUCCEEDED, Status.UP_TO_DATE, Status.NOT_REQUESTED):
                continue
            groups[(verdict.status, verdict.reason)].append(name)
        for status in Status:
            for (group_status, reason), names in groups.items():
                if group_status is status:
                    because = f" ({reason})" if reason else ""
                    lines.append(f"parc: {status.value}: {', '.join(names)}{because}")

        counts = [
            f"{result.count(status)} {status.value}" for status in Status if result.count(status)
        ]
        summary = ", ".join(counts) if counts else "nothing to do"
        elapsed = format_seconds(result.ended - result.started)
        if result.interrupted_by is not None:
            summary = f"interrupted by {signal_name(result.interrupted_by)}: {summary}"
        style = _BOLD if result.exit_code == 0 else _RED
        lines.append(self._paint(style, f"parc: {summary} in {elapsed}"))
        self._write_lines(*lines)

    # Output of grouped mode, read back from the logs.

    def _show_so_far(self, name: str) -> None:
        """Show what a running step has written since the last time, in grouped mode."""
        if self.mode is OutputMode.GROUPED:
            self._show_rest(name, f"parc: output of `{name}` so far:")

    def _show_rest(self, name: str, heading: str | None = None) -> None:
        """Copy the part of a step's log not shown yet, after `heading` if there is any."""
        path = self._logs.get(name)
        if path is None:
            return
        try:
            size = path.stat().st_size
        except OSError:
            return
        if size > self._shown[name]:
            if heading is not None:
                self._write_lines(heading)
            self.output.copy(FileRange(path, self._shown[name], size))
            self._shown[name] = size

    def _flush_partial(self, name: str) -> None:
        rest = self._partial.pop(name, b"")
        if rest:
            self.output.write(self._step_prefix(name) + self._shown_line(rest) + b"\n")

    def _shown_line(self, line: bytes) -> bytes:
        """Return a line as prefixed mode shows it: its last state, if a progress bar redrew it.

        Written whole after the prefix, each redraw would overwrite the
        prefix on a terminal. The log keeps every state.
        """
        if self.mode is not OutputMode.PREFIXED:
            return line
        return final_state(line)


def final_state(line: bytes) -> bytes:
    """Return the last state of a line that a progress bar redraws: its last part with visible text.

    The parts are split at each `LINE_RESTART`; a line without any comes
    back unchanged, and so does one whose parts are all blank.
    """
    if b"\r" not in line and b"\x1b" not in line:
        return line
    parts = LINE_RESTART.split(line)
    for part in reversed(parts):
        if _CONTROL_SEQUENCE.sub(b"", part).strip():
            return part
    return line


def _display_path(path: Path) -> str:
    """Return `path` relative to the current directory when that is shorter."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return relative if len(relative) < len(str(path)) else str(path)
