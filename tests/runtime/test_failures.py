"""Every status a step can end with, as the user sees it, with real processes."""

from __future__ import annotations

import re
from pathlib import Path

from procs import run_parc, write_spec


def test_failure_names_exit_code_log_and_blocked_steps(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        """\
track bad { run "echo first words; echo last words; exit 3" }
track child after bad { run "echo never" }
track grandchild after child { run "echo never" }
""",
    )
    completed = run_parc(project, "--output", "prefixed")
    out = completed.stdout

    assert completed.returncode == 1
    assert re.search(r"^\[1/3\] bad failed after \d+\.\d+s: exit code 3$", out, re.M), out
    assert "[2/3] child blocked: `bad` failed\n[3/3] grandchild blocked: `bad` failed\n" in out
    assert "parc: last lines of the log of `bad`:\n    first words\n    last words\n" in out
    assert "parc: `bad` blocks child, grandchild\n" in out
    assert "parc: log of `bad`: .parc/logs/bad.log\n" in out
    assert "parc: failed: bad (exit code 3)\n" in out
    assert "parc: blocked: child, grandchild (`bad` failed)\n" in out
    assert out.splitlines()[-1].startswith("parc: 1 failed, 2 blocked in ")
    assert project.log("bad") == "first words\nlast words\n"


def test_failure_is_reported_before_slower_steps_end(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track bad { run "exit 1" }\ntrack slow { run "sleep 1; echo slow done" }\n',
    )
    completed = run_parc(project, "-j", "2", "-k")
    out = completed.stdout
    assert completed.returncode == 1
    assert out.index("bad failed") < out.index("slow done")


def test_killed_by_signal(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track crash { run "kill -SEGV $$" }\n')
    completed = run_parc(project)
    assert completed.returncode == 1
    assert "crash failed after" in completed.stdout
    assert ": killed by SIGSEGV" in completed.stdout


def test_command_not_found_could_not_start(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track missing {\n    retries 2\n    run "no-such-command-for-parc --version"\n}\n',
    )
    completed = run_parc(project)
    out = completed.stdout
    assert completed.returncode == 1
    assert "missing could not start after" in out
    assert ": command not found, exit code 127\n" in out
    # Retrying cannot make a command appear, so there is one attempt only.
    assert "attempt 2" not in out
    assert "not found" in project.log("missing")


def test_later_command_not_found_fails_the_step(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track late {\n    retries 1\n    run "echo ran"\n    run "no-such-command-for-parc"\n}\n',
    )
    completed = run_parc(project)
    out = completed.stdout
    assert completed.returncode == 1
    # The first command ran, so the step started; it failed, and is retried.
    assert "late failed after" in out
    assert ": command not found, exit code 127 (attempt 2 of 2)" in out
    assert project.log("late").count("ran\n") == 2


def test_missing_directory_could_not_start(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track away {\n    cwd "nowhere"\n    run "true"\n}\n')
    completed = run_parc(project)
    assert completed.returncode == 1
    assert "away could not start" in completed.stdout
    assert "directory `nowhere` does not exist" in completed.stdout


def test_retries_are_numbered_in_output_and_log(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        """\
track flaky {
    retries 2
    run "if [ -f tried ]; then echo second try; else touch tried; echo first try; exit 1; fi"
}
""",
    )
    completed = run_parc(project)
    out = completed.stdout
    assert completed.returncode == 0, out
    assert "parc: `flaky` failed: exit code 1; starting attempt 2 of 3\n" in out
    assert re.search(
        r"^\[1/1\] flaky succeeded in \d+\.\d+s over 2 attempts \(attempt 2 of 3\)$", out, re.M
    )
    assert project.log("flaky") == (
        "parc: attempt 1 of 3\nfirst try\nparc: attempt 2 of 3\nsecond try\n"
    )


def test_timeout_retried_then_timed_out(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track slow {\n    timeout 200ms\n    retries 1\n    run "echo go; sleep 30"\n}\n',
    )
    completed = run_parc(project, "--grace", "1")
    out = completed.stdout
    assert completed.returncode == 1
    assert "parc: `slow` timed out after 0.2" in out
    assert "(attempt 2 of 2); ending its commands" in out
    assert re.search(
        r"^\[1/1\] slow timed out after \d+\.\d+s over 2 attempts and their grace periods: "
        r"exceeded its 0\.20s timeout \(attempt 2 of 2\)$",
        out,
        re.M,
    )
    assert "parc: timed out: slow (exceeded its 0.20s timeout)" in out
    assert project.log("slow") == "parc: attempt 1 of 2\ngo\nparc: attempt 2 of 2\ngo\n"


def test_fail_fast_cancels_steps_not_started(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track bad { run "exit 1" }\ntrack other { run "echo other" }\n',
    )
    completed = run_parc(project, "-j", "1")
    out = completed.stdout
    assert completed.returncode == 1
    assert "parc: `bad` failed, so no new step starts (-k keeps going)\n" in out
    assert "parc: cancelled: other (not started because `bad` failed)\n" in out
    assert "other\n" not in out


def test_keep_going_runs_independent_steps(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track bad { run "exit 1" }\ntrack other { run "echo other ran" }\n',
    )
    completed = run_parc(project, "-j", "1", "-k")
    assert completed.returncode == 1
    assert "other ran" in completed.stdout
    assert completed.stdout.splitlines()[-1].startswith("parc: 1 succeeded, 1 failed in ")


def test_steps_outside_targets_are_not_requested(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track a { run "echo a" }\ntrack b after a { run "echo b" }\ntrack c { run "echo c" }\n',
    )
    completed = run_parc(project, "b")
    assert completed.returncode == 0
    assert "[2/2] b succeeded" in completed.stdout
    assert "parc: 2 succeeded, 1 not requested in " in completed.stdout
    assert "\nc\n" not in completed.stdout
