"""Per-step logs: every byte a step writes goes to `.parc/logs/<step>.log`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

OutputCallback = Callable[[bytes], None]


class StepLog:
    """The log of one step: a file, and optionally a live copy for the terminal.

    `path` is None for a log that keeps nothing (in tests and dry runs).
    """

    def __init__(self, path: Path | None, on_output: OutputCallback | None = None) -> None:
        self.path = path
        self.on_output = on_output
        self.size = 0
        self._file: BinaryIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._file is not None:
            self._file.write(data)
        if self.on_output is not None:
            self.on_output(data)

    def note(self, text: str) -> None:
        """Write a line of parc's own, such as an attempt marker, to the log."""
        line = text.encode() + b"\n"
        if self._file is not None:
            self._file.write(line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> StepLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()


def copy_file(path: Path, out: BinaryIO, chunk_size: int = 1 << 16) -> int:
    """Copy a file to `out` in chunks, so a huge log needs little memory.

    Returns the number of bytes copied.
    """
    copied = 0
    with path.open("rb") as source:
        while chunk := source.read(chunk_size):
            out.write(chunk)
            copied += len(chunk)
    return copied


def tail_lines(path: Path, count: int, max_bytes: int = 1 << 16) -> list[str]:
    """Return up to the last `count` lines of a file, read from its end."""
    with path.open("rb") as source:
        source.seek(0, 2)
        size = source.tell()
        source.seek(max(0, size - max_bytes))
        data = source.read()
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[-count:]
