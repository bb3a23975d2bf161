"""The summary at the end of a build: a table of steps, the critical path, what parallelism saved.

Everything here is computed from a `BuildResult` after the build, from the
start and end times the executor measured, so it describes the build that
actually ran rather than an estimate. It imports nothing beyond the runtime's
own types: the plain printer uses it on every build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from parc.runtime.report import format_seconds
from parc.runtime.scheduler import Status

if TYPE_CHECKING:
    from parc.runtime.executor import BuildResult, StepResult

MAX_ROWS = 20
"""The most steps the table lists; a longer build lists its failures and slowest steps."""
SLOWEST_COUNT = 3
QUEUED_NOTICE = 0.05
"""Seconds between a step's last dependency ending and its start that count as queueing."""

Paint = Callable[[Status, str], str]


@attrs.frozen
class PathStep:
    """A step on the critical path and how long it waited for a job slot or pool."""

    name: str
    duration: float
    queued: float


@attrs.frozen
class BuildSummary:
    """What the end of a build shows, measured on the build itself.

    `rows` holds every requested step: those that started in the order they
    started, then the others in spec order. `step_time` is the sum of the
    durations of the steps whose commands ran, `wall` the duration of the
    build, and `peak` the most steps that ran at one time. An `interrupted`
    build has no critical path: a signal, not the steps, decided its end.
    """

    rows: tuple[StepResult, ...]
    wall: float
    step_time: float
    ran: int
    peak: int
    critical_path: tuple[PathStep, ...]
    slowest: tuple[StepResult, ...]
    interrupted: bool = False

    @property
    def saved(self) -> float | None:
        """The share of the serial time (the sum of step times) that parallel running saved."""
        if self.step_time <= 0:
            return None
        return 1.0 - self.wall / self.step_time


def summarize(result: BuildResult) -> BuildSummary:
    """Measure a finished build: its steps, critical path, peak parallelism and slowest steps."""
    requested = [r for r in result.results.values() if r.verdict.status is not Status.NOT_REQUESTED]
    started = sorted(
        (r for r in requested if r.started is not None),
        key=lambda r: (r.started, r.step.index),
    )
    never = [r for r in requested if r.started is None]
    ran = [r for r in started if r.attempts > 0]
    interrupted = result.interrupted_by is not None
    slowest = sorted(ran, key=lambda r: (-r.duration, r.step.index))[:SLOWEST_COUNT]
    return BuildSummary(
        rows=(*started, *never),
        wall=result.ended - result.started,
        step_time=sum(r.duration for r in ran),
        ran=len(ran),
        peak=peak_parallelism(ran),
        critical_path=critical_path(result) if not interrupted else (),
        slowest=tuple(slowest),
        interrupted=interrupted,
    )


def peak_parallelism(results: Iterable[StepResult]) -> int:
    """Return the most steps that ran at one time.

    A step that ends at the instant another starts does not overlap it.
    """
    events: list[tuple[float, int]] = []
    for result in results:
        if result.started is not None and result.ended is not None:
            events.append((result.started, 1))
            events.append((result.ended, -1))
    # At equal times the -1 sorts first, so back-to-back steps count once.
    running = peak = 0
    for _, change in sorted(events):
        running += change
        peak = max(peak, running)
    return peak


def critical_path(result: BuildResult) -> tuple[PathStep, ...]:
    """Return the chain of steps that decided when the build ended, first step first.

    It starts at the step that ended last and goes back, each time to the
    dependency that ended last, which is the one the step waited for. A step
    that started later than that dependency ended waited for a job slot or a
    pool; the gap is its `queued` time. Up-to-date steps are passed through
    but not listed, since they took no time.
    """
    results = result.results
    finished = [r for r in results.values() if r.ended is not None and r.started is not None]
    if not finished:
        return ()
    current: StepResult | None = max(finished, key=lambda r: (r.ended, -r.step.index))
    chain: list[PathStep] = []
    while current is not None:
        assert current.started is not None
        before = [
            results[name]
            for name in current.step.after
            if name in results and results[name].ended is not None
        ]
        previous = max(before, key=lambda r: (r.ended, -r.step.index), default=None)
        ready_at = result.started if previous is None else previous.ended
        assert ready_at is not None
        if current.attempts > 0:
            queued = max(0.0, current.started - ready_at)
            chain.append(PathStep(current.step.name, current.duration, queued))
        current = previous
    chain.reverse()
    return tuple(chain)


def format_summary(
    summary: BuildSummary,
    paint: Paint | None = None,
    max_rows: int = MAX_ROWS,
    columns: int | None = None,
) -> list[str]:
    """Format the summary as lines of text without newlines; none when no step's commands ran.

    Every line starts with `parc: `, like every other line parc prints, so
    that filtering them out leaves only the steps' output. `paint` colours a
    status word; the columns are aligned on the plain text, so colour codes
    never shift them. When a row of the table would not fit in `columns`
    (the terminal's width, None for no limit), each step gets a line of
    its own instead, which wraps without breaking any alignment.
    """
    if summary.ran == 0:
        return []
    colour: Paint = paint or _unpainted
    shown, hidden = _choose_rows(summary.rows, max_rows)
    room = None if columns is None else columns - len("parc: ")
    widest = max(len(line) for line in _table(shown, _unpainted))
    if room is None or widest <= room:
        lines = _table(shown, colour)
    else:
        lines = [_list_line(row, colour) for row in shown]
    if hidden:
        lines.append(f"and {_count_statuses(hidden)}; `parc report` shows every step")
    # A signal decided when an interrupted build ended, so its critical path
    # and saving do not describe the requested build and are left out.
    if summary.ran >= 2 and not summary.interrupted:
        lines.append(f"critical path: {_format_path(summary)}")
        lines.append(f"parallelism: {_format_parallelism(summary)}")
    if summary.ran >= 2:
        slowest = ", ".join(f"{r.step.name} {format_seconds(r.duration)}" for r in summary.slowest)
        lines.append(f"slowest: {slowest}")
    return [f"parc: {line}" for line in lines]


def _choose_rows(
    rows: Sequence[StepResult], max_rows: int
) -> tuple[list[StepResult], list[StepResult]]:
    """Keep at most `max_rows` rows: failures first, then the longest; in their original order."""
    if len(rows) <= max_rows:
        return list(rows), []
    ranked = sorted(
        range(len(rows)),
        key=lambda i: (not rows[i].verdict.status.is_failure, -rows[i].duration, i),
    )
    keep = set(ranked[:max_rows])
    shown = [row for i, row in enumerate(rows) if i in keep]
    hidden = [row for i, row in enumerate(rows) if i not in keep]
    return shown, hidden


def _table(rows: Sequence[StepResult], paint: Paint) -> list[str]:
    header = ("step", "status", "duration", "attempts", "reason")
    cells = [
        (
            row.step.name,
            row.verdict.status.value,
            format_seconds(row.duration) if row.started is not None else "-",
            str(row.attempts),
            row.verdict.reason,
        )
        for row in rows
    ]
    name_width = max(len(header[0]), *(len(cell[0]) for cell in cells))
    status_width = max(len(header[1]), *(len(cell[1]) for cell in cells))
    duration_width = max(len(header[2]), *(len(cell[2]) for cell in cells))
    attempts_width = len(header[3])

    def line(cell: tuple[str, str, str, str, str], status: Status | None) -> str:
        name, status_text, duration, attempts, reason = cell
        padded = status_text.ljust(status_width)
        if status is not None:
            padded = paint(status, status_text) + " " * (status_width - len(status_text))
        text = (
            f"{name.ljust(name_width)}  {padded}  {duration.rjust(duration_width)}"
            f"  {attempts.rjust(attempts_width)}  {reason}"
        )
        return text.rstrip()

    lines = [line(header, None)]
    lines.extend(line(cell, row.verdict.status) for cell, row in zip(cells, rows, strict=True))
    return lines


def _unpainted(_status: Status, text: str) -> str:
    return text


def _list_line(row: StepResult, paint: Paint) -> str:
    """Describe one step on one line, as the `[done/total]` lines do: `lint failed after 3.00s`."""
    status = row.verdict.status
    text = f"{row.step.name} {paint(status, status.value)}"
    if row.started is not None and status is not Status.UP_TO_DATE:
        preposition = "in" if status is Status.SUCCEEDED else "after"
        text += f" {preposition} {format_seconds(row.duration)}"
    if row.attempts > 1:
        text += f" ({row.attempts} attempts)"
    if row.verdict.reason:
        text += f": {row.verdict.reason}"
    return text


def _count_statuses(rows: Sequence[StepResult]) -> str:
    counts: dict[Status, int] = {}
    for row in rows:
        counts[row.verdict.status] = counts.get(row.verdict.status, 0) + 1
    parts = [f"{counts[status]} {status.value}" for status in Status if status in counts]
    return f"{len(rows)} more step{'s' if len(rows) != 1 else ''} ({', '.join(parts)})"


def _format_path(summary: BuildSummary) -> str:
    parts = []
    for step in summary.critical_path:
        part = f"{step.name} {format_seconds(step.duration)}"
        if step.queued >= QUEUED_NOTICE:
            part += f" (queued {format_seconds(step.queued)})"
        parts.append(part)
    total = sum(step.duration for step in summary.critical_path)
    wall = format_seconds(summary.wall)
    return f"{' -> '.join(parts)} ({format_seconds(total)} of the build's {wall})"


def _format_parallelism(summary: BuildSummary) -> str:
    serial = f"{format_seconds(summary.step_time)} of step time in {format_seconds(summary.wall)}"
    if summary.peak <= 1:
        return f"one step at a time ({serial})"
    return f"{format_saving(summary)} ({serial})"


def format_saving(summary: BuildSummary) -> str:
    """Say what running steps at once saved: `up to 3 steps at once saved 42% of the serial time`.

    A saving that rounds to 0% reads `saved nothing`, in the summary and in
    the HTML report alike.
    """
    saved = summary.saved
    percent = 0 if saved is None else round(saved * 100)
    if percent <= 0:
        return f"up to {summary.peak} steps at once saved nothing"
    return f"up to {summary.peak} steps at once saved {percent}% of the serial time"
