"""The no-op build path (`parc.cli.noop`) decides and prints exactly what the normal path does.

Each case builds two identical projects, changes both the same way, and runs
`parc build` in one as usual and in the other with `PARC_FAST_NOOP=0`. The
exit codes, output, build reports and recorded state must be equal, and the
debug log shows which cases the no-op path decided on its own. Each case
runs with stdout on a pipe and on a pseudo-terminal, whose bytes are
compared when the no-op path decided.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import click
import pyte
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parc.cli import noop
from parc.cli.build import build as build_command
from parc.plan import PlanStep
from parc.render import use_color
from parc.runtime import live
from parc.runtime import report as plain_report
from parc.runtime.progress import Progress, resolve_progress
from parc.runtime.scheduler import Status
from parc.runtime.state import store

SPEC = """\
let greeting = "hello"

track a {
    reads "src/a.txt"
    owns "out/a.txt"
    run "cp -p src/a.txt out/a.txt"
}

track b after a {
    reads "src/b*.txt", "out/a.txt"
    owns "out/b.txt"
    run "cat src/b1.txt out/a.txt > out/b.txt && touch -r src/b1.txt out/b.txt"
}

track c {
    reads "src/c.txt"
    owns "out/c.txt"
    env GREETING = "{{greeting}}"
    run "cp -p src/c.txt out/c.txt"
}
"""

DECIDED = "no-op build: every requested step is up to date"
_DEBUG_LINE = re.compile(r"^parc\.[\w.]+: .*\n", re.MULTILINE)
_ELAPSED = re.compile(r"\b\d+\.\d\ds\b")
_TIME = re.compile(r'"\d{4}-\d\d-\d\dT[\d:.]+Z"')
_COUNTER = re.compile(r"^\[\d+/\d+\]", re.MULTILINE)
_TIMING_LINE = re.compile(r"^parc: (slowest|parallelism|critical path): .*\n", re.MULTILINE)
_DURATION = re.compile(r'"duration": [\d.e-]+')


def make_project(root: Path, spec: str = SPEC) -> Path:
    """Write the project with sources ten seconds old, so their cached digests are trusted."""
    (root / "src").mkdir(parents=True)
    (root / "out").mkdir()
    (root / "build.par").write_text(spec)
    past = time.time() - 10
    for name, text in (("a", "A\n"), ("b1", "B\n"), ("c", "C\n")):
        path = root / "src" / f"{name}.txt"
        path.write_text(text)
        os.utime(path, (past, past))
    return root


def parc(
    root: Path, *arguments: str, fast: bool = True, terminal: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run `parc build`; on a terminal, stdout is a pseudo-terminal with colour."""
    if terminal:
        return on_terminal(root, arguments, terminal_environment(fast))
    env = dict(os.environ, NO_COLOR="1", PARC_LOG="debug")
    env.pop("PARC_STEP", None)
    env[noop.SWITCH] = "1" if fast else "0"
    return subprocess.run(
        [sys.executable, "-m", "parc", "build", *arguments],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def terminal_environment(fast: bool, **extra: str) -> dict[str, str]:
    """Return the environment of a person at a colour terminal, outside CI."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CI", "NO_COLOR", "PARC_STEP", "COLUMNS", "LINES")
    }
    env.update(TERM="xterm-256color", LANG="C.UTF-8", PARC_LOG="debug")
    env[noop.SWITCH] = "1" if fast else "0"
    env.update(extra)
    return env


def on_terminal(
    root: Path, arguments: Sequence[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run `parc build` with stdout on a pseudo-terminal, decoded as Latin-1.

    Stderr goes to a file, so the debug log that tells which path decided
    stays off the terminal (the live display would capture it otherwise).
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    errors = root.parent / f"{root.name}.stderr"
    with errors.open("w+b") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "parc", "build", *arguments],
            cwd=root,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=stderr,
            start_new_session=True,
        )
        os.close(slave)
        raw = bytearray()
        try:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError as error:
                    if error.errno == errno.EINTR:
                        continue
                    break  # EIO: every copy of the other side is closed
                if not data:
                    break
                raw.extend(data)
            code = process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)
        stderr.seek(0)
        text = stderr.read().decode()
    return subprocess.CompletedProcess(process.args, code, raw.decode("latin-1"), text)


def screen_lines(raw: str) -> list[str]:
    """Return the lines that a terminal shows after drawing `raw`, without trailing blanks."""
    screen = pyte.Screen(100, 40)
    pyte.ByteStream(screen).feed(raw.encode("latin-1"))
    return [line.rstrip() for line in screen.display if line.strip()]


def without_drawn_frames(raw: str) -> str:
    """Keep the live display's last frame only, as if the build ended before the first one.

    The normal path draws the region every 0.1 s, so on a loaded machine it
    may draw it once before an up-to-date build ends.
    """
    hide = live.HIDE_CURSOR.decode()
    if hide not in raw:
        return raw
    begin = live.SYNC_BEGIN.decode()
    last = raw.rindex(begin)
    first = raw.index(begin)
    return raw[:first] + raw[last:].replace(live.SHOW_CURSOR.decode(), "")


def state_rows(root: Path) -> list[tuple[Any, ...]]:
    """Return what the state records of each step, without its times.

    Success serials follow the order in which parallel steps end, which
    differs from run to run, so only whether a step has one is compared.
    """
    with sqlite3.connect(root / ".parc" / "state.db") as connection:
        rows = connection.execute(
            "SELECT name, status, success_serial IS NOT NULL, fingerprint FROM steps ORDER BY name"
        ).fetchall()
    connection.close()
    return rows


def report(root: Path) -> str:
    text = (root / ".parc" / "last-build.json").read_text()
    text = _DURATION.sub('"duration": 0', text)
    return _TIME.sub('"T"', text.replace(str(root), "ROOT"))


def outcome(
    root: Path, completed: subprocess.CompletedProcess[str], terminal: bool = False
) -> dict[str, Any]:
    """Return what a build did, with times and the project's path taken out.

    Lines are compared as sorted lists: steps that are decided at the same
    moment start, and are explained, in an order that trio varies. For the
    same reason the counters and the lines that measure timing are left out.
    On a terminal, the lines are those left on the screen.
    """
    stderr = _DEBUG_LINE.sub("", completed.stderr).replace(str(root), "ROOT")
    shown = "\n".join(screen_lines(completed.stdout)) if terminal else completed.stdout
    # The total leaves out the steps found up to date so far, so it varies too.
    stdout = _COUNTER.sub("[n/N]", _TIMING_LINE.sub("", shown + "\n"))
    return {
        "exit": completed.returncode,
        "stdout": sorted(_ELAPSED.sub("Ns", stdout).splitlines()),
        "stderr": sorted(_ELAPSED.sub("Ns", stderr).splitlines()),
        "report": report(root),
        "state": state_rows(root),
    }


def touch_input(root: Path) -> None:
    (root / "src" / "c.txt").write_text("changed\n")


def delete_input(root: Path) -> None:
    (root / "src" / "b1.txt").unlink()


def add_input(root: Path) -> None:
    (root / "src" / "b2.txt").write_text("new\n")


def delete_output(root: Path) -> None:
    (root / "out" / "a.txt").unlink()


def change_command(root: Path) -> None:
    spec = root / "build.par"
    spec.write_text(spec.read_text().replace("cp -p src/c.txt", "cp -p  src/c.txt"))


def add_step_that_always_runs(root: Path) -> None:
    spec = root / "build.par"
    spec.write_text(spec.read_text() + 'track d { run "true" }\n')


def fail_last_run(root: Path) -> None:
    """Make `c` fail once, then restore its command, so only its record shows the failure."""
    spec = root / "build.par"
    original = spec.read_text()
    spec.write_text(original.replace("cp -p src/c.txt out/c.txt", "false"))
    assert parc(root, fast=False).returncode == 1
    spec.write_text(original)


def build_dependency_alone(root: Path) -> None:
    """Run `a` again by itself, so `b` is older than its dependency's last success."""
    (root / "src" / "a.txt").write_text("A2\n")
    assert parc(root, "a", fast=False).returncode == 0


def change_glob_alone(root: Path) -> None:
    """Write `src/a.txt` as another glob that matches the same file."""
    spec = root / "build.par"
    spec.write_text(spec.read_text().replace('reads "src/a.txt"', 'reads "src/a.tx?"'))


def output_never_created(root: Path) -> None:
    """Make `c` succeed without creating `out/c.txt`, so its success leaves no fingerprint."""
    spec = root / "build.par"
    spec.write_text(spec.read_text().replace('out/c.txt"\n}', 'out/c.tx"\n}'))
    (root / "out" / "c.txt").unlink()
    completed = parc(root, fast=False)
    assert completed.returncode == 0
    assert "did not create `out/c.txt`" in completed.stderr


def output_directory(root: Path) -> None:
    """Make `c` own a directory with one file in it."""
    spec = root / "build.par"
    text = spec.read_text().replace('owns "out/c.txt"', 'owns "gen"')
    spec.write_text(
        text.replace("cp -p src/c.txt out/c.txt", "mkdir -p gen && cp -p src/c.txt gen")
    )
    assert parc(root, fast=False).returncode == 0


def nothing(root: Path) -> None:
    pass


CASES: list[tuple[str, Callable[[Path], None], tuple[str, ...], bool]] = [
    ("nothing changed", nothing, (), True),
    ("nothing changed, -j", nothing, ("-j", "2"), True),
    ("one target", nothing, ("b",), True),
    # The cache contains the compile without overrides, so this one is compiled.
    ("override given", nothing, ("greeting=hello",), False),
    ("quiet progress", nothing, ("--progress", "quiet", "--output", "none"), True),
    ("input changed", touch_input, (), False),
    ("input deleted", delete_input, (), False),
    ("input added", add_input, (), False),
    ("output deleted", delete_output, (), False),
    ("command changed", change_command, (), False),
    # The spec changed, so the plan is compiled; both paths find `a` up to date.
    ("glob changed, same files", change_glob_alone, (), False),
    ("override changed", nothing, ("greeting=bye",), False),
    ("step that always runs", add_step_that_always_runs, (), False),
    ("failed last run", fail_last_run, (), False),
    ("output never created", output_never_created, (), False),
    ("output directory", output_directory, (), True),
    ("dependency ran alone", build_dependency_alone, (), False),
    ("explain", nothing, ("--explain",), False),
    ("dry run", nothing, ("-n",), False),
    ("force", nothing, ("-B",), False),
    ("unknown target", nothing, ("nope",), False),
]


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize(
    ("change", "arguments", "decided"),
    [
        pytest.param(change, arguments, decided, id=name)
        for name, change, arguments, decided in CASES
    ],
)
def test_noop_path_matches_normal_path(
    tmp_path: Path,
    change: Callable[[Path], None],
    arguments: tuple[str, ...],
    decided: bool,
    terminal: bool,
) -> None:
    outcomes = []
    raw = []
    for fast, name in ((True, "fast"), (False, "normal")):
        root = make_project(tmp_path / name)
        assert parc(root, fast=False).returncode == 0
        change(root)
        completed = parc(root, *arguments, fast=fast, terminal=terminal)
        assert (DECIDED in completed.stderr) == (fast and decided), completed.stderr
        outcomes.append(outcome(root, completed, terminal))
        raw.append(_ELAPSED.sub("Ns", completed.stdout))
    fast_outcome, normal_outcome = outcomes
    for key in ("exit", "stdout", "stderr", "report", "state"):
        assert fast_outcome[key] == normal_outcome[key], key
    if decided:
        assert raw[0] == without_drawn_frames(raw[1])


# Each display that `parc build` may choose on a terminal, and its environment.
DISPLAYS: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
    ("live", (), {}),
    ("live without colour", (), {"NO_COLOR": "1"}),
    ("plain", ("--progress", "plain"), {}),
    ("plain without colour", ("--progress", "plain"), {"NO_COLOR": "1"}),
    ("quiet", ("--progress", "quiet"), {}),
    ("quiet without colour", ("--progress", "quiet", "--output", "none"), {"NO_COLOR": "1"}),
    ("dumb terminal", (), {"TERM": "dumb"}),
    ("CI", (), {"CI": "true"}),
    ("no TERM", (), {"TERM": ""}),
]


@pytest.mark.parametrize(
    ("arguments", "extra"),
    [pytest.param(arguments, extra, id=name) for name, arguments, extra in DISPLAYS],
)
def test_noop_on_terminal_prints_same_bytes(
    tmp_path: Path, arguments: tuple[str, ...], extra: dict[str, str]
) -> None:
    root = make_project(tmp_path / "project")
    assert parc(root, fast=False).returncode == 0
    printed = []
    for fast in (True, False):
        env = terminal_environment(fast, **extra)
        if not extra.get("TERM", "x"):
            del env["TERM"]
        completed = on_terminal(root, arguments, env)
        assert completed.returncode == 0
        assert (DECIDED in completed.stderr) == fast, completed.stderr
        printed.append(_ELAPSED.sub("Ns", completed.stdout))
    assert printed[0] == without_drawn_frames(printed[1])
    assert "parc: 3 up to date in Ns" in printed[0]


_ENVIRONMENTS = st.fixed_dictionaries(
    {},
    optional={
        "TERM": st.sampled_from(["", "dumb", "xterm-256color", "unknown", "Dumb"]),
        "NO_COLOR": st.sampled_from(["", "1", "0"]),
        "CI": st.sampled_from(["", "0", "false", "No", " true ", "1"]),
    },
)


@given(
    st.sampled_from(["auto", "plain", "quiet"]),
    st.sampled_from([None, "grouped", "prefixed", "raw", "none"]),
    st.booleans(),
    _ENVIRONMENTS,
)
def test_display_chosen_as_build_chooses(
    progress: str, output: str | None, isatty: bool, environ: dict[str, str]
) -> None:
    request = noop.Request((), {}, None, True, progress, output)
    display = noop.choose_display(request, isatty, environ)
    if display is None:
        assert progress == "quiet"
        assert output in ("prefixed", "raw")
        return
    shown = resolve_progress(Progress(progress), isatty, environ)
    assert display.live == (shown is Progress.LIVE)

    class Stream:
        def isatty(self) -> bool:
            return isatty

    saved = {name: os.environ.get(name) for name in ("TERM", "NO_COLOR")}
    try:
        for name in saved:
            os.environ.pop(name, None)
            if name in environ:
                os.environ[name] = environ[name]
        expected = use_color(Stream())  # type: ignore[arg-type]
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
    assert display.color == expected


def test_display_bytes_match_runtime() -> None:
    assert noop.BOLD == plain_report._BOLD
    assert noop.RESET == plain_report._RESET
    assert noop.SYNC_BEGIN.encode() == live.SYNC_BEGIN
    assert noop.SYNC_END.encode() == live.SYNC_END
    assert noop.ERASE_REGION.encode() == live.ERASE_REGION


# Signals during the no-op build, sent while it waits before writing the report.


def start_paused(root: Path, ignore: str = "") -> subprocess.Popen[str]:
    """Start a no-op build that waits for a signal before it writes the report."""
    env = dict(os.environ, NO_COLOR="1", PARC_LOG="debug", PARC_TEST_PAUSE_AT="last-build")
    env.pop("PARC_STEP", None)
    env[noop.SWITCH] = "1"
    command = f"trap '' {ignore}; exec {sys.executable} -m parc build" if ignore else ""
    arguments = ["sh", "-c", command] if ignore else [sys.executable, "-m", "parc", "build"]
    return subprocess.Popen(
        arguments,
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_pause(root: Path, process: subprocess.Popen[str]) -> None:
    marker = root / "parc-paused-last-build"
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "parc never paused"
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_during_noop_build(tmp_path: Path, signum: int) -> None:
    root = make_project(tmp_path)
    assert parc(root).returncode == 0
    before = (root / ".parc" / "last-build.json").read_text()
    process = start_paused(root)
    wait_for_pause(root, process)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 128 + signum, stderr
    assert DECIDED not in stderr
    assert f"parc: interrupted by {signal.Signals(signum).name}\n" in stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    assert sorted(path.name for path in (root / ".parc").glob(".*.tmp")) == []
    # The report of the build before stays whole.
    assert (root / ".parc" / "last-build.json").read_text() == before


def test_ignored_signal_stays_ignored(tmp_path: Path) -> None:
    """A SIGHUP then a SIGINT end the build with 130: the SIGHUP was ignored.

    Python runs the handlers of pending signals in ascending order, so a
    handled SIGHUP would come first and give 129, however close they come.
    """
    root = make_project(tmp_path)
    assert parc(root).returncode == 0
    process = start_paused(root, ignore="HUP")
    wait_for_pause(root, process)
    process.send_signal(signal.SIGHUP)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 128 + signal.SIGINT, stderr
    assert "parc: interrupted by SIGINT\n" in stderr


def test_noop_report_lists_each_step(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    assert parc(root).returncode == 0
    completed = parc(root, "a")
    assert DECIDED in completed.stderr
    steps = json.loads((root / ".parc" / "last-build.json").read_text())["steps"]
    statuses = {step["name"]: step["status"] for step in steps}
    assert statuses == {"a": "up to date", "b": "not requested", "c": "not requested"}
    assert completed.stdout.startswith("parc: 1 up to date, 2 not requested in ")


def test_noop_report_counts_files_only(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    assert parc(root).returncode == 0
    output_directory(root)
    completed = parc(root, "c")
    assert DECIDED in completed.stderr
    steps = json.loads((root / ".parc" / "last-build.json").read_text())["steps"]
    reasons = {step["name"]: step["skip_reason"] for step in steps}
    assert reasons["c"] == "unchanged since its last success (1 input, 1 output)"


def test_recent_output_falls_back(tmp_path: Path) -> None:
    """A digest taken within the racy window is checked again, by the normal path."""
    root = make_project(tmp_path)
    spec = root / "build.par"
    spec.write_text(spec.read_text().replace("cp -p src/c.txt", "cp src/c.txt"))
    assert parc(root).returncode == 0
    completed = parc(root)
    assert completed.returncode == 0
    assert DECIDED not in completed.stderr


def test_row_fields_follow_plan_step() -> None:
    names = [field.name for field in attrs.fields(PlanStep)]
    indices = {
        "name": noop.NAME,
        "commands": noop.COMMANDS,
        "after": noop.AFTER,
        "env": noop.ENV,
        "cwd": noop.CWD,
        "reads": noop.READS,
        "owns": noop.OWNS,
    }
    for name, index in indices.items():
        assert names[index] == name


def test_status_words_match_runtime() -> None:
    assert Status.UP_TO_DATE.value == noop.UP_TO_DATE
    assert Status.NOT_REQUESTED.value == noop.NOT_REQUESTED


# Arguments: whatever the no-op path accepts, click reads the same way.

_WORDS = st.sampled_from(
    [
        "-j",
        "-j2",
        "-jx",
        "-j-1",
        "--jobs",
        "--jobs=3",
        "--jobs=-1",
        "4",
        "07",
        "-k",
        "--keep-going",
        "--no-wait",
        "-f",
        "--file",
        "--file=build.par",
        "-f=x",
        "--progress",
        "--progress=quiet",
        "plain",
        "quiet",
        "live",
        "--output",
        "--output=raw",
        "none",
        "prefixed",
        "a",
        "b",
        "x=1",
        "x-y=",
        "1x=2",
        "-B",
        "-n",
        "--explain",
        "--",
        "-",
        "--trace",
    ]
)


def click_parameters(arguments: list[str]) -> dict[str, Any] | None:
    """Return the parameters click gives `parc build`, or None if it rejects the arguments."""
    try:
        with build_command.make_context("build", list(arguments)) as context:
            return dict(context.params)
    except click.ClickException:
        return None


@given(st.lists(_WORDS, max_size=7))
def test_arguments_read_as_click_reads_them(arguments: list[str]) -> None:
    request = noop.parse_arguments(arguments)
    if request is None:
        return
    parameters = click_parameters(arguments)
    assert parameters is not None, arguments
    words = parameters["arguments"]
    assert request.targets == tuple(word for word in words if "=" not in word)
    assert request.overrides == dict(word.split("=", 1) for word in words if "=" in word)
    assert request.file == parameters["file"]
    assert request.wait is not parameters["no_wait"]
    assert request.progress == parameters["progress"]
    assert request.output == parameters["output"]
    assert not parameters["force"]
    assert not parameters["dry_run"]
    assert not parameters["explain"]
    assert parameters["trace"] is None


@pytest.mark.parametrize(
    "arguments",
    [
        ["-j", "4", "a"],
        ["-j", "a"],
        ["-j8"],
        ["--jobs=2", "--no-wait", "x=1"],
        ["-f", "build.par", "--progress", "plain"],
        ["--progress=quiet", "--output=grouped"],
    ],
)
def test_common_arguments_accepted(arguments: list[str]) -> None:
    assert noop.parse_arguments(arguments) is not None


@pytest.mark.parametrize(
    "arguments",
    [["-B"], ["-n"], ["--explain"], ["--trace", "t.json"], ["--help"], ["-kj"], ["--"], ["1x=2"]],
)
def test_other_arguments_fall_back(arguments: list[str]) -> None:
    assert noop.parse_arguments(arguments) is None


def test_state_names_match_store() -> None:
    assert noop.DATABASE_NAME == store.DATABASE_NAME
    assert noop.SCHEMA_VERSION == store.SCHEMA_VERSION
    assert noop.BUSY_TIMEOUT_SECONDS == store.BUSY_TIMEOUT_SECONDS
    assert noop.SUCCEEDED == store.SUCCEEDED


def test_no_op_path_imports_nothing_heavy(tmp_path: Path) -> None:
    """A no-op build of literal globs starts without attrs, logging, click, trio or the compiler.

    A glob with wildcards is parsed, which imports attrs.
    """
    root = make_project(tmp_path, SPEC.replace("src/b*.txt", "src/b1.txt"))
    assert parc(root).returncode == 0
    probe = (
        "import sys\n"
        "from parc.cli import main\n"
        "try:\n"
        "    main(['build'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'attrs', 'logging', 'click', 'trio', 'rich', 'lark', 'parc.compiler'}\n"
        "sys.stderr.write(repr(sorted(heavy & set(sys.modules))))\n"
    )
    env = dict(os.environ, NO_COLOR="1")
    env.pop("PARC_LOG", None)
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, env=env
    )
    assert completed.stdout.startswith("parc: 3 up to date in ")
    assert completed.stderr == "[]"
