"""Run parc on a pseudo-terminal and read the screen it draws, through the pyte emulator."""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyte

PARC = [sys.executable, "-m", "parc"]


def terminal_environment(**extra: str) -> dict[str, str]:
    """Return the environment of a person at a colour terminal, outside CI."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CI", "NO_COLOR", "PARC_STEP", "COLUMNS", "LINES")
    }
    env.update(TERM="xterm-256color", LANG="C.UTF-8")
    env.update(extra)
    return env


class PtyTerminal:
    """A command on a pseudo-terminal of `columns` x `lines`, drawn on a pyte screen."""

    def __init__(
        self,
        arguments: Sequence[str],
        cwd: Path,
        env: dict[str, str],
        columns: int = 100,
        lines: int = 40,
    ) -> None:
        self.screen = pyte.Screen(columns, lines)
        self._stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self._lock = threading.Lock()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.process = subprocess.Popen(
            [*PARC, *arguments],
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self._master = master
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError as error:
                if error.errno == errno.EINTR:
                    continue
                return  # EIO: the other side is closed
            if not data:
                return
            with self._lock:
                self.raw.extend(data)
                self._stream.feed(data)

    def lines(self) -> list[str]:
        """Return the screen's lines without trailing blanks, and without the blank lines below."""
        with self._lock:
            shown = [line.rstrip() for line in self.screen.display]
        while shown and not shown[-1]:
            shown.pop()
        return shown

    def wait_for(self, condition: Callable[[list[str]], bool], timeout: float = 60.0) -> list[str]:
        """Poll the screen until `condition(lines)` holds; fail with the screen if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if condition(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError("the screen never showed it:\n" + "\n".join(lines))
            time.sleep(0.05)

    def wait(self, timeout: float = 120.0) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(timeout=10)
        os.close(self._master)
        return code

    @property
    def cursor_hidden(self) -> bool:
        with self._lock:
            return bool(self.screen.cursor.hidden)
