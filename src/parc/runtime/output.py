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

import logging
import select
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
    """Writes from a worker thread, so a slow reader never stalls the event loop.

    Start `run` in a nursery before the first write, and await `drain` before
    the end so that every queued byte is written and flushed.
    """

    def __init__(self, out: BinaryIO, budget: int = DEFAULT_BUDGET) -> None:
        self._writer = _Writer(out)
        self.budget = budget
        self._items: list[bytes | FileRange] = []
        self._pending = 0
        self._busy = False
        self._wake = trio.Event()
        self._progress = trio.lowlevel.ParkingLot()

    @property
    def broken(self) -> bool:
        return self._writer.broken

    def write(self, data: bytes) -> None:
        if self.broken or not data:
            return
        self._items.append(data)
        self._pending += len(data)
        self._wake.set()

    def copy(self, part: FileRange) -> None:
        if self.broken:
            return
        self._items.append(part)
        self._wake.set()

    async def wait_room(self) -> None:
        """Wait while more than the budget of queued bytes waits for the thread."""
        while self._pending > self.budget and not self.broken:
            await self._progress.park()

    async def drain(self) -> None:
        """Wait until everything queued so far has been written and flushed."""
        while (self._items or self._busy) and not self.broken:
            await self._progress.park()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Write queued items until cancelled; a write in progress always completes."""
        task_status.started()
        while True:
            if not self._items:
                self._wake = trio.Event()
                await self._wake.wait()
            items, self._items = self._items, []
            self._busy = True
            try:
                await trio.to_thread.run_sync(self._writer.write_items, items)
            finally:
                self._busy = False
                self._pending -= sum(len(item) for item in items if isinstance(item, bytes))
                if self.broken:
                    self._items.clear()
                    self._pending = 0
                self._progress.unpark_all()
