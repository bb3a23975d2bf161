"""`parc build` end to end: parallelism, order, pools, targets, overrides, dry run.

Steps record when they start and end with `date +%s.%N` into files named
after the step, so the tests read the real schedule from the steps
themselves. Only orderings are asserted, never durations.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from parc.cli.build import build as build_command

RECORD = 'run "date +%s.%N > {{step}}.start; sleep 0.3; date +%s.%N > {{step}}.end"'


def meet(other: str) -> str:
    """Return a command that records its times and waits, up to 30 s, for `other` to start.

    It fails unless `other` starts while it runs, so a success proves that
    the two steps overlapped, however slow the machine is.
    """
    return (
        'run "date +%s.%N > {{step}}.start; i=0; '
        f"until [ -s {other}.start ]; do i=$((i+1)); [ $i -gt 600 ] && exit 1; sleep 0.05; done; "
        'date +%s.%N > {{step}}.end"'
    )


def build(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1")
    env.pop("PARC_STEP", None)
    return subprocess.run(
        [sys.executable, "-m", "parc", "build", *arguments],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def spec(root: Path, text: str) -> Path:
    (root / "build.par").write_text(text)
    return root


def interval(root: Path, step: str) -> tuple[float, float]:
    return (
        float((root / f"{step}.start").read_text()),
        float((root / f"{step}.end").read_text()),
    )


def overlap(first: tuple[float, float], second: tuple[float, float]) -> bool:
    return first[0] < second[1] and second[0] < first[1]


def test_independent_steps_run_in_parallel(tmp_path: Path) -> None:
    root = spec(tmp_path, f"track a {{ {meet('b')} }}\ntrack b {{ {meet('a')} }}\n")
    completed = build(root, "-j", "2")
    assert completed.returncode == 0, completed.stdout
    assert overlap(interval(root, "a"), interval(root, "b"))


def meet_all(others: list[str]) -> str:
    """Return a command that waits, up to 30 s, until every step in `others` has started."""
    started = " && ".join(f"[ -s {other}.start ]" for other in others)
    return (
        'run "date +%s.%N > {{step}}.start; i=0; '
        f"until {started}; do i=$((i+1)); [ $i -gt 600 ] && exit 1; sleep 0.05; done; "
        'date +%s.%N > {{step}}.end"'
    )


def test_bare_jobs_before_target_has_no_limit(tmp_path: Path) -> None:
    # Three steps that wait for each other succeed only if all three run at once.
    names = ["a", "b", "c"]
    steps = "".join(
        f"track {name} {{ {meet_all([other for other in names if other != name])} }}\n"
        for name in names
    )
    root = spec(tmp_path, steps + 'integrate all {\n    run "true"\n}\n')
    completed = build(root, "-j", "all")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert all((root / f"{name}.end").exists() for name in names)


@pytest.mark.parametrize(
    ("arguments", "jobs", "targets"),
    [
        (["-j", "4"], 4, ()),
        (["-j4"], 4, ()),
        (["--jobs=4"], 4, ()),
        (["--jobs", "4", "cli"], 4, ("cli",)),
        (["-j", "cli"], 0, ("cli",)),
        (["-j", "cc=clang", "cli"], 0, ("cc=clang", "cli")),
        (["-j"], 0, ()),
        (["--jobs"], 0, ()),
        (["-j", "-k", "cli"], 0, ("cli",)),
        (["-kj", "cli"], 0, ("cli",)),
        (["-kj", "3"], 3, ()),
        (["-f", "-j", "cli"], None, ("cli",)),
        ([], None, ()),
        (["--", "-j"], None, ("-j",)),
    ],
)
def test_jobs_option_forms(arguments: list[str], jobs: int | None, targets: tuple[str]) -> None:
    context = build_command.make_context("build", arguments)
    assert context.params["jobs"] == jobs
    assert context.params["arguments"] == targets


def test_negative_jobs_is_invalid() -> None:
    for arguments in (["-j", "-1"], ["--jobs=-1"], ["-kj", "-2"]):
        with pytest.raises(click.BadParameter, match="is not in the range x>=0"):
            build_command.make_context("build", arguments)


def test_jobs_word_is_usage_error(tmp_path: Path) -> None:
    root = spec(tmp_path, 'track test { run "true" }\n')
    for arguments in (["-j", "abc"], ["-kj", "abc"], ["-j", "abc", "test"]):
        completed = build(root, *arguments)
        assert completed.returncode == 2, arguments
        assert "-j expects a number of jobs, got `abc`" in completed.stderr, arguments
        assert "E0211" not in completed.stderr, arguments
    for arguments in (["-j"], ["-j4"], ["-j", "4"], ["-j", "test"]):
        completed = build(root, *arguments)
        assert completed.returncode == 0, (arguments, completed.stderr)


@pytest.mark.parametrize(
    ("target", "suggestion"),
    [("tset", "test"), ("tst", "test"), ("docss", "docs"), ("dcos", "docs")],
)
def test_unknown_target_suggests_close_step(tmp_path: Path, target: str, suggestion: str) -> None:
    root = spec(
        tmp_path, "".join(f'track {name} {{ run "true" }}\n' for name in ("test", "docs", "set"))
    )
    completed = build(root, target)
    assert completed.returncode == 2
    assert f"no step named `{target}`" in completed.stderr
    assert f"did you mean `{suggestion}`?" in completed.stderr


def test_unknown_target_far_from_all_points_to_list(tmp_path: Path) -> None:
    root = spec(tmp_path, 'track test { run "true" }\n')
    completed = build(root, "deploy")
    assert completed.returncode == 2
    assert "did you mean" not in completed.stderr
    assert "run `parc list` to see every step" in completed.stderr


def test_one_job_runs_steps_one_at_a_time(tmp_path: Path) -> None:
    names = ["a", "b", "c"]
    root = spec(tmp_path, "".join(f"track {name} {{ {RECORD} }}\n" for name in names))
    completed = build(root, "-j", "1")
    assert completed.returncode == 0, completed.stdout
    times = [interval(root, name) for name in names]
    assert not any(overlap(x, y) for x in times for y in times if x is not y)


def test_pool_limits_steps_below_jobs(tmp_path: Path) -> None:
    names = ["a", "b", "c"]
    steps = "".join(f"track {name} {{\n    pool link\n    {RECORD}\n}}\n" for name in names)
    root = spec(tmp_path, f"pool link = 1\ntrack free {{ {meet('a')} }}\n{steps}")
    completed = build(root, "-j", "4")
    assert completed.returncode == 0, completed.stdout
    times = [interval(root, name) for name in names]
    assert not any(overlap(x, y) for x in times for y in times if x is not y)
    assert any(overlap(interval(root, "free"), other) for other in times)


def test_step_starts_after_its_dependencies(tmp_path: Path) -> None:
    root = spec(
        tmp_path,
        f"track a {{ {RECORD} }}\ntrack b {{ {RECORD} }}\n"
        f"integrate both after a, b {{ {RECORD} }}\ntrack last after both {{ {RECORD} }}\n",
    )
    completed = build(root, "-j", "4")
    assert completed.returncode == 0, completed.stdout
    both = interval(root, "both")
    assert both[0] >= interval(root, "a")[1]
    assert both[0] >= interval(root, "b")[1]
    assert interval(root, "last")[0] >= both[1]


def test_longest_remaining_path_starts_first(tmp_path: Path) -> None:
    # With one slot, the head of the chain of three goes before the single
    # steps written above it in the spec.
    root = spec(
        tmp_path,
        f"track single1 {{ {RECORD} }}\ntrack single2 {{ {RECORD} }}\n"
        f"track head {{ {RECORD} }}\ntrack middle after head {{ {RECORD} }}\n"
        f"track tail after middle {{ {RECORD} }}\n",
    )
    completed = build(root, "-j", "1")
    assert completed.returncode == 0, completed.stdout
    starts = {name: interval(root, name)[0] for name in ("single1", "single2", "head")}
    assert min(starts, key=starts.__getitem__) == "head"
    assert starts["single1"] < starts["single2"]  # ties in spec order


def test_fail_fast_and_keep_going_exit_one(tmp_path: Path) -> None:
    root = spec(
        tmp_path,
        'track bad { run "exit 7" }\ntrack later after bad { run "touch later.ran" }\n'
        'track other { run "sleep 0.5; touch other.ran" }\n',
    )
    fail_fast = build(root, "-j", "1")
    assert fail_fast.returncode == 1
    assert not (root / "other.ran").exists()
    assert "blocked: later (`bad` failed)" in fail_fast.stdout

    keep_going = build(root, "-j", "1", "-k")
    assert keep_going.returncode == 1
    assert (root / "other.ran").exists()
    assert not (root / "later.ran").exists()


def test_named_targets_and_overrides(tmp_path: Path) -> None:
    root = spec(
        tmp_path,
        'let greeting = "hello"\n'
        'track base { run "echo {{greeting}} > base.out" }\n'
        'track wanted after base { run "cat base.out > wanted.out" }\n'
        'track unwanted { run "touch unwanted.out" }\n',
    )
    completed = build(root, "wanted", "greeting=good day")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (root / "wanted.out").read_text() == "good day\n"
    assert not (root / "unwanted.out").exists()
    assert "2 succeeded, 1 not requested" in completed.stdout


def test_dry_run_runs_nothing(tmp_path: Path) -> None:
    root = spec(
        tmp_path,
        'track b after a { run "touch b.out" }\n'
        'track a {\n    cwd "sub"\n    run "touch a.out"\n}\n',
    )
    completed = build(root, "-n")
    assert completed.returncode == 0
    assert completed.stdout == "# a (in sub)\ntouch a.out\n# b\ntouch b.out\n"
    assert not list(root.glob("*.out"))
    # The compiled plan is cached, but nothing is recorded about steps.
    assert sorted(path.name for path in (root / ".parc").iterdir()) == [".gitignore", "plan-cache"]


INCREMENTAL = """\
track lib {
    reads "lib.c"
    owns "lib.o"
    run "cp lib.c lib.o"
}

track app after lib {
    reads "lib.o", "app.c"
    owns "app"
    run "cat lib.o app.c > app"
}

track docs {
    reads "docs.md"
    owns "docs.html"
    run "cp docs.md docs.html"
}
"""


def _state_files(root: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in (root / ".parc").iterdir() if path.is_file()}


def _built(root: Path) -> Path:
    """Write INCREMENTAL and its sources under `root`, and build them once."""
    spec(root, INCREMENTAL)
    for name in ("lib.c", "app.c", "docs.md"):
        (root / name).write_text(f"{name}\n")
    assert build(root).returncode == 0
    return root


def test_dry_run_prints_only_steps_that_would_run(tmp_path: Path) -> None:
    root = _built(tmp_path)
    (root / "app.c").write_text("changed\n")
    before = _state_files(root)

    completed = build(root, "-n")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        "# app\ncat lib.o app.c > app\n# 2 steps are up to date; -B -n prints every step\n"
    )
    # The state is read without a trace: no `-wal` or `-shm` file, no change.
    assert _state_files(root) == before
    assert (root / "app").read_text() == "lib.c\napp.c\n"

    forced = build(root, "-B", "-n")
    assert forced.stdout.splitlines() == [
        "# lib",
        "cp lib.c lib.o",
        "# docs",
        "cp docs.md docs.html",
        "# app",
        "cat lib.o app.c > app",
    ]
    assert _state_files(root) == before


def test_dry_run_includes_dependents_of_changed_step(tmp_path: Path) -> None:
    root = _built(tmp_path)
    (root / "lib.c").write_text("changed\n")
    completed = build(root, "-n", "--explain")
    assert [line for line in completed.stdout.splitlines() if line.startswith("#")] == [
        "# lib",
        "# app",
        "# 1 step is up to date; -B -n prints every step",
    ]
    assert "`app` would run: dependency `lib` would run in this build" in completed.stderr
    assert build(root, "-n", "docs").stdout == ("# 1 step is up to date; -B -n prints every step\n")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nosuch"], "no step named `nosuch`"),
        (["--output", "fancy"], "parc: error: invalid value for '--output'"),
        (["-j", "-1"], "parc: error: invalid value for '-j' / '--jobs': -1 is not in the range"),
        (["--jobs", "x"], "parc: error: invalid value for '-j' / '--jobs': 'x' is not"),
        (["--grace", "-1"], "parc: error: invalid value for '--grace'"),
        (["--bogus"], "parc: error: no such option '--bogus'"),
    ],
)
def test_usage_errors_exit_two(tmp_path: Path, arguments: list[str], message: str) -> None:
    root = spec(tmp_path, 'track a { run "true" }\n')
    completed = build(root, *arguments)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
    assert "Error:" not in completed.stderr


def test_success_exits_zero_with_summary(tmp_path: Path) -> None:
    root = spec(tmp_path, 'track a { run "echo out" }\n')
    completed = build(root)
    assert completed.returncode == 0
    assert completed.stdout.splitlines()[-1].startswith("parc: 1 succeeded in ")
