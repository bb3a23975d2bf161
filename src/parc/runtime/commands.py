"""Command runners: how the executor runs one command of a step.

`ProcessRunner` runs real commands in process groups. The executor only needs
the `CommandRunner` protocol, so tests can drive it with fake commands under
trio's MockClock.
"""

from __future__ import annotations

import errno
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
    end_leftovers,
    spawn_async,
    terminate_group,
)

# Exit codes with which POSIX shells report that they could not run a
# command: not found, and found but not executable.
SHELL_NOT_FOUND = 127
SHELL_NOT_EXECUTABLE = 126

READ_SIZE = 1 << 16

# How long the output pipe is still read after the command and what it left
# behind were ended. Only a process that parc cannot attribute to the step
# (one that started a new session and cleared its environment) can hold the
# pipe open longer.
PIPE_LINGER = 0.2


class CommandRunner(Protocol):
    async def run(self, command: str, step: PlanStep, log: StepLog) -> ExitStatus:
        """Run one command to its end and return how it ended.

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

    def environment(self, step: PlanStep) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(step.env)
        env["PARC_STEP"] = step.name
        return env

    def signal_all(self, signum: int) -> None:
        self.signals_sent.append(signum)
        for process in list(self.running):
            process.signal_group(signum)

    async def run(self, command: str, step: PlanStep, log: StepLog) -> ExitStatus:
        cwd = self.root / step.cwd
        signals_before = len(self.signals_sent)
        process, error = await spawn_async(command, str(cwd), self.environment(step))
        if process is None:
            # Checked only now, which saves a stat per command.
            if not cwd.is_dir():
                return ExitStatus(None, f"directory `{step.cwd}` does not exist")
            return ExitStatus(None, error)

        self.running.add(process)
        # The command was starting while `signal_all` ran: forward what it missed.
        for signum in self.signals_sent[signals_before:]:
            process.signal_group(signum)
        self.orphans.shells.add(process.pid)
        self.orphans.sessions[process.pid] = step.name
        leftover_grace = min(self.grace, LEFTOVER_GRACE)
        pump = _Pump(process.output_fd, log)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(pump.run)
                try:
                    try:
                        await process.wait_exit()
                    except trio.Cancelled:
                        # Timeout or teardown: end the whole group before giving up.
                        with trio.CancelScope(shield=True):
                            await terminate_group(process, signal.SIGTERM, self.grace)
                            await self._end_leftovers(process, step, pump, leftover_grace)
                        raise
                    # The shell has exited: what is left takes a bounded time,
                    # and must finish even if the step is cancelled meanwhile,
                    # so that nothing outlives the command and the log is whole.
                    with trio.CancelScope(shield=True):
                        await self._end_leftovers(process, step, pump, leftover_grace)
                finally:
                    pump.stop()
        finally:
            with trio.CancelScope(shield=True):
                if not process.exited:
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

    async def _end_leftovers(
        self, process: GroupProcess, step: PlanStep, pump: _Pump, grace: float
    ) -> None:
        await end_leftovers(process, pump.closed, grace)
        await self.orphans.end(grace, name=step.name)
        # A process that left the group may hold the pipe open for ever.
        with trio.move_on_after(PIPE_LINGER):
            await pump.closed.wait()

    async def close(self) -> None:
        """End and reap every process that any step left behind and parc adopted."""
        with trio.CancelScope(shield=True):
            steps = dict.fromkeys(self.orphans.sessions.values())
            await self.orphans.end(min(self.grace, LEFTOVER_GRACE), steps=steps)


class _Pump:
    """Copies everything from a command's output pipe to its log until EOF or `stop`.

    Outside cancellation does not reach it, so no output is lost while the
    command is being ended. The runner calls `stop` once nothing more can come.
    """

    def __init__(self, fd: int, log: StepLog) -> None:
        self.fd = fd
        self.log = log
        self.closed = trio.Event()
        self._scope = trio.CancelScope(shield=True)

    def stop(self) -> None:
        self._scope.cancel()

    async def run(self) -> None:
        stream = trio.lowlevel.FdStream(self.fd)
        try:
            with self._scope:
                while True:
                    try:
                        data = await stream.receive_some(READ_SIZE)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        break
                    except OSError as error:  # pragma: no cover - pipe reads do not fail on Linux
                        if error.errno == errno.EINTR:
                            continue
                        break
                    if not data:
                        break
                    self.log.write(data)
                    await self.log.wait_room()
        finally:
            self.closed.set()
            with trio.CancelScope(shield=True):
                await stream.aclose()
