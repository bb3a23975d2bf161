"""Command runners: how the executor runs one command of a step.

`ProcessRunner` runs real commands in process groups. The executor only needs
the `CommandRunner` protocol, so tests can drive it with fake commands under
trio's MockClock.
"""

from __future__ import annotations

import os
import select
import signal
from pathlib import Path
from typing import Protocol

import trio

from parc.plan import PlanStep
from parc.runtime.logs import StepLog
from parc.runtime.process import (
    LEFTOVER_GRACE,
    ExitStatus,
    GroupProcess,
    Orphans,
    encode_environment,
    spawn_async,
)

# Exit codes with which POSIX shells report that they could not run a
# command: not found, and found but not executable.
SHELL_NOT_FOUND = 127
SHELL_NOT_EXECUTABLE = 126

READ_SIZE = 1 << 16

# The most a read without waiting takes from a pipe at once: four times the
# 64 KiB that a Linux pipe buffers, so a process that keeps writing cannot hold up
# the event loop.
MAX_READS_AT_ONCE = 16

# How long the output pipe is still read after the command and what it left
# behind were ended. Only a process that parc cannot attribute to the step
# (one that started a new session and cleared its environment) can hold the
# pipe open longer.
PIPE_LINGER = 0.2


class CommandRunner(Protocol):
    async def run(self, command: str, step: PlanStep, log: StepLog, rank: int = 0) -> ExitStatus:
        """Run one command to its end and return how it ended.

        `rank` is the order in which the executor started the step: when
        several commands wait to be started, those of a lower rank go first.
        Cancellation ends the command (for processes: SIGTERM to the group,
        SIGKILL after the grace period) before the Cancelled propagates.
        """
        ...

    def signal_all(self, signum: int) -> None:
        """Send `signum` to every command that is running."""
        ...


class ProcessRunner:
    """Runs commands through `/bin/sh -c` in their own process groups.

    `base_env` is the environment every command inherits; each step's `env`
    and `PARC_STEP` are added to it. `grace` is the time between SIGTERM and
    SIGKILL. When a command's shell exits, whatever it left running, in its
    group or outside it, is ended too. Call `close` after the build to end
    what is left of steps whose commands could not be waited for.
    """

    def __init__(self, root: Path, base_env: dict[str, str], grace: float) -> None:
        self.root = root
        self.base_env = base_env
        self.grace = grace
        self.running: set[GroupProcess] = set()
        self.signals_sent: list[int] = []
        self.orphans = Orphans()
        self._directories: dict[str, str] = {}
        self._encoded_base: list[bytes] | None = None

    def environment(self, step: PlanStep) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(step.env)
        env["PARC_STEP"] = step.name
        return env

    def signal_all(self, signum: int) -> None:
        self.signals_sent.append(signum)
        for process in list(self.running):
            process.signal_group(signum)

    def kill_now(self) -> None:
        """Send SIGKILL to every running command, and stop giving leftovers a grace period.

        It only sends signals and sets flags, so a signal handler may call it
        at any point of the build or of its shutdown.
        """
        self.orphans.hurry = True
        self.signal_all(signal.SIGKILL)

    async def run(self, command: str, step: PlanStep, log: StepLog, rank: int = 0) -> ExitStatus:
        cwd = self._directory(step.cwd)
        signals_before = len(self.signals_sent)
        process, error = await spawn_async(
            command, cwd, self.environment(step), self._encoded_environment(step), rank
        )
        if process is None:
            # Checked only now, which saves a stat per command.
            if not os.path.isdir(cwd):
                return ExitStatus(None, f"directory `{step.cwd}` does not exist")
            return ExitStatus(None, error)

        self.running.add(process)
        # The command was starting while `signal_all` ran: forward what it missed.
        for signum in self.signals_sent[signals_before:]:
            process.signal_group(signum)
        self.orphans.shells.add(process.pid)
        self.orphans.sessions[process.pid] = step.name
        leftover_grace = min(self.grace, LEFTOVER_GRACE)
        watch = _Watch(process, log)
        try:
            try:
                await watch.until_exit()
            except trio.Cancelled:
                # Timeout or teardown: end the whole group before giving up.
                with trio.CancelScope(shield=True):
                    await self._terminate(watch)
                    await self._end_leftovers(watch, step, leftover_grace)
                raise
            # The shell has exited: what is left takes a bounded time, and
            # must finish even if the step is cancelled meanwhile, so that
            # nothing outlives the command and the log is whole.
            await self._end_leftovers(watch, step, leftover_grace)
        finally:
            watch.close()
            if not process.exited:
                with trio.CancelScope(shield=True):
                    process.signal_group(signal.SIGKILL)
                    await process.wait_exit()
            process.signal_group(signal.SIGKILL)
            returncode = process.reap()
            self.orphans.shells.discard(process.pid)
            self.running.discard(process)

        if returncode == SHELL_NOT_FOUND:
            return ExitStatus(returncode, f"command not found, exit code {returncode}")
        if returncode == SHELL_NOT_EXECUTABLE:
            return ExitStatus(returncode, f"command not executable, exit code {returncode}")
        return ExitStatus(returncode)

    def _directory(self, cwd: str) -> str:
        """Return the absolute directory of a step's `cwd`, computed once per value."""
        directory = self._directories.get(cwd)
        if directory is None:
            directory = self._directories[cwd] = str(self.root / cwd)
        return directory

    def _encoded_environment(self, step: PlanStep) -> list[bytes] | None:
        """Return the step's environment encoded for execve, when it is the base one plus its name.

        Encoding the few dozen variables of the base environment for every
        command cost about 15 us; they are encoded once instead.
        """
        if step.env or "PARC_STEP" in self.base_env:
            return None
        if self._encoded_base is None:
            self._encoded_base = encode_environment(self.base_env)
        return [*self._encoded_base, b"PARC_STEP=" + os.fsencode(step.name)]

    async def _terminate(self, watch: _Watch) -> None:
        """End a command that is still running: SIGTERM, and SIGKILL after the grace period.

        Its output is still read meanwhile, so that the log is whole.
        """
        watch.process.signal_group(signal.SIGTERM)
        with trio.move_on_after(self.grace):
            await watch.until_exit()
            return
        watch.process.signal_group(signal.SIGKILL)
        await watch.until_exit()

    async def _end_leftovers(self, watch: _Watch, step: PlanStep, grace: float) -> None:
        """End what the exited shell left behind, in its group and outside it.

        The group gets SIGTERM, up to `grace` seconds for the output pipe to
        close (which shows that every process still writing to it has
        exited), then SIGKILL. Then the orphans of the step are ended. Waits
        are shielded: they take a bounded time and must not be abandoned.
        """
        process = watch.process
        watch.read_available()
        process.signal_group(signal.SIGTERM)
        if not watch.pipe_closed:
            with trio.CancelScope(shield=True), trio.move_on_after(grace):
                await watch.until_pipe_closed()
        process.signal_group(signal.SIGKILL)
        if self.orphans.find(None, step.name):
            with trio.CancelScope(shield=True):
                await self.orphans.end(grace, name=step.name)
        # A process that left the group may hold the pipe open for ever.
        if not watch.pipe_closed:
            with trio.CancelScope(shield=True), trio.move_on_after(PIPE_LINGER):
                await watch.until_pipe_closed()

    async def close(self) -> None:
        """End and reap every process that any step left behind and parc adopted."""
        with trio.CancelScope(shield=True):
            steps = dict.fromkeys(self.orphans.sessions.values())
            # Every thread's list, in case an orphan went to a thread other than the main one.
            grace = min(self.grace, LEFTOVER_GRACE)
            await self.orphans.end(grace, steps=steps, everywhere=True)
            self.orphans.close()


class _Watch:
    """Copies a command's output to its log while parc waits for the command.

    One epoll instance watches the output pipe and the pidfd of the shell, so
    one task both reads the output and sees the shell exit. A reading task
    of its own, with the nursery and cancel scopes around it, cost about
    0.1 ms per command. Outside cancellation stops a wait, never a read: the
    output left in the pipe is read by the next wait. `close` drops what was
    not read.
    """

    def __init__(self, process: GroupProcess, log: StepLog) -> None:
        self.process = process
        self.log = log
        self.pipe_closed = False
        self._poll = select.epoll()
        self._poll.register(process.output_fd, select.EPOLLIN)
        if process.pidfd is not None and not process.exited:
            self._poll.register(process.pidfd, select.EPOLLIN)

    async def until_exit(self) -> None:
        """Read the output until the shell has exited, without reaping it."""
        while not self.process.exited:
            await self._wait()

    async def until_pipe_closed(self) -> None:
        """Read the output until every process has closed the pipe."""
        while not self.pipe_closed:
            await self._wait()

    async def _wait(self) -> None:
        if self.process.pidfd is None and not self.process.exited:
            # Without a pidfd (Linux before 5.3), the exit is looked for
            # every 10 ms, as `GroupProcess.wait_exit` does.
            with trio.move_on_after(0.01):
                await trio.lowlevel.wait_readable(self._poll.fileno())
            self.process.poll_exit()
        else:
            await trio.lowlevel.wait_readable(self._poll.fileno())
        read = False
        for fd, _ in self._poll.poll(0):
            if fd == self.process.output_fd:
                read = self._read()
            elif not self.process.exited:
                self.process.exited = True
                self._poll.unregister(fd)
        if read:
            await self.log.wait_room()

    def read_available(self) -> None:
        """Read what the pipe contains now, without waiting. An ended pipe is closed."""
        for _ in range(MAX_READS_AT_ONCE):
            if self.pipe_closed or not self._read():
                return

    def _read(self) -> bool:
        """Copy one chunk of output to the log; return whether there was any."""
        try:
            data = os.read(self.process.output_fd, READ_SIZE)
        except BlockingIOError:
            return False
        except InterruptedError:  # pragma: no cover - pipe reads are restarted on Linux
            return True
        except OSError:  # pragma: no cover - pipe reads do not fail on Linux
            data = b""
        if not data:
            self.pipe_closed = True
            self._poll.unregister(self.process.output_fd)
            return False
        self.log.write(data)
        return True

    def close(self) -> None:
        """Stop watching, and close the output pipe."""
        trio.lowlevel.notify_closing(self._poll.fileno())
        self._poll.close()
        os.close(self.process.output_fd)
