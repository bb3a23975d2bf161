"""The no-op build path (`parc.cli.noop`) decides and prints exactly what the normal path does.

Each case builds two identical projects, changes both the same way, and runs
`parc build` in one as usual and in the other with `PARC_FAST_NOOP=0`. The
exit codes, output, build reports and recorded state must be equal, and the
debug log shows which cases the no-op path decided on its own.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parc.cli import noop
from parc.cli.build import build as build_command
from parc.plan import PlanStep
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


def parc(root: Path, *arguments: str, fast: bool = True) -> subprocess.CompletedProcess[str]:
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


def outcome(root: Path, completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Return what a build did, with times and the project's path taken out.

    Lines are compared as sorted lists: steps that are decided at the same
    moment start, and are explained, in an order that trio varies. For the
    same reason the counters and the lines that measure timing are left out.
    """
    stderr = _DEBUG_LINE.sub("", completed.stderr).replace(str(root), "ROOT")
    # The total leaves out the steps found up to date so far, so it varies too.
    stdout = _COUNTER.sub("[n/N]", _TIMING_LINE.sub("", completed.stdout))
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
    """Make `c` fail once, then restore its command, so only its record says it failed."""
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
    # The cache holds the compile without overrides, so this one is compiled.
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


@pytest.mark.parametrize(
    ("change", "arguments", "decided"),
    [
        pytest.param(change, arguments, decided, id=name)
        for name, change, arguments, decided in CASES
    ],
)
def test_noop_path_matches_normal_path(
    tmp_path: Path, change: Callable[[Path], None], arguments: tuple[str, ...], decided: bool
) -> None:
    outcomes = []
    for fast, name in ((True, "fast"), (False, "normal")):
        root = make_project(tmp_path / name)
        assert parc(root, fast=False).returncode == 0
        change(root)
        completed = parc(root, *arguments, fast=fast)
        assert (DECIDED in completed.stderr) == (fast and decided), completed.stderr
        outcomes.append(outcome(root, completed))
    fast_outcome, normal_outcome = outcomes
    for key in ("exit", "stdout", "stderr", "report", "state"):
        assert fast_outcome[key] == normal_outcome[key], key


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
