"""Running one command in its own process group, and ending the whole group.

Each command runs as `/bin/sh -c COMMAND` in a new session, so it leads a
process group of its own, with stdin from /dev/null and stdout and stderr on
one pipe that parc owns. Three facts shape this module:

- Signalling only the shell leaves its children running, so every signal goes
  to the whole group with `os.killpg`.
- A background job that inherited the pipe keeps it open after the shell
  exits, so the end of the step is the shell's exit, not the pipe's EOF. At
  that moment the group gets SIGTERM, then SIGKILL, so nothing the step
  started outlives it.
- The group id stays reserved while the shell is an unreaped zombie, so the
  shell is reaped only after the group was swept. Signals can then never
  reach an unrelated group that reused the id.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

import attrs
import trio

logger = logging.getLogger("parc.runtime")

SHELL = "/bin/sh"

# How long background processes that still hold the output pipe get after
# SIGTERM, once the shell itself has exited, before SIGKILL.
LEFTOVER_GRACE = 1.0

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child after fork
    """Ask Linux to SIGKILL this child if parc dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@attrs.frozen
class ExitStatus:
    """How a command ended.

    `returncode` is the exit code, or minus the signal number when a signal
    killed it, as `subprocess` reports it. `start_error` is set instead when
    the command could not be started at all.
    """

    returncode: int | None
    start_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        if self.start_error is not None:
            return f"could not start: {self.start_error}"
        assert self.returncode is not None
        if self.returncode < 0:
            try:
                name = signal.Signals(-self.returncode).name
            except ValueError:
                name = f"signal {-self.returncode}"
            return f"killed by {name}"
        return f"exit code {self.returncode}"


class GroupProcess:
    """A running command and its process group."""

    def __init__(self, popen: subprocess.Popen[bytes], output_fd: int) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.output_fd = output_fd
        self.exited = False
        self._pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except OSError:
                self._pidfd = None

    def signal_group(self, signum: int) -> None:
        """Send `signum` to every process in the group; a gone group is fine."""
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass
        except PermissionError:
            # A member changed its credentials (setuid); it is beyond our reach.
            logger.debug("no permission to signal process group %d", self.pid)

    async def wait_exit(self) -> None:
        """Wait until the shell has exited, without reaping it."""
        if self.exited:
            return
        if self._pidfd is not None:
            await trio.lowlevel.wait_readable(self._pidfd)
        else:
            while not self._has_exited():
                await trio.sleep(0.01)
        self.exited = True

    def _has_exited(self) -> bool:
        flags = os.WEXITED | os.WNOWAIT | os.WNOHANG
        try:
            result = os.waitid(os.P_PID, self.pid, flags)
        except ChildProcessError:
            return True
        return result is not None

    def reap(self) -> int:
        """Reap the exited shell and return its returncode."""
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        while True:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                return self.popen.returncode if self.popen.returncode is not None else -9
            except InterruptedError:
                continue
            returncode = os.waitstatus_to_exitcode(status)
            self.popen.returncode = returncode
            return returncode

    def close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def spawn(
    command: str, cwd: str, env: Mapping[str, str], die_with_parent: bool = True
) -> tuple[GroupProcess | None, str | None]:
    """Start `command` in a new process group.

    Returns the process, or None and the reason it could not start.
    """
    read_fd, write_fd = os.pipe()
    preexec: Callable[[], None] | None = None
    if die_with_parent and sys.platform.startswith("linux"):
        preexec = _die_with_parent
    try:
        popen = subprocess.Popen(
            [SHELL, "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=write_fd,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
            preexec_fn=preexec,
        )
    except OSError as error:
        os.close(read_fd)
        os.close(write_fd)
        reason = error.strerror or str(error)
        if error.errno == errno.ENOENT and not os.path.isdir(cwd):
            reason = f"directory `{cwd}` does not exist"
        return None, reason
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    return GroupProcess(popen, read_fd), None


async def terminate_group(process: GroupProcess, signum: int, grace: float) -> None:
    """Send `signum` to the group, and SIGKILL after `grace` seconds if the shell lives on."""
    process.signal_group(signum)
    with trio.move_on_after(grace):
        await process.wait_exit()
        return
    process.signal_group(signal.SIGKILL)
    await process.wait_exit()


async def end_leftovers(process: GroupProcess, pipe_closed: trio.Event, grace: float) -> None:
    """End what the exited shell left in its group: SIGTERM, then SIGKILL.

    Waits up to `grace` seconds for the output pipe to close, which tells
    that every process still writing to it has exited.
    """
    process.signal_group(signal.SIGTERM)
    with trio.move_on_after(grace):
        await pipe_closed.wait()
    process.signal_group(signal.SIGKILL)


def monotonic() -> float:
    return time.monotonic()
