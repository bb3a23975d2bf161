"""Removing the files that steps own, without ever leaving the project root.

The paths come from the same walk as fingerprints, which follows no symlinked
directory. Removal opens every directory on the way with `O_NOFOLLOW`,
starting from the root, and removes names relative to that descriptor, so a
directory replaced by a symlink after the walk still cannot lead outside the
root. A symlink that a glob matches is removed itself; its target is never
touched. A matched directory is removed only once it is empty, because files
below it that no glob matches may belong to someone else.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from parc.plan import PlanStep
from parc.runtime.state.files import DIRECTORY, Scanner

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@attrs.frozen
class Owned:
    """The paths that steps own: files (any non-directory) and matched directories."""

    files: tuple[str, ...]
    directories: tuple[str, ...]


@attrs.frozen
class Removal:
    """The outcome of `remove`: the paths removed, and each path kept with the reason."""

    removed_files: tuple[str, ...]
    removed_directories: tuple[str, ...]
    kept: tuple[tuple[str, str], ...]


def find_owned(root: Path, steps: Iterable[PlanStep]) -> Owned:
    """Return every path under `root` that an `owns` glob of `steps` matches."""
    found = Scanner(root).scan([text for step in steps for text in step.owns])
    files = sorted(path for path, item in found.items() if item.digest != DIRECTORY)
    directories = sorted(
        (path for path, item in found.items() if item.digest == DIRECTORY), key=_deepest_first
    )
    return Owned(tuple(files), tuple(directories))


def _deepest_first(path: str) -> tuple[int, str]:
    return (-path.count("/"), path)


def empty_after_removal(root: Path, owned: Owned) -> list[str]:
    """Return the owned directories that removing the owned files would leave empty."""
    gone = set(owned.files)
    empty: list[str] = []
    for directory in owned.directories:
        try:
            names = os.listdir(root / directory)
        except OSError:
            continue
        if all(f"{directory}/{name}" in gone for name in names):
            gone.add(directory)
            empty.append(directory)
    return empty


def remove(root: Path, owned: Owned) -> Removal:
    """Remove the owned files, then the owned directories that are empty."""
    removed_files: list[str] = []
    removed_directories: list[str] = []
    kept: list[tuple[str, str]] = []
    root_fd = os.open(root, _DIRECTORY_FLAGS)
    try:
        for path in owned.files:
            problem = _remove_one(root_fd, path, directory=False)
            if problem is None:
                removed_files.append(path)
            else:
                kept.append((path, problem))
        for path in owned.directories:
            problem = _remove_one(root_fd, path, directory=True)
            if problem is None:
                removed_directories.append(path)
            elif problem != "not empty":
                kept.append((path, problem))
    finally:
        os.close(root_fd)
    return Removal(tuple(removed_files), tuple(removed_directories), tuple(kept))


def _remove_one(root_fd: int, path: str, directory: bool) -> str | None:
    """Remove one path relative to the root; return why it was kept, or None."""
    *parents, name = path.split("/")
    parent_fd = _open_parent(root_fd, parents)
    if isinstance(parent_fd, str):
        return parent_fd
    try:
        info = os.lstat(name, dir_fd=parent_fd)
        if stat.S_ISDIR(info.st_mode) != directory:
            return "it changed type since it was listed"
        if directory:
            os.rmdir(name, dir_fd=parent_fd)
        else:
            os.unlink(name, dir_fd=parent_fd)
    except FileNotFoundError:
        return "it no longer exists"
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return "not empty"
        return error.strerror or str(error)
    finally:
        if parent_fd != root_fd:
            os.close(parent_fd)
    return None


def _open_parent(root_fd: int, parents: Sequence[str]) -> int | str:
    """Open the directory `parents` below the root without following symlinks.

    Returns the descriptor, or the reason it cannot be opened.
    """
    fd = root_fd
    for part in parents:
        try:
            following = os.open(part, _DIRECTORY_FLAGS, dir_fd=fd)
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENOTDIR):
                reason = f"`{part}` on its path is a symlink or not a directory"
            else:
                reason = error.strerror or str(error)
            if fd != root_fd:
                os.close(fd)
            return reason
        if fd != root_fd:
            os.close(fd)
        fd = following
    return fd
