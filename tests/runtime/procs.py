"""Helpers to run `parc build` as a real process and to find what it left running.

Every spec written by `write_spec` sets `PARC_TEST_MARK` to a value unique to
the test. Each process a step starts inherits it, so `survivors` finds every
descendant of the build by reading /proc/PID/environ, wherever it was
reparented, unless it cleared its environment.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pty
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import attrs

PARC = [sys.executable, "-m", "parc"]
MARK_VARIABLE = "PARC_TEST_MARK"


@attrs.frozen
class Project:
    root: Path
    mark: str

    @property
    def spec(self) -> Path:
        return self.root / "build.par"

    def log(self, step: str) -> str:
        return (self.root / ".parc" / "logs" / f"{step}.log").read_text()


def write_spec(root: Path, body: str) -> Project:
    """Write `build.par` with `body` under `root`, marking every command's environment."""
    mark = uuid.uuid4().hex
    root.mkdir(parents=True, exist_ok=True)
    (root / "build.par").write_text(f'env {MARK_VARIABLE} = "{mark}"\n{body}')
    return Project(root, mark)


def parc_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PARC_STEP", None)
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def run_parc(
    project: Project, *arguments: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `parc build ARGUMENTS` in the project and wait for it."""
    return subprocess.run(
        [*PARC, "build", *arguments],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=parc_environment(**env),
        start_new_session=True,
    )


def start_parc(project: Project, *arguments: str, **env: str) -> subprocess.Popen[bytes]:
    """Start `parc build ARGUMENTS` in a session of its own, with stdout on a pipe."""
    return subprocess.Popen(
        [*PARC, "build", *arguments],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=parc_environment(**env),
        start_new_session=True,
    )


def read_environment(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/environ", "rb") as file:
            return file.read()
    except OSError:
        return b""


def process_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            data = file.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2 :].split()[0].decode()


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def survivors(mark: str) -> list[str]:
    """Return `pid state command` of every live process whose environment has the mark.

    Zombies (state Z) are dead already and only wait to be reaped, so they
    do not count.
    """
    needle = f"{MARK_VARIABLE}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        if needle not in read_environment(pid).split(b"\0"):
            continue
        state = process_state(pid)
        if state is not None and state != "Z":
            found.append(f"{pid} {state} {command_line(pid)}")
    return found


def kill_marked(mark: str) -> None:
    """End whatever a test left behind, so that a failure does not leak processes."""
    needle = f"{MARK_VARIABLE}={mark}".encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and needle in read_environment(int(entry)).split(b"\0"):
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)


def wait_for(condition: object, timeout: float = 30.0, interval: float = 0.02) -> bool:
    """Poll `condition()` until it is true or `timeout` seconds pass; return the last value."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def wait_for_file(path: Path, timeout: float = 30.0) -> None:
    assert wait_for(path.exists, timeout), f"{path} never appeared"


class PtyParc:
    """`parc build` on a pseudo-terminal, so that Ctrl-C reaches it the way it reaches a user."""

    def __init__(self, project: Project, arguments: Sequence[str], **env: str) -> None:
        self.project = project
        self.output = bytearray()
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                os.chdir(project.root)
                os.execve(sys.executable, [*PARC, "build", *arguments], parc_environment(**env))
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        self.returncode: int | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError as error:
                if error.errno == errno.EINTR:
                    continue
                break  # EIO: the terminal's other side is closed
            if not data:
                break
            self.output.extend(data)

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def wait_for_text(self, text: str, timeout: float = 30.0) -> None:
        assert wait_for(lambda: text in self.text, timeout), f"no {text!r} in:\n{self.text}"

    def press_ctrl_c(self) -> None:
        os.write(self.fd, b"\x03")

    def wait(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise AssertionError(f"parc did not exit in {timeout}s:\n{self.text}")
            time.sleep(0.02)
        self._reader.join(timeout=10)
        os.close(self.fd)
        return self.returncode
