"""Signals during the shutdown of a build: no traceback, a whole report, the right exit code.

parc pauses at each phase of its shutdown that `PARC_TEST_PAUSE_AT` names,
creates `parc-paused-PHASE` in its working directory and waits for the next
signal. The tests send one signal at every phase, so each phase gets a
signal at a known moment, whatever the load of the machine.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import trio
from procs import (
    Project,
    PtyParc,
    kill_marked,
    start_parc,
    survivors,
    wait_for_file,
    write_spec,
)

from parc.runtime.interrupts import Interrupted, SignalGuard, guard_signals
from parc.runtime.live import HIDE_CURSOR, SHOW_CURSOR
from parc.runtime.state.lock import ProjectLock

pytestmark = pytest.mark.slow

SHUTDOWN_PHASES = ("executor", "display", "drain", "finished", "last-build")

# The background job keeps the output pipe open after the shell dies, so the step
# ends only when parc has ended what the shell left behind.
STUBBORN_STEP = """\
track stubborn {
    run "trap '' TERM; touch stubborn.ready; sleep 1009 & wait; echo never"
}
"""


def read_report(project: Project) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((project.root / ".parc" / "last-build.json").read_text())
    return report


def pause_environment(phases: tuple[str, ...]) -> dict[str, str]:
    return {"PARC_TEST_PAUSE_AT": ",".join(phases)}


def wait_for_pause(project: Project, phase: str) -> None:
    wait_for_file(project.root / f"parc-paused-{phase}", timeout=60)


@pytest.fixture
def stubborn(tmp_path: Path) -> Any:
    project = write_spec(tmp_path / "project", STUBBORN_STEP)
    yield project
    kill_marked(project.mark)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_at_every_shutdown_phase_plain(stubborn: Project, signum: int) -> None:
    # The step ignores SIGTERM, so after a SIGTERM it ends at the 1s grace.
    parc = start_parc(
        stubborn, "--progress", "plain", "--grace", "1", **pause_environment(SHUTDOWN_PHASES)
    )
    wait_for_file(stubborn.root / "stubborn.ready")
    parc.send_signal(signum)
    for phase in SHUTDOWN_PHASES:
        wait_for_pause(stubborn, phase)
        parc.send_signal(signum)
    output, _ = parc.communicate(timeout=60)
    text = output.decode()

    assert parc.returncode == 128 + signum, text
    assert "Traceback" not in text
    assert survivors(stubborn.mark) == []
    report = read_report(stubborn)
    assert report["complete"] is True
    assert report["exit_code"] == 128 + signum
    assert report["interrupted_by"] == signal.Signals(signum).name
    assert report["steps"][0]["status"] == "cancelled"


def test_ctrl_c_at_every_shutdown_phase_live(stubborn: Project) -> None:
    parc = PtyParc(
        stubborn,
        ["--progress", "live", "--grace", "60"],
        **pause_environment(SHUTDOWN_PHASES),
    )
    wait_for_file(stubborn.root / "stubborn.ready")
    parc.press_ctrl_c()
    for phase in SHUTDOWN_PHASES:
        wait_for_pause(stubborn, phase)
        parc.press_ctrl_c()
    code = parc.wait()

    assert code == 130, parc.text
    assert "Traceback" not in parc.text
    output = bytes(parc.output)
    assert output.rfind(HIDE_CURSOR) >= 0
    assert output.rfind(SHOW_CURSOR) > output.rfind(HIDE_CURSOR)
    assert survivors(stubborn.mark) == []
    report = read_report(stubborn)
    assert report["complete"] is True
    assert report["exit_code"] == 130


@pytest.mark.parametrize("delay", [0.9, 1.0, 1.1])
def test_second_ctrl_c_as_step_ends(stubborn: Project, delay: float) -> None:
    # parc gives the leftover `sleep` 1s to close the pipe after the shell
    # died, so a second Ctrl-C about 1s after the first lands while the step
    # ends and parc shuts down.
    parc = PtyParc(stubborn, ["--progress", "live"])
    wait_for_file(stubborn.root / "stubborn.ready")
    parc.press_ctrl_c()
    parc.wait_for_text("SIGINT received")
    time.sleep(delay)
    parc.press_ctrl_c()
    code = parc.wait()

    assert code == 130, parc.text
    assert "Traceback" not in parc.text
    output = bytes(parc.output)
    assert output.rfind(SHOW_CURSOR) > output.rfind(HIDE_CURSOR)
    assert survivors(stubborn.mark) == []
    assert read_report(stubborn)["exit_code"] == 130


def test_first_signal_after_steps_ended(tmp_path: Path) -> None:
    # The steps succeeded, but the user asked parc to stop: a script that
    # runs `parc build && deploy` must not deploy.
    project = write_spec(tmp_path, 'track quick { run "true" }\n')
    parc = start_parc(project, "--progress", "plain", **pause_environment(("finished",)))
    wait_for_pause(project, "finished")
    parc.send_signal(signal.SIGINT)
    output, _ = parc.communicate(timeout=60)

    assert parc.returncode == 130, output.decode()
    assert b"Traceback" not in output
    report = read_report(project)
    assert report["complete"] is True
    assert report["exit_code"] == 130
    assert report["steps"][0]["status"] == "succeeded"


def test_signal_while_waiting_for_lock(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track quick { run "touch ran" }\n')
    lock = ProjectLock(project.root / ".parc")
    lock.acquire(wait=False)
    try:
        parc = start_parc(project)
        assert parc.stdout is not None
        line = parc.stdout.readline()
        assert b"waiting for another parc" in line
        parc.send_signal(signal.SIGTERM)
        output, _ = parc.communicate(timeout=60)
    finally:
        lock.release()

    assert parc.returncode == 143, (line + output).decode()
    assert b"Traceback" not in output
    assert b"parc: interrupted by SIGTERM" in output
    assert not (project.root / "ran").exists()


# The guard itself, with real signals sent to this process.


def test_guard_raises_until_armed() -> None:
    with guard_signals() as guard:
        assert guard is not None
        with pytest.raises(Interrupted) as caught:
            signal.raise_signal(signal.SIGTERM)
        assert caught.value.signum == signal.SIGTERM
        assert guard.received == []


def test_guard_records_and_kills_from_second_signal() -> None:
    kills: list[int] = []
    with guard_signals() as guard:
        assert guard is not None
        guard.arm()
        guard.on_repeat.append(lambda: kills.append(len(guard.received)))
        signal.raise_signal(signal.SIGINT)
        assert kills == []
        signal.raise_signal(signal.SIGHUP)
        signal.raise_signal(signal.SIGINT)
    assert guard.received == [signal.SIGINT, signal.SIGHUP, signal.SIGINT]
    assert guard.first == signal.SIGINT
    assert kills == [2, 3]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_guard_keeps_ignored_signal_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with guard_signals() as guard:
            assert guard is not None
            guard.arm()
            signal.raise_signal(signal.SIGHUP)
            assert guard.received == []
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_guard_replays_and_forwards_to_listener() -> None:
    guard = SignalGuard()
    guard.install()
    try:
        guard.arm()
        signal.raise_signal(signal.SIGTERM)

        async def listen() -> list[int]:
            token = trio.lowlevel.current_trio_token()
            heard: list[int] = []
            with guard.listen(token) as received:
                heard.append(await received.receive())
                signal.raise_signal(signal.SIGINT)
                heard.append(await received.receive())
            return heard

        heard = trio.run(listen)
        # After the block, a signal is only recorded.
        signal.raise_signal(signal.SIGHUP)
    finally:
        guard.restore()
    assert heard == [signal.SIGTERM, signal.SIGINT]
    assert guard.received == [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
