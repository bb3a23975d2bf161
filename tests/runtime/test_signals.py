"""Signals with real processes: forwarding, grace, SIGKILL, exit codes, no survivors.

Each test starts `parc build` as a process of its own, waits until every
step is really running (the steps create marker files), sends the signal,
and checks that once parc has exited no process of the build is alive.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from procs import (
    PARC,
    Project,
    PtyParc,
    command_line,
    kill_marked,
    parc_environment,
    run_parc,
    start_parc,
    survivors,
    wait_for,
    wait_for_file,
    write_spec,
)

pytestmark = pytest.mark.slow

# The steps: a grandchild that ignores SIGTERM and SIGINT, a job that starts
# a session of its own with setsid, a double fork whose last process ends up
# parented to parc, and a step that waits and never gets to start.
HOSTILE_STEPS = """\
track stubborn {
    run "sh -c 'trap \\"\\" TERM INT; touch stubborn.ready; sleep 1001' & wait"
}
track daemon {
    run "setsid sh -c 'touch daemon.ready; sleep 1002' > /dev/null 2>&1 & sleep 1003"
}
track forked {
    run "sh -c 'setsid sh -c \\"sleep 1004 & touch forked.ready\\" &'; sleep 1005"
}
track later after stubborn { run "echo never" }
"""
READY = ("stubborn.ready", "daemon.ready", "forked.ready")


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[Project]:
    project = write_spec(tmp_path / "project", HOSTILE_STEPS)
    yield project
    kill_marked(project.mark)


def wait_until_ready(project: Project, names: tuple[str, ...] = READY) -> None:
    for name in names:
        wait_for_file(project.root / name)


def test_ctrl_c_on_terminal_ends_every_process(hostile: Project) -> None:
    parc = PtyParc(hostile, ["-j", "3", "--grace", "2"])
    wait_until_ready(hostile)

    parc.press_ctrl_c()
    code = parc.wait()

    assert code == 130, parc.text
    assert survivors(hostile.mark) == []
    assert "SIGINT received" in parc.text
    assert "parc: cancelled: stubborn, daemon, forked (interrupted by SIGINT)" in parc.text
    assert "parc: cancelled: later (not started because parc was interrupted by SIGINT)" in (
        parc.text
    )
    assert "interrupted by SIGINT: 4 cancelled" in parc.text


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)],
)
def test_signal_ends_every_process_with_its_exit_code(
    hostile: Project, signum: int, code: int
) -> None:
    parc = start_parc(hostile, "-j", "3", "--grace", "2")
    wait_until_ready(hostile)

    parc.send_signal(signum)
    output, _ = parc.communicate(timeout=60)

    assert parc.returncode == code, output.decode()
    assert survivors(hostile.mark) == []
    assert f"{signal.Signals(signum).name} received".encode() in output


def test_second_ctrl_c_kills_at_once(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track deaf { run "trap \\"\\" INT TERM; touch deaf.ready; '
        'while :; do sleep 0.1; done" }\n',
    )
    parc = PtyParc(project, ["--grace", "600"])
    try:
        wait_for_file(project.root / "deaf.ready")
        parc.press_ctrl_c()
        parc.wait_for_text("SIGINT received")
        assert survivors(project.mark) != []

        parc.press_ctrl_c()
        code = parc.wait(timeout=60)
    finally:
        kill_marked(project.mark)

    assert code == 130
    assert survivors(project.mark) == []
    assert "second signal (SIGINT); sending SIGKILL to deaf" in parc.text
    assert "deaf cancelled" in parc.text


def test_grace_period_ends_with_sigkill(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track deaf { run "trap \\"\\" INT TERM; touch deaf.ready; '
        'while :; do sleep 0.1; done" }\n',
    )
    parc = start_parc(project, "--grace", "0.5")
    try:
        wait_for_file(project.root / "deaf.ready")
        parc.send_signal(signal.SIGTERM)
        output, _ = parc.communicate(timeout=60)
    finally:
        kill_marked(project.mark)

    assert parc.returncode == 143
    assert survivors(project.mark) == []
    assert b"the grace period of 0.50s is over; sending SIGKILL to deaf" in output


def test_step_shell_dies_with_parc(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track held { run "touch held.ready; sleep 1006; true" }\n')
    parc = start_parc(project)
    try:
        wait_for_file(project.root / "held.ready")

        def step_shells() -> list[int]:
            return [
                int(line.split()[0])
                for line in survivors(project.mark)
                if line.split(maxsplit=2)[2].startswith("/bin/sh -c")
            ]

        # The shell forks before it execs `sleep`, and for that moment the
        # child also shows as `/bin/sh -c`; wait until only the shell is left.
        assert wait_for(lambda: len(step_shells()) == 1)
        shells = step_shells()
        assert len(shells) == 1

        parc.kill()
        parc.wait(timeout=30)

        # The kernel sends the shell SIGKILL when parc dies (PR_SET_PDEATHSIG).
        assert wait_for(lambda: command_line(shells[0]) == "" or _is_zombie(shells[0]))
    finally:
        kill_marked(project.mark)
        if parc.stdout is not None:
            parc.stdout.close()


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            data = file.read()
    except OSError:
        return True
    return data[data.rindex(b")") + 2 :].split()[0] == b"Z"


def test_background_jobs_end_with_their_step(tmp_path: Path) -> None:
    # `check` runs after `leave` has ended and looks for what `leave` started.
    project = write_spec(
        tmp_path,
        """\
track leave {
    run "sleep 1007 & setsid sleep 1008 > /dev/null 2>&1 & echo left two jobs"
}
track check after leave {
    run "sleep 0.2; ps -eo stat=,args= | grep -v '^Z' | grep 'sleep 100[78]' && exit 1; true"
}
""",
    )
    try:
        completed = run_parc(project, timeout=60)
    finally:
        kill_marked(project.mark)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 succeeded" in completed.stdout
    assert survivors(project.mark) == []


def test_shell_has_parent_death_signal(tmp_path: Path) -> None:
    # `exec` keeps the shell's process, so the probe reads the shell's own
    # setting with PR_GET_PDEATHSIG (2).
    probe = (
        "import ctypes; value = ctypes.c_int(); "
        "ctypes.CDLL(None).prctl(2, ctypes.byref(value)); print('pdeathsig', value.value)"
    )
    project = write_spec(
        tmp_path, f'track probe {{ run "exec {sys.executable} -c \\"{probe}\\"" }}\n'
    )
    completed = run_parc(project)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"pdeathsig {int(signal.SIGKILL)}" in project.log("probe")


def test_ignored_sighup_stays_ignored(tmp_path: Path) -> None:
    # As under `nohup`: parc starts with SIGHUP ignored, so SIGHUP must not
    # stop the build.
    project = write_spec(
        tmp_path, 'track steady { run "touch steady.ready; sleep 1; echo finished" }\n'
    )
    parc = subprocess.Popen(
        [*PARC, "build"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=parc_environment(),
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    try:
        wait_for_file(project.root / "steady.ready")
        parc.send_signal(signal.SIGHUP)
        output, _ = parc.communicate(timeout=60)
    finally:
        kill_marked(project.mark)
    assert parc.returncode == 0, output.decode()
    assert b"finished" in output
    assert b"SIGHUP" not in output
