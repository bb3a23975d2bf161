"""Live progress on a terminal: a region at the bottom that is redrawn in place.

The region holds a header (steps done, running, waiting and failed, the time
so far and an estimate of the time left) and one line per running step with
its elapsed time and the last line it printed. Everything else parc prints
scrolls above the region: the plain reporter writes a line per finished
step, each failure with the tail of its log, and the summary, as in plain
mode.

Frames. The event loop builds a frame every `FRAME_INTERVAL` seconds and
queues it on the same `ThreadedOutput` as everything else, so a slow terminal
never blocks the loop and bytes keep their order. The cursor rests at the
region's top left. A frame erases the region, writes the lines that must
scroll above it, draws the region again and moves the cursor back up. Each frame sits in
the terminal's synchronized-output mode (DEC private mode 2026): a terminal
that knows it draws the frame at once, others ignore it. So the region never
flickers.

Resizing. A frame fits each line to the width it reads then, one column
short of it, so no line wraps on its own. Because the cursor rests at the
region's top, a terminal that rewraps lines when it narrows (tmux, VTE,
iTerm2, kitty) moves it with the text, and one that cuts lines leaves it in
place; either way the next frame starts at the right row.
NOTE: a resize that the terminal applies between receiving a frame's lines
and its cursor move can leave a copy of the old region above the new one;
tests shrink and widen tmux between frames, not during one.
Narrowing a tmux pane rewraps the region into more rows, and tmux moves the
rows that no longer fit into its history. No frame can take them back.

Stderr. Lines that parc writes to stderr during the build (`--explain`,
warnings) would land on the region. While the display runs on a terminal,
file descriptor 2 is a pipe that a thread drains, and its lines scroll above
the region like parc's other lines.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import select
import shutil
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import attrs
import trio
from rich.color import ColorSystem
from rich.console import COLOR_SYSTEMS, Console
from rich.text import Text

from parc.plan import Plan, PlanStep
from parc.runtime import report
from parc.runtime.output import FileRange, ThreadedOutput
from parc.runtime.process import signal_name
from parc.runtime.report import OutputMode, PlainReporter, Reporter, format_seconds
from parc.runtime.scheduler import Status, Verdict, estimate_durations

if TYPE_CHECKING:
    from parc.runtime.executor import BuildResult, Options, StepResult

logger = logging.getLogger("parc.runtime")

FRAME_INTERVAL = 0.1
SCROLL_BUDGET = 1 << 20
"""Bytes of scrolling output held between frames; past it the steps' pipes are read more slowly."""
TAIL_BYTES = 1024
"""How much of each running step's latest output is kept to find its last line."""
MAX_NAME_WIDTH = 24

SYNC_BEGIN = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
HIDE_CURSOR = b"\x1b[?25l"
SHOW_CURSOR = b"\x1b[?25h"
ERASE_REGION = b"\r \x1b[J\r\x1b[2K"
"""Erase from the cursor's row down, without ever clearing from the top-left corner.

`ESC[J` at row 1, column 1 clears the entire screen. tmux (`scroll-on-clear`,
on by default in tmux 3.3a) then pushes the whole screen into its history, so
a region at the top row would leave a copy of itself there on every frame. A
space first moves the cursor off column 1, and `ESC[2K` then erases that row.
"""


def _cursor_up(rows: int) -> bytes:
    return f"\x1b[{rows}A".encode() if rows > 0 else b""


class LiveScreen:
    """An `Output` for the lines that scroll, with the region redrawn below them.

    Scrolling bytes and file ranges wait in memory until the next frame; past
    `budget` bytes, `wait_room` holds back the reading of the steps' pipes
    and the next frame comes at once.
    """

    def __init__(
        self,
        output: ThreadedOutput,
        draw: Callable[[int, int], list[str]],
        size: Callable[[], tuple[int, int]],
        budget: int = SCROLL_BUDGET,
    ) -> None:
        self.output = output
        self.draw = draw
        self.size = size
        self.budget = budget
        self._pending: list[bytes | FileRange] = []
        self._pending_bytes = 0
        self._drawn = False
        self._closed = False
        self._flush_now = trio.Event()
        self._room = trio.lowlevel.ParkingLot()
        self.before_write: Callable[[], bytes] | None = None
        """Returns bytes from elsewhere (captured stderr) that were written before this write."""

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._closed:
            self.output.write(data)
            return
        self._take_earlier()
        self._pending.append(data)
        self._pending_bytes += len(data)
        if self._pending_bytes > self.budget:
            self._flush_now.set()

    def copy(self, part: FileRange) -> None:
        if self._closed:
            self.output.copy(part)
        else:
            self._take_earlier()
            self._pending.append(part)

    def _take_earlier(self) -> None:
        earlier = self.before_write() if self.before_write is not None else b""
        if earlier:
            self._pending.append(earlier)
            self._pending_bytes += len(earlier)

    async def wait_room(self) -> None:
        while self._pending_bytes > self.budget and not self._closed:
            await self._room.park()
        await self.output.wait_room()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Draw a frame every `FRAME_INTERVAL` seconds until closed."""
        task_status.started()
        while not self._closed:
            with trio.move_on_after(FRAME_INTERVAL):
                await self._flush_now.wait()
            self._flush_now = trio.Event()
            # Waiting for the terminal to take the last frame keeps at most
            # one frame queued, however slow the terminal is.
            await self.output.drain()
            if not self._closed:
                self._take_earlier()
                self._frame(final=False)

    def close(self) -> None:
        """Write what waits to scroll, erase the region and show the cursor again."""
        if not self._closed:
            self._take_earlier()
            self._frame(final=True)
            self._closed = True
            self._room.unpark_all()

    def _frame(self, final: bool) -> None:
        # Erasing the old region first, rather than writing over it, also
        # drops the marks a rewrapping terminal (tmux) keeps on its rows; left
        # in place, they would join the new rows into one line at the next
        # resize.
        head = [SYNC_BEGIN, ERASE_REGION]
        if not self._drawn and not final:
            head.append(HIDE_CURSOR)
        if self._pending:
            self.output.write(b"".join(head))
            head = []
            for item in self._pending:
                if isinstance(item, FileRange):
                    self.output.copy(item)
                else:
                    self.output.write(item)
            self._pending = []
            self._pending_bytes = 0
            self._room.unpark_all()

        if final:
            tail = SHOW_CURSOR if self._drawn else b""
        else:
            width, height = self.size()
            lines = [line.encode("utf-8", "replace") for line in self.draw(width, height)]
            tail = b"\n".join(lines) + b"\r" + _cursor_up(len(lines) - 1)
            self._drawn = True
        self.output.write(b"".join(head) + tail + SYNC_END)


class Eta:
    """Estimates the time a build has left from the durations recorded by earlier builds.

    The estimate is the larger of two lower bounds: the longest chain of
    estimated durations still ahead, and the estimated work left spread
    over the job slots. A step with no record weighs the median of the
    recorded ones, as in the scheduler's order.
    """

    def __init__(
        self,
        plan: Plan,
        durations: Mapping[str, float],
        requested: Collection[str] | None,
        jobs: int | None,
    ) -> None:
        steps = tuple(s for s in plan.steps if requested is None or s.name in requested)
        selected = attrs.evolve(plan, steps=steps)
        self.names = [step.name for step in steps]
        self.known = any(name in durations for name in self.names)
        self.estimates = estimate_durations(selected, durations)
        self.order = [step.name for step in reversed(selected.topological_order())]
        """The steps in reverse dependency order: each comes after the steps that run after it."""
        self.dependents = selected.dependents()
        self.jobs = jobs

    def remaining(self, running: Mapping[str, float], finished: Collection[str]) -> float | None:
        """Return the estimated seconds left, or None when no duration is recorded.

        `running` maps each running step to its elapsed seconds. `finished`
        holds every step that will not run any more, blocked steps included:
        they add neither work nor length to a chain.
        """
        if not self.known:
            return None
        chains: dict[str, float] = {}
        work = 0.0
        for name in self.order:
            if name in finished:
                continue
            own = self.estimates[name]
            elapsed = running.get(name)
            left = own if elapsed is None else max(own - elapsed, 0.0)
            after = (chains[d] for d in self.dependents[name] if d in chains)
            chains[name] = left + max(after, default=0.0)
            work += left
        chain = max(chains.values(), default=0.0)
        spread = work / self.jobs if self.jobs else 0.0
        return max(chain, spread)


@attrs.define
class _Running:
    started: float
    index: int
    attempts: int
    attempt: int = 1
    tail: bytes = b""
    timed_out: bool = False


class _Symbols:
    def __init__(self, unicode: bool) -> None:
        self.spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏" if unicode else "|/-\\"
        self.separator = " · " if unicode else " | "
        self.ellipsis = "…" if unicode else "..."


class LiveReporter:
    """Keeps the state of the running build for the region, and passes each event on.

    `lines` is the plain reporter that writes what scrolls above the region.
    `clock` returns seconds; tests pass their own.
    """

    def __init__(
        self,
        lines: PlainReporter,
        eta: Eta | None = None,
        color: bool = True,
        unicode: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lines = lines
        self.eta = eta
        self.clock = clock
        self.symbols = _Symbols(unicode)
        self.total = 0
        self.done = 0
        self.up_to_date = 0
        self.failed = 0
        self.started = clock()
        self.running: dict[str, _Running] = {}
        self.finished: set[str] = set()
        self.stopping: str | None = None
        self._console = Console(
            file=io.StringIO(),
            force_terminal=True,
            color_system="auto" if color else None,
            no_color=not color,
            legacy_windows=False,
            highlight=False,
            emoji=False,
            markup=False,
        )
        system = self._console.color_system
        self._color_system: ColorSystem | None = COLOR_SYSTEMS.get(system) if system else None

    # Events.

    def build_started(self, plan: Plan, total: int) -> None:
        self.total = total
        self.started = self.clock()
        self.lines.build_started(plan, total)

    def step_started(self, step: PlanStep, log: Path | None) -> None:
        self.running[step.name] = _Running(self.clock(), step.index, step.retries + 1)
        self.lines.step_started(step, log)

    def step_output(self, step: PlanStep, data: bytes) -> None:
        running = self.running.get(step.name)
        if running is not None:
            running.tail = (running.tail + data[-TAIL_BYTES:])[-TAIL_BYTES:]
        self.lines.step_output(step, data)

    def step_timed_out(self, step: PlanStep, attempt: int, elapsed: float) -> None:
        running = self.running.get(step.name)
        if running is not None:
            running.timed_out = True
        self.lines.step_timed_out(step, attempt, elapsed)

    def step_retrying(self, step: PlanStep, attempt: int, previous: Verdict) -> None:
        running = self.running.get(step.name)
        if running is not None:
            running.attempt = attempt
            running.timed_out = False
        self.lines.step_retrying(step, attempt, previous)

    def step_finished(self, result: StepResult, blocked: Sequence[str]) -> None:
        name = result.step.name
        self.running.pop(name, None)
        self.finished.add(name)
        self.finished.update(blocked)
        # The same count as the plain lines: an up-to-date step leaves the total.
        if result.verdict.status is Status.UP_TO_DATE:
            self.total -= 1
            self.up_to_date += 1
        else:
            self.done += 1 + len(blocked)
        if result.verdict.status.is_failure:
            self.failed += 1
        self.lines.step_finished(result, blocked)

    def build_stopping(self, reason: str, running: Sequence[str]) -> None:
        self.stopping = reason
        self.lines.build_stopping(reason, running)

    def still_running(self, running: Sequence[tuple[str, float]]) -> None:
        pass  # the region shows the running steps all the time

    def interrupted(self, signum: int, running: Sequence[str], grace: float) -> None:
        self.stopping = f"interrupted by {signal_name(signum)}"
        self.lines.interrupted(signum, running, grace)

    def killing(self, running: Sequence[str], reason: str) -> None:
        self.lines.killing(running, reason)

    def build_finished(self, result: BuildResult) -> None:
        self.lines.build_finished(result)

    # The region.

    def draw(self, width: int, height: int) -> list[str]:
        """Return the region's lines with their colour codes, fitted to the terminal."""
        now = self.clock()
        fit = max(width - 1, 10)
        lines = [self._header(now)]
        # Spec order keeps each step on its row while it runs, and steps that
        # start together in a known order.
        names = sorted(self.running, key=lambda name: self.running[name].index)
        room = max(height - 2, 1)
        shown = names if len(names) <= room else names[: room - 1]
        name_width = min(MAX_NAME_WIDTH, max((len(name) for name in shown), default=0))
        spinner = self.symbols.spinner[int(now / FRAME_INTERVAL) % len(self.symbols.spinner)]
        lines.extend(self._running_line(name, now, name_width, spinner) for name in shown)
        if len(shown) < len(names):
            lines.append(Text(f"  {self.symbols.ellipsis} and {len(names) - len(shown)} more"))
        return [self._render(line, fit) for line in lines]

    def _header(self, now: float) -> Text:
        waiting = max(self.total - self.done - len(self.running), 0)
        sep = self.symbols.separator
        header = Text.assemble(
            ("parc ", "bold"),
            (f"{self.done}/{self.total} done", "bold"),
            f"{sep}{len(self.running)} running{sep}{waiting} waiting",
        )
        if self.up_to_date:
            header.append(f"{sep}{self.up_to_date} up to date")
        if self.failed:
            header.append(f"{sep}{self.failed} failed", "bold red")
        header.append(f"{sep}{format_seconds(now - self.started)}", "dim")
        if self.stopping is not None:
            header.append(f"{sep}stopping: {self.stopping}", "yellow")
        elif self.eta is not None:
            elapsed = {name: now - step.started for name, step in self.running.items()}
            left = self.eta.remaining(elapsed, self.finished)
            if left is not None:
                header.append(f"{sep}ETA {format_estimate(left)}", "cyan")
        return header

    def _running_line(self, name: str, now: float, name_width: int, spinner: str) -> Text:
        step = self.running[name]
        shown_name = name if len(name) <= name_width else name[: name_width - 1] + "~"
        line = Text.assemble(
            "  ",
            (spinner, "cyan"),
            " ",
            (shown_name.ljust(name_width), "bold"),
            f" {format_seconds(now - step.started):>6}",
        )
        if step.timed_out:
            line.append("  timed out; ending its commands", "red")
        elif step.attempt > 1:
            line.append(f"  attempt {step.attempt} of {step.attempts}", "yellow")
        last = last_line(step.tail)
        if last:
            line.append("  ")
            line.append_text(Text.from_ansi(last, style="dim"))
        return line

    def _render(self, text: Text, width: int) -> str:
        text.truncate(width, overflow="ellipsis")
        return "".join(
            segment.style.render(segment.text, color_system=self._color_system)
            if segment.style is not None
            else segment.text
            for segment in text.render(self._console)
        )


def format_estimate(seconds: float) -> str:
    """Format an estimate no more precisely than it deserves: `<1s`, `42s`, `4m05s`."""
    if seconds < 1:
        return "<1s"
    if seconds < 60:
        return f"{round(seconds)}s"
    return format_seconds(seconds)


# The text form of the byte pattern that prefixed output uses.
LINE_RESTART = re.compile(report.LINE_RESTART.pattern.decode())


def last_line(tail: bytes) -> str:
    """Return the last line with visible text in a step's latest output, tabs expanded.

    A line that a progress bar redraws (see `report.LINE_RESTART`) counts from its
    last redraw, which is what a terminal would show.
    """
    text = tail.decode("utf-8", "replace")
    for line in reversed(text.split("\n")):
        for part in reversed(LINE_RESTART.split(line)):
            if Text.from_ansi(part).plain.strip():
                return part.expandtabs()
    return ""


class StderrCapture:
    """Points file descriptor 2 at a pipe, until `stop`.

    A thread empties the pipe as soon as it has data, so a burst of writes
    never blocks the writer; `take` also empties it, so it returns every byte
    written before the call and each line scrolls in its place among parc's
    other lines. Only whole lines are handed out.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        self._partial = b""
        sys.stderr.flush()
        self._read_fd, write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._saved = os.dup(2)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._thread = threading.Thread(target=self._read, name="parc-stderr", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        poller = select.poll()
        poller.register(self._read_fd, select.POLLIN)
        while True:
            poller.poll()
            with self._lock:
                if not self._drain():
                    return

    def _drain(self) -> bool:
        """Read what the pipe holds, with the lock held; return False at its end."""
        while True:
            try:
                data = os.read(self._read_fd, 1 << 16)
            except BlockingIOError:
                return True
            except InterruptedError:
                continue
            except OSError:
                return False
            if not data:
                return False
            self._chunks.append(data)

    def take(self) -> bytes:
        """Return the whole lines written so far and not yet returned."""
        with self._lock:
            if self._thread.is_alive():
                self._drain()
            data = self._partial + b"".join(self._chunks)
            self._chunks.clear()
            cut = data.rfind(b"\n") + 1
            self._partial = data[cut:]
        return data[:cut]

    def stop(self) -> bytes:
        """Point file descriptor 2 back at what it was; return what is left, ending in a newline."""
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._thread.join(timeout=5)
        rest = self.take() + self._partial
        self._partial = b""
        os.close(self._read_fd)
        return rest + b"\n" if rest and not rest.endswith(b"\n") else rest


class LiveDisplay:
    """Live progress for one build: the reporter, the screen and the captured stderr."""

    def __init__(
        self,
        output: ThreadedOutput,
        out: BinaryIO,
        plan: Plan,
        options: Options,
        mode: OutputMode,
        color: bool,
    ) -> None:
        try:
            self._fd: int | None = out.fileno()
        except (OSError, ValueError, io.UnsupportedOperation):
            self._fd = None
        self.screen = LiveScreen(output, self._draw, self._size)
        lines = PlainReporter(self.screen, mode, color, columns=self._columns)
        eta = Eta(plan, options.durations, options.requested, options.jobs)
        encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
        self._reporter = LiveReporter(lines, eta, color, unicode=encoding == "utf8")
        self._capture: StderrCapture | None = None

    @property
    def reporter(self) -> Reporter:
        return self._reporter

    async def wait_room(self) -> None:
        await self.screen.wait_room()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        if os.isatty(2):
            try:
                self._capture = StderrCapture()
            except OSError as error:
                logger.warning("cannot capture stderr under the live display: %s", error)
            else:
                self.screen.before_write = self._capture.take
        await self.screen.run(task_status)

    def close(self) -> None:
        if self._capture is not None:
            self.screen.before_write = None
            self.screen.write(self._capture.stop())
            self._capture = None
        self.screen.close()

    def _draw(self, width: int, height: int) -> list[str]:
        return self._reporter.draw(width, height)

    def _columns(self) -> int:
        return self._size()[0]

    def _size(self) -> tuple[int, int]:
        if self._fd is not None:
            try:
                size = os.get_terminal_size(self._fd)
                return size.columns, size.lines
            except OSError:
                pass
        size = shutil.get_terminal_size()
        return size.columns, size.lines
