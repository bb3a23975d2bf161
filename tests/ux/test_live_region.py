"""The live region drawn from hand-fed events, with a clock the test moves."""

from __future__ import annotations

from pathlib import Path

import pyte
import pytest
import trio
import trio.testing
from ux_virtual import sink

from parc.plan import Plan, PlanStep
from parc.runtime.executor import StepResult
from parc.runtime.live import Eta, LiveReporter, LiveScreen, format_estimate, last_line
from parc.runtime.output import ThreadedOutput
from parc.runtime.report import OutputMode, PlainReporter
from parc.runtime.scheduler import Status, Verdict

FETCH = PlanStep("fetch", "track", 0, ("true",))
COMPILE = PlanStep("compile-everything", "track", 1, ("true",), after=("fetch",), retries=2)
DOCS = PlanStep("docs", "track", 2, ("true",))
PLAN = Plan("build.par", "/nonexistent", (FETCH, COMPILE, DOCS))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def unspun(lines: list[str]) -> list[str]:
    """Replace the spinner's frame, which depends on the clock's absolute value, with `*`."""
    return [line[:2] + "*" + line[3:] if line[2:3] in SPINNER else line for line in lines]


SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def live(eta: Eta | None = None) -> tuple[LiveReporter, Clock]:
    clock = Clock()
    output, _ = sink()
    reporter = LiveReporter(
        PlainReporter(output, OutputMode.NONE), eta, color=False, unicode=True, clock=clock
    )
    reporter.build_started(PLAN, 3)
    return reporter, clock


def test_region_shows_counts_and_running_steps() -> None:
    reporter, clock = live()
    reporter.step_started(FETCH, None)
    clock.now += 0.5
    reporter.step_started(DOCS, None)
    reporter.step_output(FETCH, b"downloading 1/3\ndownloading 2/3\n")
    reporter.step_output(DOCS, b"page 1\npage 2 (partial")
    clock.now += 1.25
    assert unspun(reporter.draw(80, 24)) == [
        "parc 0/3 done · 2 running · 1 waiting · 1.75s",
        "  * fetch  1.75s  downloading 2/3",
        "  * docs   1.25s  page 2 (partial",
    ]


def test_finished_and_failed_steps_update_header() -> None:
    reporter, clock = live()
    reporter.step_started(FETCH, None)
    clock.now += 2
    reporter.step_finished(StepResult(FETCH, Verdict(Status.SUCCEEDED), 1, None, 0, 2), [])
    reporter.step_started(COMPILE, None)
    reporter.step_retrying(COMPILE, 2, Verdict(Status.FAILED, "exit code 1"))
    reporter.step_started(DOCS, None)
    verdict = Verdict(Status.FAILED, "exit code 2")
    reporter.step_finished(StepResult(DOCS, verdict, 1, None, 2, 2), [])
    reporter.build_stopping("`docs` failed", ["compile-everything"])
    clock.now += 3
    assert unspun(reporter.draw(100, 24)) == [
        "parc 2/3 done · 1 running · 0 waiting · 1 failed · 5.00s · stopping: `docs` failed",
        "  * compile-everything  3.00s  attempt 2 of 3",
    ]


def test_header_total_leaves_out_up_to_date_steps() -> None:
    reporter, clock = live()
    verdict = Verdict(Status.UP_TO_DATE, "unchanged since its last success")
    reporter.step_finished(StepResult(DOCS, verdict, 0, None, 0, 0), [])
    reporter.step_started(FETCH, None)
    clock.now += 1
    assert unspun(reporter.draw(100, 24)) == [
        "parc 0/2 done · 1 running · 1 waiting · 1 up to date · 1.00s",
        "  * fetch  1.00s",
    ]


def test_region_fits_narrow_and_short_terminals() -> None:
    reporter, clock = live()
    for step in PLAN.steps:
        reporter.step_started(step, None)
        reporter.step_output(step, b"x" * 200 + b"\n")
    clock.now += 1
    lines = unspun(reporter.draw(30, 4))
    assert lines == [
        "parc 0/3 done · 3 running · …",
        "  * fetch  1.00s  xxxxxxxxxx…",
        "  … and 2 more",
    ]
    assert all(len(line) <= 29 for line in lines)


def test_region_keeps_step_colours_and_drops_cursor_moves() -> None:
    clock = Clock()
    output, _ = sink()
    reporter = LiveReporter(PlainReporter(output, OutputMode.NONE), None, color=True, clock=clock)
    reporter.build_started(PLAN, 3)
    reporter.step_started(FETCH, None)
    reporter.step_output(FETCH, b"\x1b[2K\x1b[1A\x1b[31mred text\x1b[0m\n")
    line = reporter.draw(80, 24)[1]
    assert "red text" in line
    assert "\x1b[2K" not in line
    assert "\x1b[1A" not in line
    assert "31" in line  # the step's own red survives, dimmed


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (b"one\ntwo\n", "two"),
        (b"one\ntwo\n\n   \n", "two"),
        (b"progress 10%\rprogress 55%\r", "progress 55%"),
        (b"\x1b[2K\x1b[1Gprogress 10%\x1b[2K\x1b[1Gprogress 55%", "progress 55%"),
        (b"\x1b[Gdownloading 1/9\x1b[Gdownloading 2/9", "downloading 2/9"),
        (b"building\x1b[2Klinking", "linking"),
        (b"a\tb", "a       b"),
        (b"\x1b[32m\x1b[0m\nlast\n\x1b[0m\n", "last"),
        (b"", ""),
        (b"\xff\xfeodd bytes\n", "\ufffd\ufffdodd bytes"),
    ],
)
def test_last_line_is_what_a_terminal_shows_last(tail: bytes, expected: str) -> None:
    assert last_line(tail) == expected


def test_eta_is_the_longer_of_chain_and_work() -> None:
    durations = {"fetch": 10.0, "compile-everything": 30.0, "docs": 50.0}
    eta = Eta(PLAN, durations, None, jobs=1)
    assert eta.remaining({}, set()) == 90.0  # one slot: all the work in a row
    eta = Eta(PLAN, durations, None, jobs=4)
    assert eta.remaining({}, set()) == 50.0  # docs alone is the longest chain
    assert eta.remaining({"fetch": 4.0, "docs": 45.0}, set()) == 36.0
    assert eta.remaining({"compile-everything": 40.0}, {"fetch", "docs"}) == 0.0
    assert Eta(PLAN, {}, None, jobs=2).remaining({}, set()) is None


def test_eta_counts_only_requested_steps() -> None:
    durations = {"fetch": 10.0, "compile-everything": 30.0, "docs": 50.0}
    eta = Eta(PLAN, durations, {"fetch", "compile-everything"}, jobs=4)
    assert eta.remaining({}, set()) == 40.0


def test_eta_leaves_out_blocked_steps() -> None:
    # `package` runs after both; once `lint` fails it is blocked, so only
    # what is left of `build` remains.
    build = PlanStep("build", "track", 0, ("true",))
    lint = PlanStep("lint", "track", 1, ("true",))
    package = PlanStep("package", "integrate", 2, ("true",), after=("build", "lint"))
    plan = Plan("build.par", "/nonexistent", (build, lint, package))
    durations = {"build": 10.0, "lint": 1.0, "package": 100.0}
    eta = Eta(plan, durations, None, jobs=4)
    assert eta.remaining({"build": 4.0, "lint": 0.5}, set()) == 106.0
    assert eta.remaining({"build": 4.0}, {"lint", "package"}) == 6.0


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.2, "<1s"), (1.4, "1s"), (42.6, "43s"), (245.0, "4m05s")]
)
def test_format_estimate(seconds: float, text: str) -> None:
    assert format_estimate(seconds) == text


def test_screen_frames_keep_scrolled_lines_and_redraw_region(tmp_path: Path) -> None:
    """Frames fed to a terminal emulator: lines scroll above, the region stays below."""
    terminal = pyte.Screen(40, 8)
    stream = pyte.ByteStream(terminal)
    region = [["header one", "  step a"]]

    class Sink:
        def write(self, data: bytes) -> int:
            # A terminal's line discipline turns each newline into CR LF.
            stream.feed(bytes(data).replace(b"\n", b"\r\n"))
            return len(data)

        def flush(self) -> None:
            pass

    async def main() -> None:
        output = ThreadedOutput(Sink())  # type: ignore[arg-type]
        screen = LiveScreen(output, lambda width, height: region[0], lambda: (40, 8))
        async with trio.open_nursery() as nursery:
            await nursery.start(output.run)
            await nursery.start(screen.run)
            await trio.sleep(0.25)
            await output.drain()
            assert terminal.display[:3] == ["header one".ljust(40), "  step a".ljust(40), " " * 40]
            assert terminal.cursor.hidden
            screen.write(b"[1/2] a succeeded\n")
            region[0] = ["header two"]
            await trio.sleep(0.25)
            await output.drain()
            assert terminal.display[:3] == [
                "[1/2] a succeeded".ljust(40),
                "header two".ljust(40),
                " " * 40,
            ]
            screen.write(b"summary\n")
            screen.close()
            await output.drain()
            nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert terminal.display[:3] == [
        "[1/2] a succeeded".ljust(40),
        "summary".ljust(40),
        " " * 40,
    ]
    assert not terminal.cursor.hidden
    assert (terminal.cursor.x, terminal.cursor.y) == (0, 2)
