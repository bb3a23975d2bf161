"""Destinations of the reporter's bytes: a stream written at once, or a worker thread.

A write to a terminal or a pipe blocks when the reader is slow. Done on the
event loop, such a write would stop the reading of every step's output pipe,
and the steps would block in turn. `ThreadedOutput` therefore writes from a
worker thread: the event loop only queues bytes, or the range of a log file
to copy, which costs no memory however large the log is. Queued bytes are
bounded: when the terminal falls behind by more than the budget, the steps'
pipes are read more slowly (`wait_room`), the way a command run directly in a
slow terminal would be slowed.
"""

from __future__ import annotations

import io
import logging
import os
import select
import stat
import threading
from pathlib import Path
from typing import BinaryIO, Protocol

import attrs
import trio

logger = logging.getLogger("parc.runtime")

COPY_CHUNK = 1 << 16
DEFAULT_BUDGET = 4 << 20


@attrs.frozen
class FileRange:
    """Bytes `start` to `end` (None: to the end) of a file, to be copied out.

    With `end_line`, a newline follows when the copied bytes do not end with one.
    """

    path: Path
    start: int
    end: int | None = None
    end_line: bool = True


class Output(Protocol):
    def write(self, data: bytes) -> None:
        """Queue `data`; it reaches the stream in the order of the calls."""
        ...

    def copy(self, part: FileRange) -> None:
        """Queue a part of a file, read only when its turn comes."""
        ...


class _Writer:
    """The blocking part both outputs share: write bytes and file ranges, then flush."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.broken = False

    def write_items(self, items: list[bytes | FileRange]) -> None:
        if self.broken:
            return
        try:
            for item in items:
                if isinstance(item, FileRange):
                    self._copy(item)
                else:
                    self._write_all(item)
            self.out.flush()
        except OSError as error:
            # The reader went away (a closed pipe, a hung-up terminal). The
            # build goes on and its logs stay complete; nothing more is shown.
            self.broken = True
            logger.warning("cannot write the build output any more: %s", error)

    def _copy(self, part: FileRange) -> None:
        last = b"\n"
        try:
            source = part.path.open("rb")
        except FileNotFoundError:
            return
        with source:
            source.seek(part.start)
            remaining = None if part.end is None else part.end - part.start
            while remaining is None or remaining > 0:
                size = COPY_CHUNK if remaining is None else min(COPY_CHUNK, remaining)
                chunk = source.read(size)
                if not chunk:
                    break
                self._write_all(chunk)
                last = chunk[-1:]
                if remaining is not None:
                    remaining -= len(chunk)
        if part.end_line and last != b"\n":
            self._write_all(b"\n")

    def _write_all(self, data: bytes) -> None:
        """Write every byte of `data`.

        Under PYTHONUNBUFFERED or `python -u`, stdout is a raw file whose
        `write` makes one system call. A pipe write that a signal interrupts
        returns the count written so far (while parc starts a command, its
        event loop blocks signals, and Linux delivers them to this thread),
        and a non-blocking stream may accept nothing.
        """
        view = memoryview(data)
        while view:
            written = self.out.write(view)
            if written is None:  # a full non-blocking stream
                select.select([], [self.out], [])
                continue
            view = view[written:]


class DirectOutput:
    """Writes at once, on the caller's thread; for tests and for use outside trio."""

    def __init__(self, out: BinaryIO) -> None:
        self._writer = _Writer(out)

    def write(self, data: bytes) -> None:
        self._writer.write_items([data])

    def copy(self, part: FileRange) -> None:
        self._writer.write_items([part])


class ThreadedOutput:
    """Writes from a thread of its own, so a slow reader never stalls the event loop.

    Start `run` in a nursery before the first write, and await `drain` before
    the end so that every queued byte is written and flushed. The event loop
    only appends to a list under a lock. The thread takes everything queued
    at once, and wakes the event loop only when a task waits in `drain` or
    `wait_room`.

    Waking the thread costs more than the write itself: on a build of 1,000
    `true` steps into a pipe, a thread that wrote each line cost parc about
    0.2 ms of CPU per step. So a short write to a pipe or a regular file that
    can take it at once is made on the event loop, when nothing waits in the
    queue: a pipe that polls writable takes `PIPE_BUF` bytes without blocking.

    NOTE: another process that writes to the same pipe between the poll and
    the write can still make that write block until the pipe's reader reads.
    """

    def __init__(self, out: BinaryIO, budget: int = DEFAULT_BUDGET) -> None:
        self._writer = _Writer(out)
        self.budget = budget
        self._lock = threading.Lock()
        self._queued = threading.Condition(self._lock)
        # Guarded by the lock: the items the thread has not taken yet, the
        # bytes queued or being written, and whether a task waits for progress.
        self._items: list[bytes | FileRange] = []
        self._pending = 0
        self._busy = False
        self._waiting = False
        self._stopping = False
        self._progress = trio.lowlevel.ParkingLot()
        self._writable = _writability_poll(out)

    @property
    def broken(self) -> bool:
        return self._writer.broken

    def write(self, data: bytes) -> None:
        if self.broken or not data:
            return
        with self._lock:
            # Holding the lock keeps the thread from starting a write meanwhile.
            if not self._items and not self._busy and self._takes_at_once(len(data)):
                self._writer.write_items([data])
                return
            self._items.append(data)
            self._pending += len(data)
            if not self._busy:
                self._queued.notify()

    def copy(self, part: FileRange) -> None:
        if self.broken:
            return
        with self._lock:
            self._items.append(part)
            if not self._busy:
                self._queued.notify()

    def _takes_at_once(self, size: int) -> bool:
        return (
            self._writable is not None and size <= select.PIPE_BUF and bool(self._writable.poll(0))
        )

    async def wait_room(self) -> None:
        """Wait while more than the budget of queued bytes waits for the thread."""
        while self._pending > self.budget and not self.broken:
            with self._lock:
                if self._pending <= self.budget:
                    return
                self._waiting = True
            await self._progress.park()

    async def drain(self) -> None:
        """Wait until everything queued so far has been written and flushed."""
        while not self.broken:
            with self._lock:
                if not self._items and not self._busy:
                    return
                self._waiting = True
            await self._progress.park()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Write queued items on the thread until cancelled; a write in progress always completes.

        Raises:
            Exception: what the thread raised while writing (an OSError only
                marks the output as broken).
        """
        token = trio.lowlevel.current_trio_token()
        ended = trio.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._work, args=(token, ended, failure), name="parc output", daemon=True
        )
        thread.start()
        task_status.started()
        try:
            await ended.wait()
        finally:
            with self._lock:
                self._stopping = True
                self._queued.notify()
            with trio.CancelScope(shield=True):
                await ended.wait()
        # The thread ends by itself only when a write raised.
        raise failure[0]

    def _work(
        self, token: trio.lowlevel.TrioToken, ended: trio.Event, failure: list[BaseException]
    ) -> None:
        """Take the queued items and write them, until `run` tells the thread to stop."""
        try:
            while True:
                with self._lock:
                    while not self._items and not self._stopping:
                        self._queued.wait()
                    if self._stopping:
                        return
                    items, self._items = self._items, []
                    self._busy = True
                try:
                    self._writer.write_items(items)
                finally:
                    with self._lock:
                        self._busy = False
                        self._pending -= sum(len(item) for item in items if isinstance(item, bytes))
                        if self.broken:
                            self._items.clear()
                            self._pending = 0
                        wake, self._waiting = self._waiting, False
                    if wake:
                        token.run_sync_soon(self._progress.unpark_all)
        except BaseException as error:
            failure.append(error)
        finally:
            token.run_sync_soon(ended.set)


def _writability_poll(out: BinaryIO) -> select.poll | None:
    """Return a poll for `out` being writable, if `out` is a pipe, a regular file or /dev/null.

    A terminal, a socket or another device may block on a write that poll
    allowed, so writes to them always go through the thread.
    """
    try:
        fd = out.fileno()
        mode = os.fstat(fd).st_mode
        null = stat.S_ISCHR(mode) and os.path.samestat(os.fstat(fd), os.stat(os.devnull))
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or null):
        return None
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    return poll
