"""How a build shows its progress: live on a terminal, plain lines, or quiet.

`--progress` chooses how parc presents its own status; `--output` chooses
what of the steps' output is shown. `auto` picks `live` for a person at a
terminal and `plain` for everything else: a pipe, a file, `TERM=dumb`, or a
CI service (the `CI` variable is set). The live display imports rich, so it
is loaded only when it is chosen.
"""

from __future__ import annotations

import enum
import io
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, BinaryIO, Protocol

import trio

from parc.plan import Plan, PlanStep
from parc.runtime.output import Output, ThreadedOutput
from parc.runtime.report import OutputMode, PlainReporter, Reporter
from parc.runtime.scheduler import Verdict

if TYPE_CHECKING:
    from parc.runtime.executor import Options, StepResult


class Progress(enum.Enum):
    """The presentation of parc's own status while a build runs."""

    AUTO = "auto"
    LIVE = "live"
    PLAIN = "plain"
    QUIET = "quiet"


def resolve_progress(requested: Progress, isatty: bool, environ: Mapping[str, str]) -> Progress:
    """Turn `auto` into `live` or `plain`; any other choice stands as given.

    `auto` is live only on a terminal whose `TERM` is set and not `dumb`, and
    outside CI, where a log file needs plain lines.
    """
    if requested is not Progress.AUTO:
        return requested
    if not isatty or environ.get("TERM", "dumb") == "dumb" or _in_ci(environ):
        return Progress.PLAIN
    return Progress.LIVE


def _in_ci(environ: Mapping[str, str]) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def default_output_mode(progress: Progress, isatty: bool) -> OutputMode:
    """Return the output mode used when `--output` is not given.

    Live progress already shows each running step's last line, so the
    steps' output stays in the logs; plain progress shows it line by line
    on a terminal and in blocks elsewhere; quiet shows only failures.
    """
    if progress in (Progress.LIVE, Progress.QUIET):
        return OutputMode.NONE
    return OutputMode.PREFIXED if isatty else OutputMode.GROUPED


class QuietReporter(PlainReporter):
    """Prints only failures, what stops the build, and the closing counts.

    A failed step shows its header, then its whole output (grouped mode) or
    the last lines of its log (none mode). Steps that succeed, retries and
    the heartbeat print nothing, and there is no summary table. Blocked
    steps get no line each: the failure names them, and so does the end.
    """

    lists_blocked = False

    def __init__(self, output: Output, mode: OutputMode, color: bool = False) -> None:
        if mode not in (OutputMode.GROUPED, OutputMode.NONE):
            raise ValueError(f"quiet progress shows no output as it comes, not {mode.value}")
        super().__init__(output, mode, color, summary=False)

    def step_timed_out(self, step: PlanStep, attempt: int, elapsed: float) -> None:
        pass

    def step_retrying(self, step: PlanStep, attempt: int, previous: Verdict) -> None:
        pass

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None:
        if result.verdict.status.is_failure:
            super().step_finished(result, blocked)
            return
        self.finished += 1 + len(blocked)
        self._logs.pop(result.step.name, None)
        self._shown.pop(result.step.name, None)

    def still_running(self, running: Sequence[tuple[str, float]]) -> None:
        pass


class Display(Protocol):
    """A reporter with what it needs around it while the build runs.

    Start `run` in a nursery before the build, and call `close` after it,
    before the output is drained.
    """

    @property
    def reporter(self) -> Reporter: ...

    async def wait_room(self) -> None:
        """Wait while the terminal is too far behind the steps' output."""
        ...

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None: ...

    def close(self) -> None: ...


class _LineDisplay:
    """Plain or quiet lines: nothing runs beside the reporter."""

    def __init__(self, reporter: Reporter, output: ThreadedOutput) -> None:
        self._reporter = reporter
        self._output = output

    @property
    def reporter(self) -> Reporter:
        return self._reporter

    async def wait_room(self) -> None:
        await self._output.wait_room()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()

    def close(self) -> None:
        pass


def open_display(
    progress: Progress,
    output: ThreadedOutput,
    out: BinaryIO,
    plan: Plan,
    options: Options,
    mode: OutputMode,
    color: bool,
) -> Display:
    """Create the display for `progress`, resolved (not auto), writing through `output` to `out`."""
    if progress is Progress.LIVE:
        from parc.runtime.live import LiveDisplay

        return LiveDisplay(output, out, plan, options, mode, color)
    if progress is Progress.QUIET:
        return _LineDisplay(QuietReporter(output, mode, color), output)
    if progress is Progress.PLAIN:
        reporter = PlainReporter(output, mode, color, columns=terminal_columns(out))
        return _LineDisplay(reporter, output)
    raise ValueError("resolve `auto` with resolve_progress before opening a display")


def terminal_columns(out: BinaryIO) -> Callable[[], int | None]:
    """Return a function that reads the width of the terminal `out` writes to, or None elsewhere."""

    def columns() -> int | None:
        try:
            descriptor = out.fileno()
            if not os.isatty(descriptor):
                return None
            return os.get_terminal_size(descriptor).columns
        except (OSError, ValueError, io.UnsupportedOperation):
            return None

    return columns
