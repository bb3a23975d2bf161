"""The summary at the end of a build: the table, critical path, parallelism and slowest steps."""

from __future__ import annotations

import io
import signal

from hypothesis import given
from hypothesis import strategies as st

from parc.plan import Plan, PlanStep
from parc.runtime.executor import BuildResult, StepResult
from parc.runtime.output import DirectOutput
from parc.runtime.report import OutputMode, PlainReporter
from parc.runtime.scheduler import Status, Verdict
from parc.runtime.summary import (
    critical_path,
    format_saving,
    format_summary,
    peak_parallelism,
    summarize,
)

FETCH = PlanStep("fetch", "track", 0, ("true",))
LIB = PlanStep("lib", "track", 1, ("true",), after=("fetch",))
DOCS = PlanStep("docs", "track", 2, ("true",))
LINT = PlanStep("lint", "track", 3, ("true",), retries=1)
RELEASE = PlanStep("release", "integrate", 4, ("true",), after=("lib", "docs", "lint"))
CACHED = PlanStep("cached", "track", 5, ("true",))
PLAN = Plan("build.par", "/nonexistent", (FETCH, LIB, DOCS, LINT, RELEASE, CACHED))

OK = Verdict(Status.SUCCEEDED)


def ran(
    step: PlanStep, started: float, ended: float, verdict: Verdict = OK, attempts: int = 1
) -> StepResult:
    return StepResult(step, verdict, attempts, None, started, ended, None, slot=0)


def build_result() -> BuildResult:
    """Two slots: fetch then lib on one, docs then lint on the other, then release."""
    results = {
        "fetch": ran(FETCH, 0.0, 1.0),
        "lib": ran(LIB, 1.0, 9.0),
        "docs": ran(DOCS, 0.0, 2.0),
        "lint": ran(LINT, 2.0, 6.0, Verdict(Status.FAILED, "exit code 1"), attempts=2),
        "release": StepResult(RELEASE, Verdict(Status.BLOCKED, "`lint` failed")),
        "cached": StepResult(
            CACHED, Verdict(Status.UP_TO_DATE, "unchanged since its last success"), 0, None, 0, 0
        ),
    }
    return BuildResult(results, 0.0, 10.0)


def test_plain_summary_byte_for_byte() -> None:
    sink = io.BytesIO()
    reporter = PlainReporter(DirectOutput(sink), OutputMode.GROUPED)
    reporter.build_started(PLAN, 6)
    reporter.build_finished(build_result())
    assert sink.getvalue().decode() == (
        "parc: step     status      duration  attempts  reason\n"
        "parc: fetch    succeeded      1.00s         1\n"
        "parc: docs     succeeded      2.00s         1\n"
        "parc: cached   up to date     0.00s         0  unchanged since its last success\n"
        "parc: lib      succeeded      8.00s         1\n"
        "parc: lint     failed         4.00s         2  exit code 1\n"
        "parc: release  blocked            -         0  `lint` failed\n"
        "parc: critical path: fetch 1.00s -> lib 8.00s (9.00s of the build's 10.0s)\n"
        "parc: parallelism: up to 2 steps at once saved 33% of the serial time "
        "(15.0s of step time in 10.0s)\n"
        "parc: slowest: lib 8.00s, lint 4.00s, docs 2.00s\n"
        "parc: failed: lint (exit code 1)\n"
        "parc: blocked: release (`lint` failed)\n"
        "parc: 3 succeeded, 1 failed, 1 blocked, 1 up to date in 10.0s\n"
    )


def test_interrupted_build_has_no_critical_path_or_saving() -> None:
    finished = build_result()
    cancelled = Verdict(Status.CANCELLED, "interrupted by SIGINT")
    results = dict(finished.results, lib=ran(LIB, 1.0, 3.0, cancelled))
    result = BuildResult(results, 0.0, 3.5, interrupted_by=signal.SIGINT)
    summary = summarize(result)
    assert summary.interrupted
    assert summary.critical_path == ()

    lines = format_summary(summary)
    assert not any(line.startswith("parc: critical path:") for line in lines)
    assert not any(line.startswith("parc: parallelism:") for line in lines)
    assert "parc: slowest: lint 4.00s, lib 2.00s, docs 2.00s" in lines

    sink = io.BytesIO()
    reporter = PlainReporter(DirectOutput(sink), OutputMode.GROUPED)
    reporter.build_started(PLAN, 6)
    reporter.build_finished(result)
    text = sink.getvalue().decode()
    assert "saved" not in text
    assert "parc: interrupted by SIGINT: " in text


def test_summary_colours_only_the_status() -> None:
    plain = format_summary(summarize(build_result()))
    painted = format_summary(summarize(build_result()), lambda _s, text: f"[{text}]")
    assert [line.replace("[", "").replace("]", "") for line in painted] == plain
    assert "[failed]" in painted[5]


def test_no_summary_when_nothing_ran() -> None:
    cached = StepResult(CACHED, Verdict(Status.UP_TO_DATE, "unchanged"), 0, None, 0.0, 0.0)
    blocked = StepResult(RELEASE, Verdict(Status.BLOCKED, "`lint` failed"))
    result = BuildResult({"cached": cached, "release": blocked}, 0.0, 0.2)
    assert format_summary(summarize(result)) == []


def test_one_step_has_no_critical_path_line() -> None:
    result = BuildResult({"fetch": ran(FETCH, 0.0, 1.0)}, 0.0, 1.0)
    lines = format_summary(summarize(result))
    assert lines == [
        "parc: step   status     duration  attempts  reason",
        "parc: fetch  succeeded     1.00s         1",
    ]


def test_serial_build_saves_nothing() -> None:
    results = {"fetch": ran(FETCH, 0.0, 1.0), "lib": ran(LIB, 1.0, 3.0)}
    lines = format_summary(summarize(BuildResult(results, 0.0, 3.0)))
    assert "parc: parallelism: one step at a time (3.00s of step time in 3.00s)" in lines


def test_long_table_keeps_failures_and_slowest() -> None:
    steps = [PlanStep(f"s{i:02d}", "track", i, ("true",)) for i in range(30)]
    results = {step.name: ran(step, i, i + 1 + i / 100) for i, step in enumerate(steps)}
    results["s00"] = ran(steps[0], 0.0, 0.5, Verdict(Status.FAILED, "exit code 2"))
    lines = format_summary(summarize(BuildResult(results, 0.0, 40.0)), max_rows=5)
    table = [line.split()[1] for line in lines[1:6]]
    assert table == ["s00", "s26", "s27", "s28", "s29"]
    assert lines[6] == "parc: and 25 more steps (25 succeeded); `parc report` shows every step"


def test_critical_path_names_queueing() -> None:
    # lib could start at 1.0 when fetch ended, but waited for a slot until 3.0.
    results = {"fetch": ran(FETCH, 0.0, 1.0), "lib": ran(LIB, 3.0, 4.0), "docs": ran(DOCS, 0, 3)}
    path = critical_path(BuildResult(results, 0.0, 4.0))
    assert [(step.name, step.queued) for step in path] == [("fetch", 0.0), ("lib", 2.0)]
    lines = format_summary(summarize(BuildResult(results, 0.0, 4.0)))
    assert "parc: critical path: fetch 1.00s -> lib 1.00s (queued 2.00s) " in lines[4]


def test_critical_path_passes_through_up_to_date_steps() -> None:
    results = {
        "fetch": ran(FETCH, 0.0, 2.0),
        "lib": StepResult(LIB, Verdict(Status.UP_TO_DATE, "unchanged"), 0, None, 2.0, 2.0),
        "docs": ran(DOCS, 0.0, 1.0),
        "lint": ran(LINT, 0.0, 0.5),
        "release": ran(RELEASE, 2.0, 3.0),
    }
    path = critical_path(BuildResult(results, 0.0, 3.0))
    assert [step.name for step in path] == ["fetch", "release"]


intervals = st.lists(
    st.tuples(st.integers(0, 20), st.integers(0, 6)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=12,
)


@given(intervals)
def test_peak_parallelism_matches_brute_force(spans: list[tuple[int, int]]) -> None:
    results = [ran(FETCH, float(start), float(end)) for start, end in spans]
    # Brute force: a step runs at t when start <= t < end; only starts can raise the count.
    expected = max(
        (sum(1 for s, e in spans if s <= t < e) for t, _ in spans),
        default=0,
    )
    assert peak_parallelism(results) == expected


def test_saving_under_half_a_percent_is_nothing() -> None:
    # fetch and docs overlap for 0.01s of 20.01s of step time.
    results = {"fetch": ran(FETCH, 0.0, 10.0), "docs": ran(DOCS, 9.99, 20.0)}
    summary = summarize(BuildResult(results, 0.0, 20.0))
    assert summary.saved is not None and summary.saved > 0
    assert format_saving(summary) == "up to 2 steps at once saved nothing"
    lines = format_summary(summary)
    assert "parc: parallelism: up to 2 steps at once saved nothing " in lines[4]
    assert not [line for line in lines if "0%" in line]


def test_narrow_terminal_gets_a_list() -> None:
    summary = summarize(build_result())
    lines = format_summary(summary, columns=40)
    assert lines[:6] == [
        "parc: fetch succeeded in 1.00s",
        "parc: docs succeeded in 2.00s",
        "parc: cached up to date: unchanged since its last success",
        "parc: lib succeeded in 8.00s",
        "parc: lint failed after 4.00s (2 attempts): exit code 1",
        "parc: release blocked: `lint` failed",
    ]
    assert lines[6].startswith("parc: critical path: ")


def test_table_kept_where_it_fits() -> None:
    summary = summarize(build_result())
    table = format_summary(summary)
    widest = max(len(line) for line in table[:7])
    assert format_summary(summary, columns=widest) == table
    assert format_summary(summary, columns=widest - 1) != table
