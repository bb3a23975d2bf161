"""Plain and quiet progress compared byte for byte, on a whole build in virtual time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ux_virtual import Script, run_virtual, sink

from parc.plan import Plan, PlanStep
from parc.runtime.live import LiveReporter
from parc.runtime.progress import (
    Progress,
    QuietReporter,
    default_output_mode,
    resolve_progress,
)
from parc.runtime.report import OutputMode, PlainReporter

FETCH = PlanStep("fetch", "track", 0, ("fetch",))
LIB = PlanStep("lib", "track", 1, ("lib",), after=("fetch",))
LINT = PlanStep("lint", "track", 2, ("lint",))
RELEASE = PlanStep("release", "integrate", 3, ("release",), after=("lib", "lint"))
PLAN = Plan("build.par", "/nonexistent", (FETCH, LIB, LINT, RELEASE))
SCRIPTS = {
    "fetch": Script(("fetched 3 packages",), ticks=2),
    "lib": Script(("compiling a.c", "compiling b.c"), ticks=5),
    "lint": Script(("src/a.c:3: unused variable",), ticks=3, code=1),
    "release": Script(("packed",), ticks=1),
}


def test_plain_grouped_build_byte_for_byte(tmp_path: Path) -> None:
    # Two slots, all steps weigh the same: fetch and lint start at 0, lib
    # when fetch ends at 2; lint fails at 3 and blocks release.
    output, buffer = sink()
    reporter = PlainReporter(output, OutputMode.GROUPED)
    run_virtual(PLAN, SCRIPTS, reporter, tmp_path)
    first, second, rest = buffer.getvalue().decode().split("\n", 2)
    # Steps that start at the same instant announce themselves in the order
    # trio runs their tasks, which trio deliberately varies.
    assert sorted([first, second]) == ["parc: `fetch` started", "parc: `lint` started"]
    assert rest == (
        "[1/4] fetch succeeded in 2.00s\n"
        "fetched 3 packages\n"
        "parc: `lib` started\n"
        "[2/4] lint failed after 3.00s: exit code 1\n"
        "src/a.c:3: unused variable\n"
        "parc: `lint` blocks release\n"
        f"parc: log of `lint`: {_shown(tmp_path / 'lint.log')}\n"
        "[3/4] release blocked: `lint` failed\n"
        "parc: `lint` failed, so no new step starts (-k keeps going); waiting for lib\n"
        "[4/4] lib succeeded in 5.00s\n"
        "compiling a.c\n"
        "compiling b.c\n"
        "parc: step     status     duration  attempts  reason\n"
        "parc: fetch    succeeded     2.00s         1\n"
        "parc: lint     failed        3.00s         1  exit code 1\n"
        "parc: lib      succeeded     5.00s         1\n"
        "parc: release  blocked           -         0  `lint` failed\n"
        "parc: critical path: fetch 2.00s -> lib 5.00s (7.00s of the build's 7.00s)\n"
        "parc: parallelism: up to 2 steps at once saved 30% of the serial time "
        "(10.0s of step time in 7.00s)\n"
        "parc: slowest: lib 5.00s, lint 3.00s, fetch 2.00s\n"
        "parc: failed: lint (exit code 1)\n"
        "parc: blocked: release (`lint` failed)\n"
        "parc: 2 succeeded, 1 failed, 1 blocked in 7.00s\n"
    )


def _shown(path: Path) -> str:
    """Return the log path as the reporter shows it: relative when that is shorter."""
    relative = os.path.relpath(path)
    return relative if len(relative) < len(str(path)) else str(path)


def test_quiet_shows_only_failures_and_counts(tmp_path: Path) -> None:
    output, buffer = sink()
    reporter = QuietReporter(output, OutputMode.NONE)
    run_virtual(PLAN, SCRIPTS, reporter, tmp_path)
    assert buffer.getvalue().decode() == (
        "[2/4] lint failed after 3.00s: exit code 1\n"
        "parc: last lines of the log of `lint`:\n"
        "    src/a.c:3: unused variable\n"
        "parc: `lint` blocks release\n"
        f"parc: log of `lint`: {_shown(tmp_path / 'lint.log')}\n"
        "parc: `lint` failed, so no new step starts (-k keeps going); waiting for lib\n"
        "parc: failed: lint (exit code 1)\n"
        "parc: blocked: release (`lint` failed)\n"
        "parc: 2 succeeded, 1 failed, 1 blocked in 7.00s\n"
    )


def test_quiet_rejects_output_as_it_comes() -> None:
    with pytest.raises(ValueError, match="prefixed"):
        QuietReporter(sink()[0], OutputMode.PREFIXED)


@pytest.mark.parametrize(
    ("requested", "isatty", "environ", "expected"),
    [
        (Progress.AUTO, True, {"TERM": "xterm-256color"}, Progress.LIVE),
        (Progress.AUTO, False, {"TERM": "xterm-256color"}, Progress.PLAIN),
        (Progress.AUTO, True, {"TERM": "dumb"}, Progress.PLAIN),
        (Progress.AUTO, True, {}, Progress.PLAIN),
        (Progress.AUTO, True, {"TERM": "xterm", "CI": "true"}, Progress.PLAIN),
        (Progress.AUTO, True, {"TERM": "xterm", "CI": "1"}, Progress.PLAIN),
        (Progress.AUTO, True, {"TERM": "xterm", "CI": "false"}, Progress.LIVE),
        (Progress.AUTO, True, {"TERM": "xterm", "CI": ""}, Progress.LIVE),
        (Progress.AUTO, True, {"TERM": "xterm", "NO_COLOR": "1"}, Progress.LIVE),
        (Progress.LIVE, False, {"TERM": "dumb", "CI": "true"}, Progress.LIVE),
        (Progress.PLAIN, True, {"TERM": "xterm"}, Progress.PLAIN),
        (Progress.QUIET, True, {"TERM": "xterm"}, Progress.QUIET),
    ],
)
def test_auto_progress_follows_terminal_and_environment(
    requested: Progress, isatty: bool, environ: dict[str, str], expected: Progress
) -> None:
    assert resolve_progress(requested, isatty, environ) is expected


@pytest.mark.parametrize(
    ("progress", "isatty", "expected"),
    [
        (Progress.LIVE, True, OutputMode.NONE),
        (Progress.QUIET, False, OutputMode.NONE),
        (Progress.PLAIN, True, OutputMode.PREFIXED),
        (Progress.PLAIN, False, OutputMode.GROUPED),
    ],
)
def test_default_output_mode_per_progress(
    progress: Progress, isatty: bool, expected: OutputMode
) -> None:
    assert default_output_mode(progress, isatty) is expected


def test_live_lines_number_blocked_steps(tmp_path: Path) -> None:
    output, buffer = sink()
    reporter = LiveReporter(PlainReporter(output, OutputMode.NONE), None, color=False)
    run_virtual(PLAN, SCRIPTS, reporter, tmp_path)
    lines = buffer.getvalue().decode().splitlines()
    assert "[3/4] release blocked: `lint` failed" in lines
    assert [line.split()[0] for line in lines if line.startswith("[")] == [
        "[1/4]",
        "[2/4]",
        "[3/4]",
        "[4/4]",
    ]


# `two` runs after the others, so both are found up to date before it ends.
INCREMENTAL_SPEC = "".join(
    f'track {name} {{\n    reads "{name}.in"\n    owns "{name}.out"\n'
    f'    run "cp {name}.in {name}.out"\n{after}}}\n'
    for name, after in (("one", ""), ("three", ""), ("two", "    after one, three\n"))
)


def parc_build(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "parc",
            "build",
            "--progress",
            "plain",
            "--output",
            "none",
            *arguments,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={key: value for key, value in os.environ.items() if key != "NO_COLOR"},
    )


def test_counter_total_leaves_out_up_to_date_steps(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(INCREMENTAL_SPEC)
    for name in ("one", "two", "three"):
        (tmp_path / f"{name}.in").write_text(name)
    first = parc_build(tmp_path, "-j", "1")
    assert first.returncode == 0, first.stderr
    assert sorted(re.findall(r"^\[(\d)/(\d)\]", first.stdout, re.M)) == [
        ("1", "3"),
        ("2", "3"),
        ("3", "3"),
    ]

    (tmp_path / "two.in").write_text("two, edited")
    second = parc_build(tmp_path, "-j", "1")
    assert second.returncode == 0, second.stderr
    headers = [line for line in second.stdout.splitlines() if line.startswith("[")]
    assert headers == [headers[0]]
    assert headers[0].startswith("[1/1] two succeeded")
