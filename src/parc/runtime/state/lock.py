"""The project lock: one parc at a time builds or cleans a project.

The lock is an exclusive `flock` on `.parc/lock`. The kernel releases it when
its holder exits, even by SIGKILL, so a crashed parc never leaves a stale
lock. The file descriptor is not inherited by the steps' commands, so a
command that outlives parc does not hold the lock either. The holder writes
its process id into the file, which a waiting parc shows.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from parc.dotparc import make_state_directory

LOCK_NAME = "lock"


class LockBusy(Exception):
    """Another parc holds the lock, and the caller chose not to wait."""

    def __init__(self, path: Path, holder: int | None) -> None:
        who = f"process {holder}" if holder is not None else "another process"
        super().__init__(
            f"another parc ({who}) is building this project and holds `{path}`; "
            f"wait for it to finish, or run without `--no-wait` to wait for it"
        )
        self.path = path
        self.holder = holder


class ProjectLock:
    """An exclusive lock on a project, held from `acquire` until `release`."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, wait: bool, on_wait: Callable[[str], None] | None = None) -> None:
        """Take the lock; if another parc holds it, wait for it or raise.

        `on_wait` receives a message once, when parc starts to wait.

        Raises:
            LockBusy: the lock is held and `wait` is false.
            OSError: the lock file cannot be created.
        """
        make_state_directory(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                if not wait:
                    raise LockBusy(self.path, holder) from None
                if on_wait is not None:
                    who = f"process {holder}" if holder is not None else "another process"
                    on_wait(
                        f"waiting for another parc ({who}) to finish building this project; "
                        f"press Ctrl-C to give up, or pass `--no-wait` to fail at once"
                    )
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:  # close the descriptor on any failure, waiting included
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Release the lock. The file stays, so a waiting parc keeps a valid descriptor."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> ProjectLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _read_holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
