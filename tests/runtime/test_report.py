"""The plain reporter fed by hand: headers, modes, partial lines, summary."""

from __future__ import annotations

import io
import signal
from pathlib import Path

import pytest

from parc.plan import Plan, PlanStep
from parc.runtime.executor import BuildResult, StepResult
from parc.runtime.output import DirectOutput
from parc.runtime.report import MAX_PARTIAL_LINE, OutputMode, PlainReporter, format_seconds
from parc.runtime.scheduler import Status, Verdict

ALPHA = PlanStep("alpha", "track", 0, ("true",), retries=2)
BETA = PlanStep("beta", "track", 1, ("true",), after=("alpha",))
GAMMA = PlanStep("gamma", "track", 2, ("true",))
PLAN = Plan("test.par", "/nonexistent", (ALPHA, BETA, GAMMA))


def reporter(mode: OutputMode) -> tuple[PlainReporter, io.BytesIO]:
    sink = io.BytesIO()
    shown = PlainReporter(DirectOutput(sink), mode)
    shown.build_started(PLAN, 3)
    return shown, sink


def test_grouped_header_then_whole_log(tmp_path: Path) -> None:
    log = tmp_path / "alpha.log"
    log.write_bytes(b"one\ntwo without newline")
    shown, sink = reporter(OutputMode.GROUPED)
    shown.step_started(ALPHA, log)
    shown.step_output(ALPHA, b"ignored: grouped mode reads the log")
    shown.step_finished(StepResult(ALPHA, Verdict(Status.SUCCEEDED), 1, None, 0.0, 1.5, log), [])
    assert sink.getvalue().decode() == (
        "parc: `alpha` started\n"
        "[1/3] alpha succeeded in 1.50s (attempt 1 of 3)\none\ntwo without newline\n"
    )


def test_grouped_output_so_far_is_not_repeated(tmp_path: Path) -> None:
    log = tmp_path / "alpha.log"
    log.write_bytes(b"early\n")
    shown, sink = reporter(OutputMode.GROUPED)
    shown.step_started(ALPHA, log)
    shown.interrupted(signal.SIGINT, ["alpha"], 5.0)
    with log.open("ab") as file:
        file.write(b"late\n")
    verdict = Verdict(Status.CANCELLED, "interrupted by SIGINT")
    shown.step_finished(StepResult(ALPHA, verdict, 1, None, 0.0, 2.0, log), [])
    assert sink.getvalue().decode() == (
        "parc: `alpha` started\n"
        "parc: SIGINT received; sent it to alpha; SIGKILL follows in 5.00s "
        "(or at a second signal)\n"
        "parc: output of `alpha` so far:\nearly\n"
        "[1/3] alpha cancelled after 2.00s: interrupted by SIGINT (attempt 1 of 3)\nlate\n"
    )


@pytest.mark.parametrize(
    ("mode", "prefix"), [(OutputMode.PREFIXED, "alpha | "), (OutputMode.RAW, "")]
)
def test_live_modes_write_whole_lines(mode: OutputMode, prefix: str) -> None:
    shown, sink = reporter(mode)
    shown.step_started(ALPHA, None)
    shown.step_output(ALPHA, b"par")
    shown.step_output(GAMMA, b"gamma line\n")
    shown.step_output(ALPHA, b"tial\nnext")
    shown.step_finished(StepResult(ALPHA, Verdict(Status.SUCCEEDED), 1, None, 0.0, 0.5), [])
    gamma = "gamma | " if mode is OutputMode.PREFIXED else ""
    assert sink.getvalue().decode().splitlines()[:4] == [
        "parc: `alpha` started",
        f"{gamma}gamma line",
        f"{prefix}partial",
        f"{prefix}next",
    ]


def test_overlong_line_is_split() -> None:
    shown, sink = reporter(OutputMode.RAW)
    shown.step_output(ALPHA, b"x" * (MAX_PARTIAL_LINE + 10))
    shown.step_output(ALPHA, b"y\n")
    assert sink.getvalue() == b"x" * (MAX_PARTIAL_LINE + 10) + b"\ny\n"


def test_failure_shows_tail_blocked_and_log(tmp_path: Path) -> None:
    log = tmp_path / "alpha.log"
    log.write_text("".join(f"line {i}\n" for i in range(30)))
    shown, sink = reporter(OutputMode.PREFIXED)
    verdict = Verdict(Status.FAILED, "exit code 2")
    shown.step_finished(StepResult(ALPHA, verdict, 3, None, 0.0, 3.0, log), ["beta"])
    lines = sink.getvalue().decode().splitlines()
    assert (
        lines[0] == "[1/3] alpha failed after 3.00s over 3 attempts: exit code 2 (attempt 3 of 3)"
    )
    assert lines[1] == "parc: last lines of the log of `alpha`:"
    assert lines[2:22] == [f"    line {i}" for i in range(10, 30)]
    assert lines[22] == "parc: `alpha` blocks beta"
    assert lines[23].startswith("parc: log of `alpha`: ")
    assert lines[23].endswith("alpha.log")
    assert lines[24] == "[2/3] beta blocked: `alpha` failed"


def test_up_to_date_step_has_no_header() -> None:
    shown, sink = reporter(OutputMode.GROUPED)
    verdict = Verdict(Status.UP_TO_DATE, "nothing changed")
    shown.step_finished(StepResult(ALPHA, verdict, 0, None, 0.0, 0.0), [])
    assert sink.getvalue() == b""
    assert shown.finished == 0


def test_summary_lists_each_status_and_counts() -> None:
    shown, sink = reporter(OutputMode.GROUPED)
    results = {
        "alpha": StepResult(ALPHA, Verdict(Status.FAILED, "exit code 1")),
        "beta": StepResult(BETA, Verdict(Status.BLOCKED, "`alpha` failed")),
        "gamma": StepResult(GAMMA, Verdict(Status.NOT_REQUESTED)),
    }
    shown.build_finished(BuildResult(results, 10.0, 72.5))
    assert sink.getvalue().decode() == (
        "parc: failed: alpha (exit code 1)\n"
        "parc: blocked: beta (`alpha` failed)\n"
        "parc: 1 failed, 1 blocked, 1 not requested in 1m02s\n"
    )


def test_interrupted_summary_names_signal() -> None:
    shown, sink = reporter(OutputMode.GROUPED)
    results = {"alpha": StepResult(ALPHA, Verdict(Status.SUCCEEDED))}
    shown.build_finished(BuildResult(results, 0.0, 1.0, signal.SIGTERM))
    assert sink.getvalue().decode() == "parc: interrupted by SIGTERM: 1 succeeded in 1.00s\n"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "0.00s"), (9.994, "9.99s"), (12.34, "12.3s"), (65.0, "1m05s"), (3725.0, "1h02m")],
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text
