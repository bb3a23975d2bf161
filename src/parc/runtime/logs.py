"""Per-step logs: every byte a step writes goes to `.parc/logs/<step>.log`."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

OutputCallback = Callable[[bytes], None]


_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


async def _no_wait() -> None:
    pass


class StepLog:
    """The log of one step: a file, and optionally a live copy for the terminal.

    `path` is None for a log that keeps nothing (in tests and dry runs). The
    file is unbuffered, so its size on disk is always what the step wrote, and
    a reader can show the output so far while the step still runs.
    `wait_room` is awaited after each chunk of output, which lets a slow
    terminal hold back the reading of a step's pipe instead of filling memory.
    """

    def __init__(
        self,
        path: Path | None,
        on_output: OutputCallback | None = None,
        wait_room: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.path = path
        self.on_output = on_output
        self.wait_room = wait_room or _no_wait
        self.size = 0
        self._fd: int | None = None
        if path is not None:
            # The directory exists for every step but the first: try the
            # open alone, which saves a mkdir and a stat per step. A bare
            # descriptor also saves the fstat and the object of a file.
            try:
                self._fd = os.open(path, _OPEN_FLAGS, 0o666)
            except FileNotFoundError:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(path, _OPEN_FLAGS, 0o666)

    def write(self, data: bytes) -> None:
        """Append output of the step to the file and pass it to the live copy."""
        self._append(data)
        if self.on_output is not None:
            self.on_output(data)

    def note(self, text: str) -> None:
        """Append a line of parc's own, such as an attempt marker, to the file only."""
        self._append(text.encode() + b"\n")

    def _append(self, data: bytes) -> None:
        self.size += len(data)
        if self._fd is not None:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StepLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def tail_lines(path: Path, count: int, max_bytes: int = 1 << 16) -> list[str]:
    """Return up to the last `count` lines of a file, read from its end."""
    try:
        with path.open("rb") as source:
            source.seek(0, 2)
            size = source.tell()
            source.seek(max(0, size - max_bytes))
            data = source.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[-count:]
