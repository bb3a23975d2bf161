"""Running one command in its own process group, and ending the whole group.

Each command runs as `/bin/sh -c COMMAND` in a new session, so it leads a
process group of its own, with stdin from /dev/null and stdout and stderr on
one pipe that parc owns. Four facts shape this module:

- Signalling only the shell leaves its children running, so every signal goes
  to the whole group with `os.killpg`.
- A background job that inherited the pipe keeps it open after the shell
  exits, so the end of the step is the shell's exit, not the pipe's EOF. At
  that moment the group gets SIGTERM, then SIGKILL, so nothing the step
  started outlives it.
- The group id stays reserved while the shell is an unreaped zombie, so the
  shell is reaped only after the group was swept. Signals can then never
  reach an unrelated group that reused the id.
- A process that calls `setsid` leaves the group, and when its parent exits
  Linux hands it to the nearest "child subreaper" ancestor. parc makes itself
  one for the length of a build, finds such orphans among its own children,
  and ends them too (`Orphans`).
"""

from __future__ import annotations

import ctypes
import enum
import errno
import functools
import itertools
import logging
import os
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping

import attrs
import trio

logger = logging.getLogger("parc.runtime")

SHELL = "/bin/sh"

# How long background processes that a command left behind get after
# SIGTERM, once the shell itself has exited, before SIGKILL.
LEFTOVER_GRACE = 1.0

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37

_IS_LINUX = sys.platform.startswith("linux")


def _load_prctl() -> Callable[..., int] | None:
    """Look up prctl(2) once, in the parent: a forked child must not load libraries."""
    if not _IS_LINUX:
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    function.restype = ctypes.c_int
    prctl: Callable[..., int] = function
    return prctl


_prctl = _load_prctl()

try:
    from parc.runtime import _spawn as _native
except ImportError:  # built without a C compiler, or not on Linux
    _native = None  # type: ignore[assignment]


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child after fork
    """Ask Linux to SIGKILL this child when parc dies, even by SIGKILL."""
    if _prctl is None:
        return
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0)
    # parc may have died between fork and prctl; the request came too late then.
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def set_child_subreaper(enabled: bool) -> bool:
    """Make this process adopt orphaned descendants (Linux), and return the previous setting."""
    if _prctl is None:
        return False
    previous = ctypes.c_int(0)
    _prctl(_PR_GET_CHILD_SUBREAPER, ctypes.addressof(previous), 0, 0)
    if _prctl(_PR_SET_CHILD_SUBREAPER, int(enabled), 0, 0) != 0:
        logger.debug("cannot become a child subreaper: errno %d", ctypes.get_errno())
    return bool(previous.value)


@attrs.frozen
class ExitStatus:
    """The end of a command.

    `returncode` is the exit code, or minus the signal number when a signal
    killed it, as `subprocess` reports it. `start_error` is set instead when
    the command could not be started at all.
    """

    returncode: int | None
    start_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.start_error is None

    def describe(self) -> str:
        if self.start_error is not None:
            return self.start_error
        assert self.returncode is not None
        if self.returncode < 0:
            return f"killed by {signal_name(-self.returncode)}"
        return f"exit code {self.returncode}"


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class GroupProcess:
    """A running command and its process group.

    `pid` is the shell's, which is also the id of its process group and of
    its session.
    """

    def __init__(
        self, pid: int, output_fd: int, popen: subprocess.Popen[bytes] | None = None
    ) -> None:
        self.pid = pid
        self.output_fd = output_fd
        # A Popen dropped while its child runs would reap the child itself
        # later, so it is kept until the shell is reaped here.
        self.popen = popen
        self.exited = False
        self.pidfd: int | None = None
        """A pidfd of the shell, readable once it has exited; None before Linux 5.3."""
        if hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(self.pid)
            except OSError:
                self.pidfd = None

    def signal_group(self, signum: int) -> None:
        """Send `signum` to every process in the group; a gone group is fine."""
        _signal_group(self.pid, signum)

    async def wait_exit(self) -> None:
        """Wait until the shell has exited, without reaping it."""
        if self.exited:
            return
        if self.pidfd is not None:
            await trio.lowlevel.wait_readable(self.pidfd)
        else:
            while not _has_exited(self.pid):
                await trio.sleep(0.01)
        self.exited = True

    def poll_exit(self) -> None:
        """Look whether the shell has exited, without waiting and without reaping it."""
        if not self.exited and _has_exited(self.pid):
            self.exited = True

    def reap(self) -> int:
        """Reap the exited shell and return its returncode."""
        self.close()
        returncode = _reap(self.pid)
        if returncode is None:
            # Someone else reaped it; subprocess would report 0 here too.
            if self.popen is not None and self.popen.returncode is not None:
                return self.popen.returncode
            return 0
        if self.popen is not None:
            self.popen.returncode = returncode
        return returncode

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        # A member changed its credentials (setuid); it is beyond our reach.
        logger.debug("no permission to signal process group %d", pgid)


def _has_exited(pid: int) -> bool:
    flags = os.WEXITED | os.WNOWAIT | os.WNOHANG
    try:
        result = os.waitid(os.P_PID, pid, flags)
    except ChildProcessError:
        return True
    return result is not None


def _reap(pid: int) -> int | None:
    """Wait for the child `pid` and return its returncode, or None if it is not our child."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return None
        except InterruptedError:
            continue
        return os.waitstatus_to_exitcode(status)


class SpawnMethod(enum.Enum):
    """How a command is started with a parent-death signal, fastest first.

    NATIVE: the `_spawn` extension, built at install time when a C compiler
    is there. It uses vfork and sets the signal in the child before exec.
    SETPRIV: subprocess with vfork, through util-linux's `setpriv
    --pdeathsig KILL`, which costs the command an extra exec (0.6-0.8 ms of
    CPU on the 2-core development machine). SUBPROCESS: subprocess with
    `preexec_fn`, which forks the whole interpreter and blocks the event
    loop for 2-9 ms per command there.

    NOTE: with SETPRIV, a parc killed between the fork and setpriv's prctl
    leaves the command running: setpriv cannot check that its parent is
    still the one that started it, as the other two methods do.
    """

    NATIVE = "native"
    SETPRIV = "setpriv"
    SUBPROCESS = "subprocess"


SETPRIV_PATH = "/usr/bin/setpriv"


@functools.cache
def _setpriv_works() -> bool:
    """Check that setpriv is there and knows `--pdeathsig`, which older util-linux lacks."""
    if not os.access(SETPRIV_PATH, os.X_OK):
        return False
    try:
        completed = subprocess.run(
            [SETPRIV_PATH, "--pdeathsig", "KILL", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return completed.returncode == 0


_broken: set[SpawnMethod] = set()


def _works(method: SpawnMethod) -> bool:
    if method in _broken:
        return False
    if method is SpawnMethod.NATIVE:
        return _native is not None and _prctl is not None
    if method is SpawnMethod.SETPRIV:
        return _prctl is not None and _setpriv_works()
    return True


def spawn_methods() -> list[SpawnMethod]:
    """Return the methods that work here, fastest first."""
    return [method for method in SpawnMethod if _works(method)]


def _fastest_method() -> SpawnMethod:
    # Checking for setpriv starts a process: only when the extension is missing.
    return next(method for method in SpawnMethod if _works(method))


@functools.cache
def _devnull() -> int:
    """One /dev/null for the stdin of every command; close-on-exec like every fd parc opens."""
    # Read and write, as subprocess.DEVNULL opens it: `echo x >&0` works.
    return os.open(os.devnull, os.O_RDWR)


_encoded_entries: dict[tuple[str, str], bytes] = {}


def encode_environment(env: Mapping[str, str]) -> list[bytes]:
    """Encode `env` for execve with the checks that subprocess makes.

    Every command gets the same few dozen variables of parc's environment,
    so each entry is encoded once.
    """
    entries = []
    for item in env.items():
        entry = _encoded_entries.get(item)
        if entry is None:
            name = os.fsencode(item[0])
            if b"=" in name:
                raise ValueError("illegal environment variable name")
            entry = _encoded_entries[item] = name + b"=" + os.fsencode(item[1])
        entries.append(entry)
    return entries


def _start(
    method: SpawnMethod,
    command: str,
    cwd: str,
    env: Mapping[str, str],
    output_fd: int,
    die_with_parent: bool,
) -> tuple[int, subprocess.Popen[bytes] | None]:
    """Start `/bin/sh -c command` with `method` and return its pid; raise OSError when it cannot."""
    if method is SpawnMethod.NATIVE:
        argv = [SHELL.encode(), b"-c", os.fsencode(command)]
        environment = encode_environment(env)
        pid = _native.spawn(
            argv[0], argv, environment, os.fsencode(cwd), _devnull(), output_fd, die_with_parent
        )
        return pid, None

    arguments = [SHELL, "-c", command]
    preexec: Callable[[], None] | None = None
    if die_with_parent and method is SpawnMethod.SETPRIV:
        arguments = [SETPRIV_PATH, "--pdeathsig", "KILL", *arguments]
    elif die_with_parent and _prctl is not None:
        parent = os.getpid()

        def preexec() -> None:  # pragma: no cover - runs in the child after fork
            _die_with_parent(parent)

    popen = subprocess.Popen(
        arguments,
        stdin=subprocess.DEVNULL,
        stdout=output_fd,
        stderr=output_fd,
        cwd=cwd,
        env=dict(env),
        start_new_session=True,
        close_fds=True,
        preexec_fn=preexec,
    )
    return popen.pid, popen


def spawn(
    command: str,
    cwd: str,
    env: Mapping[str, str],
    die_with_parent: bool = True,
    method: SpawnMethod | None = None,
) -> tuple[GroupProcess | None, str | None]:
    """Start `command` in a new session and process group.

    With `die_with_parent`, Linux sends the command's shell SIGKILL when
    the thread that started it exits, so call this from a thread that lives
    as long as the command: parc's event loop. `method` is the fastest
    `spawn_methods()` unless given.

    Returns the process, or None and the reason it could not start.
    """
    try:
        read_fd, write_fd = os.pipe()
    except OSError as error:
        return None, f"cannot create a pipe for its output: {error.strerror}"
    if method is None:
        method = _fastest_method()
    try:
        while True:
            try:
                pid, popen = _start(method, command, cwd, env, write_fd, die_with_parent)
                break
            except OSError as error:
                # A kernel older than 5.9 has no close_range: use the next method.
                if method is not SpawnMethod.NATIVE or error.errno != errno.ENOSYS:
                    raise
                logger.debug("cannot start commands with vfork here: %s", error)
                _broken.add(method)
                method = _fastest_method()
    except OSError as error:
        os.close(read_fd)
        os.close(write_fd)
        return None, _start_error(error, cwd)
    except BaseException:
        os.close(read_fd)
        os.close(write_fd)
        raise
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    return GroupProcess(pid, read_fd, popen), None


def _start_error(error: OSError, cwd: str) -> str:
    """Say why a command could not start."""
    if error.errno == errno.ENOENT and not os.path.isdir(cwd):
        return f"directory `{cwd}` does not exist"
    return error.strerror or str(error)


class _Starter:
    """Starts commands on the thread of the `_spawn` extension, off the event loop.

    While a child waits for a CPU to reach exec, the event loop reads the
    output of other steps and reaps them. Each command is submitted with a
    ticket; whichever waiting task finds the result pipe readable reads
    every record there and wakes the others.
    """

    def __init__(self) -> None:
        self.fd = _native.start_thread()
        self.tickets = itertools.count()
        self.results: dict[int, tuple[int, int, int]] = {}
        self.reading = False
        self.arrived = trio.Event()

    async def start(
        self,
        command: str,
        cwd: str,
        environment: list[bytes],
        output_fd: int,
        die: bool,
        rank: int = 0,
    ) -> int:
        """Start `/bin/sh -c command` and return its pid; raise OSError when it cannot.

        `environment` is encoded for execve (`encode_environment`). Of the
        commands waiting for the thread, those of a lower `rank` start first.
        """
        ticket = next(self.tickets)
        argv = [SHELL.encode(), b"-c", os.fsencode(command)]
        path = os.fsencode(cwd)
        _native.submit(ticket, rank, argv[0], argv, environment, path, _devnull(), output_fd, die)
        # The start takes a bounded time and must not be abandoned: the
        # command would run with no one to end it.
        with trio.CancelScope(shield=True):
            while ticket not in self.results:
                if self.reading:
                    await self.arrived.wait()
                    continue
                self.reading = True
                try:
                    await trio.lowlevel.wait_readable(self.fd)
                    self._read_records()
                finally:
                    self.reading = False
                    arrived, self.arrived = self.arrived, trio.Event()
                    arrived.set()
        pid, stage, error = self.results.pop(ticket)
        if stage == _native.STAGE_NONE:
            starting.discard(pid)
            return pid
        filename = {_native.STAGE_CWD: cwd, _native.STAGE_EXEC: SHELL}.get(stage)
        raise OSError(error, os.strerror(error), filename)

    def _read_records(self) -> None:
        size = _native.RESULT_SIZE
        while True:
            try:
                data = os.read(self.fd, size * 256)
            except BlockingIOError:
                return
            for ticket, pid, stage, error, _ in struct.iter_unpack("qiiii", data):
                self.results[ticket] = (pid, stage, error)
                if stage == _native.STAGE_NONE:
                    starting.add(pid)
            if len(data) < size * 256:
                return


starting: set[int] = set()
"""Commands that the extension's thread started and whose task has not taken them yet.

Their pids are in the children lists of parc's threads before a runner
has recorded them as shells, so the search for orphans leaves them out.
"""


@functools.cache
def _starter() -> _Starter:
    return _Starter()


async def spawn_async(
    command: str,
    cwd: str,
    env: Mapping[str, str],
    environment: list[bytes] | None = None,
    rank: int = 0,
) -> tuple[GroupProcess | None, str | None]:
    """Start `command` as `spawn` does, on the extension's thread when there is one.

    That thread lives as long as parc, so the parent-death signal holds for
    the command's whole life. `environment` is `env` encoded for execve, if
    the caller has it already. When several commands wait for the thread,
    those of a lower `rank` start first.
    """
    if not _works(SpawnMethod.NATIVE):
        return spawn(command, cwd, env)
    try:
        read_fd, write_fd = os.pipe()
    except OSError as error:
        return None, f"cannot create a pipe for its output: {error.strerror}"
    if environment is None:
        environment = encode_environment(env)
    try:
        pid = await _starter().start(command, cwd, environment, write_fd, True, rank)
    except OSError as error:
        os.close(read_fd)
        if error.errno == errno.ENOSYS:  # no close_range before Linux 5.9
            logger.debug("cannot start commands with vfork here: %s", error)
            _broken.add(SpawnMethod.NATIVE)
            os.close(write_fd)
            write_fd = -1
            return spawn(command, cwd, env)
        return None, _start_error(error, cwd)
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        if write_fd >= 0:
            os.close(write_fd)
    os.set_blocking(read_fd, False)
    return GroupProcess(pid, read_fd), None


# Orphans: processes that left the step's group and lost their parent.


@attrs.frozen
class ProcessInfo:
    """A process as /proc/PID/stat describes it: parent, group, session and state letter."""

    pid: int
    parent: int
    group: int
    session: int
    state: str


def read_process(pid: int) -> ProcessInfo | None:
    """Read /proc/PID/stat; None when the process is gone."""
    # os.open and os.read cost half of what open() does, and a build scans
    # every process each time a command ends.
    try:
        descriptor = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(descriptor, 1024)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    # The command name may contain spaces and parentheses; it ends at the last `)`.
    fields = data[data.rfind(b")") + 2 :].split(b" ", 4)
    if len(fields) < 5:
        return None
    return ProcessInfo(pid, int(fields[1]), int(fields[2]), int(fields[3]), fields[0].decode())


def iter_processes() -> Iterator[ProcessInfo]:
    """Yield every process that /proc lists."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if entry.isdigit():
            info = read_process(int(entry))
            if info is not None:
                yield info


def _read_small_file(path: str) -> bytes | None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(descriptor, 1 << 16)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def child_pids() -> set[int] | None:
    """Return the pids of this process's children, or None when Linux does not list them.

    Each thread has its own list in /proc/self/task/TID/children: the
    children it started, and the orphans Linux handed to it as a subreaper.
    Linux documents that a list read while children exit may miss an entry:
    the read goes on by position after an earlier entry left. So a list that
    is not empty is read twice and the union is returned; an empty one was
    empty at the moment it was read.
    """
    if not _children_listed():
        return None
    try:
        threads = os.listdir("/proc/self/task")
    except OSError:
        return None
    found: set[int] = set()
    for thread in threads:
        for _ in range(2):
            data = _read_small_file(f"/proc/self/task/{thread}/children")
            if not data:
                break  # no children, or the thread has exited
            found.update(int(word) for word in data.split())
    return found


@functools.cache
def _children_listed() -> bool:
    return os.path.exists(f"/proc/self/task/{threading.get_native_id()}/children")


class _AdoptedChildren:
    """The children list of parc's main thread, which is where Linux puts the orphans it adopts.

    Linux hands an orphan to the first thread of the subreaper that is not
    exiting, in the order the threads were created, so to the main thread
    while it lives. On Linux 6.18 an orphan of a command started from
    another thread was listed under the main thread only. The commands
    themselves are children of the thread that started them, the
    extension's thread, so the list is empty in a build without orphans.

    The file stays open: a read at offset 0 lists the children anew, one
    system call per search instead of a listing of every thread and an
    open, read and close of each thread's list.
    """

    def __init__(self) -> None:
        self._fd: int | None = None
        self._pid = 0

    def read(self) -> set[int] | None:
        """Return the main thread's children, or None when only every thread's list can tell."""
        if not _children_listed() or not threading.main_thread().is_alive():
            return None
        pid = os.getpid()
        if self._fd is None or self._pid != pid:
            try:
                self._fd = os.open(f"/proc/self/task/{pid}/children", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
            self._pid = pid
        found: set[int] = set()
        # As in `child_pids`, a list that is not empty is read twice.
        for _ in range(2):
            try:
                data = os.pread(self._fd, 1 << 16, 0)
            except OSError:
                return None
            if not data:
                break
            found.update(int(word) for word in data.split())
        return found

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_environment_value(pid: int, name: str) -> str | None:
    """Return the value of `name` in the environment a process started with."""
    try:
        descriptor = os.open(f"/proc/{pid}/environ", os.O_RDONLY)
    except OSError:
        return None
    chunks = []
    try:
        while chunk := os.read(descriptor, 1 << 16):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    prefix = name.encode() + b"="
    for entry in b"".join(chunks).split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode("utf-8", errors="replace")
    return None


class Orphans:
    """Finds and ends the processes a step left behind outside its process group.

    parc is a child subreaper while a build runs (`set_child_subreaper`), so a
    process whose parent exited becomes parc's child instead of init's. Such
    a child belongs to a step when it is in a session that parc started for
    that step, or when its environment names the step in `PARC_STEP`. A
    process that both started a new session and cleared its environment
    looks the same as an unrelated child of the program that embeds parc,
    so it is left alone.

    The search after each command reads the children list of parc's main
    thread (`_AdoptedChildren`), and /proc/PID/stat of each child that is
    not one of its shells: in a build without orphans, that is one read.
    The search at the end of a build (`everywhere`) reads the lists of all
    of parc's threads (`child_pids`). A kernel built without these lists
    (CONFIG_PROC_CHILDREN) makes each search read /proc/PID/stat of every
    process on the machine instead: about 0.8 ms with 140 processes on the
    2-core development machine.
    """

    def __init__(self) -> None:
        self.sessions: dict[int, str] = {}
        """Maps the session id of every shell parc started to its step."""
        self.shells: set[int] = set()
        """The shells not yet reaped; they are never orphans."""
        self.use_children_lists = True
        """Whether to look for orphans in the children lists of parc's threads, not all of /proc."""
        self.hurry = False
        """Set at a second signal: `end` sends SIGKILL at once instead of waiting for the grace."""
        self._adopted = _AdoptedChildren()

    def owner(self, info: ProcessInfo) -> str | None:
        """Return the step that `info` belongs to, or None when it belongs to none."""
        step = self.sessions.get(info.session) or self.sessions.get(info.group)
        if step is not None:
            return step
        if info.state == "Z":
            return None  # a zombie's environment is gone
        return read_environment_value(info.pid, "PARC_STEP")

    def find(
        self, steps: Mapping[str, object] | None, name: str | None, everywhere: bool = False
    ) -> list[ProcessInfo]:
        """Return parc's children that belong to step `name` (or to any step of `steps`).

        With `everywhere`, the children of every thread of parc are
        searched, not only those of the main thread.
        """
        me = os.getpid()
        found: list[ProcessInfo] = []
        for info in self._candidates(everywhere):
            if info.parent != me or info.pid in self.shells:
                continue
            owner = self.owner(info)
            if owner is None:
                continue
            if (name is not None and owner == name) or (steps is not None and owner in steps):
                found.append(info)
        return found

    def _candidates(self, everywhere: bool) -> Iterator[ProcessInfo]:
        """Yield parc's children other than its shells, or every process when Linux cannot say."""
        children = None
        if self.use_children_lists and not everywhere:
            children = self._adopted.read()
        if self.use_children_lists and children is None:
            children = child_pids()
        if children is None:
            yield from iter_processes()
            return
        for pid in children - self.shells - starting:
            info = read_process(pid)
            if info is not None:
                yield info

    async def end(
        self,
        grace: float,
        name: str | None = None,
        steps: Mapping[str, object] | None = None,
        everywhere: bool = False,
    ) -> int:
        """End and reap the orphans of step `name`, or of every step in `steps`.

        Each orphan's whole process group gets SIGTERM, then SIGKILL after up
        to `grace` seconds. Killing an orphan hands its own children to parc,
        so the search repeats until it finds nothing. `everywhere` is passed
        to `find`. Returns how many orphans it ended.
        """
        ended = 0
        for _ in range(100):
            orphans = self.find(steps, name, everywhere)
            if not orphans:
                break
            living = [info for info in orphans if info.state != "Z"]
            for info in living:
                logger.debug("ending orphan %d of step %s", info.pid, self.owner(info))
                _signal_group(info.group, signal.SIGTERM)
            if living:
                with trio.move_on_after(grace):
                    while not self.hurry and not all(_has_exited(info.pid) for info in living):
                        await trio.sleep(0.01)
            for info in living:
                _signal_group(info.group, signal.SIGKILL)
                os.kill(info.pid, signal.SIGKILL)  # our child: cannot be gone before reaped
            for info in orphans:
                while not _has_exited(info.pid):
                    await trio.sleep(0.005)
                _reap(info.pid)
                ended += 1
        return ended

    def close(self) -> None:
        """Close the main thread's children list; a later search opens it again."""
        self._adopted.close()
