"""The output writer delivers every byte when the stream takes fewer than offered.

A raw stream (stdout under PYTHONUNBUFFERED or `python -u`) makes one system
call per write. On a pipe, a write that a signal interrupts returns the
count written so far, and a non-blocking pipe takes only what fits. Both are
the same short write; a non-blocking pipe makes it happen on every write.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from parc.runtime.output import DirectOutput, FileRange


def read_slowly(fd: int, into: list[bytes]) -> None:
    while chunk := os.read(fd, 4096):
        into.append(chunk)
        time.sleep(0.0005)


def test_short_writes_lose_nothing(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    received: list[bytes] = []
    reader = threading.Thread(target=read_slowly, args=(read_fd, received))
    reader.start()
    lines = [f"line {number:06d}\n".encode() for number in range(40_000)]
    log = tmp_path / "step.log"
    log.write_bytes(b"".join(lines[:10_000]))
    try:
        with open(write_fd, "wb", buffering=0) as stream:
            output = DirectOutput(stream)
            output.write(b"".join(lines[10_000:30_000]))
            output.copy(FileRange(log, 0))
            output.write(b"".join(lines[30_000:]))
    finally:
        reader.join(timeout=60)
        os.close(read_fd)

    expected = b"".join(lines[10_000:30_000] + lines[:10_000] + lines[30_000:])
    assert b"".join(received) == expected
