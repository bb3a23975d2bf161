"""Real parc processes: two at once on one project, interrupts, and a closed output pipe."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Project

WAIT_LIMIT = 60.0
"""Seconds to wait for a process to reach a point; only a hung test ever takes this long."""

HOLDING_SPEC = """\
track hold {
    reads "in.txt"
    owns "out.txt"
    run "echo start >> events.log && touch holding"
    run "while test -e hold; do sleep 0.02; done"
    run "cp in.txt out.txt && echo end >> events.log && echo {{step}} >> ran.log"
}
"""


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _start(project: Project, *args: str, stderr: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a parc process; its stderr goes to the file `stderr`, if given."""
    if stderr is None:
        return subprocess.Popen(
            project.command(*args),
            cwd=project.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    with stderr.open("wb") as stream:
        return subprocess.Popen(
            project.command(*args), cwd=project.root, stdout=subprocess.DEVNULL, stderr=stream
        )


@pytest.fixture
def holding(project: Project) -> Project:
    """A project whose one step waits while the file `hold` exists."""
    project.spec(HOLDING_SPEC)
    project.write("in.txt", "x\n")
    project.write("hold", "")
    return project


def test_second_parc_waits_for_the_first(holding: Project, tmp_path: Path) -> None:
    first = _start(holding, "build")
    _wait_until(lambda: (holding.root / "holding").exists(), "the first build's step")

    stderr = tmp_path / "second.err"
    second = _start(holding, "build", "-B", stderr=stderr)
    _wait_until(lambda: "waiting for another parc" in stderr.read_text(), "the wait message")
    message = stderr.read_text()
    assert f"(process {first.pid})" in message
    assert "--no-wait" in message
    assert (holding.root / "events.log").read_text() == "start\n"

    (holding.root / "hold").unlink()
    assert first.wait(timeout=WAIT_LIMIT) == 0
    assert second.wait(timeout=WAIT_LIMIT) == 0
    # One step, two builds, never at the same time.
    assert (holding.root / "events.log").read_text() == "start\nend\nstart\nend\n"


def test_no_wait_refuses_while_another_builds(holding: Project) -> None:
    first = _start(holding, "build")
    try:
        _wait_until(lambda: (holding.root / "holding").exists(), "the first build's step")
        refused = holding.run_process("build", "--no-wait")
        assert refused.code == 2
        assert f"another parc (process {first.pid}) is building this project" in refused.stderr
        assert refused.ran == []
        cleaning = holding.run_process("clean", "--no-wait")
        assert cleaning.code == 2
        assert (holding.root / "events.log").read_text() == "start\n"
    finally:
        (holding.root / "hold").unlink()
        first.wait(timeout=WAIT_LIMIT)
    assert holding.run_process("build", "--no-wait").code == 0


def test_killed_holder_releases_the_lock(holding: Project) -> None:
    first = _start(holding, "build")
    _wait_until(lambda: (holding.root / "holding").exists(), "the first build's step")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=WAIT_LIMIT)
    (holding.root / "hold").unlink()
    again = holding.run_process("build", "--no-wait", "--explain")
    assert again.code == 0, again.stderr
    assert again.ran == ["hold"]
    assert "its last run did not finish (parc stopped during it)" in again.stderr


def test_interrupted_step_reruns(holding: Project) -> None:
    first = _start(holding, "build")
    _wait_until(lambda: (holding.root / "holding").exists(), "the step to start")
    holding.write("out.txt", "x\n")  # as if the step had already written its output
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=WAIT_LIMIT) == 130
    assert holding.statuses()["hold"] == "cancelled"
    assert holding.last_build()["interrupted_by"] == "SIGINT"

    (holding.root / "hold").unlink()
    again = holding.build("--explain")
    assert again.ran == ["hold"]
    assert "`hold` runs: its last run was interrupted" in again.stderr
    assert holding.build().ran == []


def test_interrupted_rerun_after_success_reruns(holding: Project) -> None:
    (holding.root / "hold").unlink()
    assert holding.build().ran == ["hold"]
    holding.write("hold", "")
    (holding.root / "holding").unlink()
    first = _start(holding, "build", "-B")
    _wait_until(lambda: (holding.root / "holding").exists(), "the step to start")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=WAIT_LIMIT) == 128 + signal.SIGTERM
    (holding.root / "hold").unlink()
    again = holding.build("--explain")
    assert again.ran == ["hold"]
    assert "`hold` runs: its last run was interrupted" in again.stderr


CHAIN_SPEC = """\
track first {
    reads "in.txt"
    owns "first.txt"
    run "cp in.txt first.txt && echo {{step}} >> ran.log"
}
track second after first {
    reads "first.txt"
    owns "second.txt"
    run "cp first.txt second.txt && echo {{step}} >> ran.log"
}
"""


def _closed_pipe() -> int:
    """Return the write end of a pipe whose read end is already closed."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


@pytest.mark.parametrize("closed", ["stdout", "stderr", "both"])
def test_closed_output_pipe_keeps_state_consistent(project: Project, closed: str) -> None:
    project.spec(CHAIN_SPEC)
    project.write("in.txt", "x\n")
    write_end = _closed_pipe()
    stdout = write_end if closed in ("stdout", "both") else subprocess.DEVNULL
    stderr = write_end if closed in ("stderr", "both") else subprocess.DEVNULL
    try:
        completed = subprocess.run(
            project.command("build", "--explain"),
            cwd=project.root,
            timeout=WAIT_LIMIT * 2,
            check=False,
            stdout=stdout,
            stderr=stderr,
        )
    finally:
        os.close(write_end)
    finished = set(project.take_journal())
    if closed == "stderr":
        assert completed.returncode == 0

    # The report exists, the lock is free, and the next build finishes the work.
    report = project.last_build()
    assert [step["name"] for step in report["steps"]] == ["first", "second"]
    after = project.run_process("build", "--no-wait")
    assert after.code == 0, after.stdout + after.stderr
    # The output failed only after a step's end was recorded, so nothing that
    # finished runs again.
    assert set(after.ran) == {"first", "second"} - finished
    assert project.read("second.txt") == "x\n"
    assert project.run_process("build", "--no-wait").ran == []


def test_dry_run_explain_names_the_running_build(holding: Project) -> None:
    first = _start(holding, "build")
    try:
        _wait_until(lambda: (holding.root / "holding").exists(), "the first build's step")
        predicted = holding.run_process("build", "-n", "--explain")
        assert predicted.code == 0, predicted.stderr
        assert f"`hold` would run: another parc (process {first.pid}) is running it now" in (
            predicted.stderr
        )
        assert "did not finish" not in predicted.stderr
    finally:
        (holding.root / "hold").unlink()
        first.wait(timeout=WAIT_LIMIT)
