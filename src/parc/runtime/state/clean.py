"""Removing the build outputs that steps own, without ever leaving the project root.

The paths come from the same walk as fingerprints, which follows no symlinked
directory and skips `.parc/`. Removal opens every directory on the way with
`O_NOFOLLOW`, starting from the root, and removes names relative to that
descriptor, so a directory replaced by a symlink after the walk still cannot
lead outside the root. A symlink that a glob matches is removed itself; its
target is never touched. A matched directory is removed only once it is
empty, because a path below it may have been kept.

Some owned paths are not build outputs, so they are kept on purpose. They
are the spec file, version control data, a file that its owning step also
reads (a step that edits its sources in place), and a file that git tracks.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from parc.plan import PlanStep
from parc.runtime.state.files import DIRECTORY, Scanner, parsed_glob

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

VERSION_CONTROL_NAMES = frozenset({".git", ".hg", ".svn"})
"""Names of the directories (or, for a git worktree, the file) that hold a
repository's own data; nothing below them is ever removed."""

GIT_TIMEOUT_SECONDS = 60.0


class GitError(Exception):
    """git could not list the files it tracks, in a project inside a git work tree."""


class GitNotFound(GitError):
    """The project is inside a git work tree, but no `git` command is installed."""


@attrs.frozen
class Owned:
    """The paths that steps own: files (any non-directory) and matched directories.

    `kept` lists the owned paths that are not build outputs, each with the
    reason it stays; they are in neither `files` nor `directories`.
    """

    files: tuple[str, ...]
    directories: tuple[str, ...]
    kept: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Removal:
    """The outcome of `remove`: the paths removed, and each path kept with the reason."""

    removed_files: tuple[str, ...]
    removed_directories: tuple[str, ...]
    kept: tuple[tuple[str, str], ...]


def find_owned(
    root: Path,
    steps: Iterable[PlanStep],
    spec: str | None = None,
    tracked: frozenset[str] = frozenset(),
) -> Owned:
    """Return every path under `root` that an `owns` glob of `steps` covers.

    `spec` is the spec file's path relative to the root, and `tracked` lists
    the paths git tracks. Both go to `kept`, with version control data and
    the paths that their owning step also reads.
    """
    scanner = Scanner(root)
    files: list[str] = []
    directories: list[str] = []
    kept: list[tuple[str, str]] = []
    for step in steps:
        for path, item in scanner.scan(step.owns).items():
            reason = _reason_to_keep(path, step, spec, tracked)
            if reason is not None:
                kept.append((path, reason))
            elif item.digest == DIRECTORY:
                directories.append(path)
            else:
                files.append(path)
    return Owned(
        tuple(sorted(files)),
        tuple(sorted(directories, key=_deepest_first)),
        tuple(sorted(kept)),
    )


def _reason_to_keep(
    path: str, step: PlanStep, spec: str | None, tracked: frozenset[str]
) -> str | None:
    """Return why an owned path is not a build output to remove, or None if it is one."""
    if path == spec:
        return "it is the spec file"
    names = path.split("/")
    for name in names:
        if name in VERSION_CONTROL_NAMES:
            return f"it is version control data (in `{name}`)"
    for text in step.reads:
        if parsed_glob(text).covers(path):
            return f"`{step.name}` also reads it (an in-place edit)"
    if path in tracked:
        return "git tracks it"
    return None


def tracked_by_git(root: Path) -> frozenset[str]:
    """Return the paths below `root` that git tracks (its index lists), relative to `root`.

    The set is empty when neither `root` nor a directory above it contains a
    `.git`. Files of submodules count too.

    Raises:
        GitNotFound: there is a `.git`, but no `git` command.
        GitError: git failed, such as for a repository it does not trust.
    """
    if not any((directory / ".git").exists() for directory in (root, *root.parents)):
        return frozenset()
    command = ["git", "-C", str(root), "ls-files", "-z", "--recurse-submodules"]
    try:
        completed = subprocess.run(
            command, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except FileNotFoundError:
        raise GitNotFound(
            f"`{root}` is inside a git work tree, but the `git` command is not installed"
        ) from None
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitError(f"`{' '.join(command)}` failed: {error}") from None
    if completed.returncode != 0:
        message = completed.stderr.decode(errors="replace").strip()
        raise GitError(
            f"`{' '.join(command)}` failed with exit code {completed.returncode}: {message}"
        )
    return frozenset(os.fsdecode(path) for path in completed.stdout.split(b"\0") if path)


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
