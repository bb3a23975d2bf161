"""Removing the build outputs that steps own, without ever leaving the project root.

The paths come from the same walk as fingerprints, which follows no symlinked
directory and skips `.parc/`. Removal opens every directory on the way with
`O_NOFOLLOW`, starting from the root, and removes names relative to that
descriptor, so a directory replaced by a symlink after the walk still cannot
lead outside the root. A symlink that a glob matches is removed itself; its
target is never touched. A matched directory is removed only once it is
empty, because a path below it may have been kept.

Some owned paths are not build outputs, so they are kept on purpose. They
are the spec file, version control data, a repository nested in an owned
directory (with its work tree), a file that its owning step also reads (a
step that edits its sources in place), and a file that git tracks. The
version control data at the root and a nested repository are each listed
once, not file by file.
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

_MARKER_ORDER = tuple(sorted(VERSION_CONTROL_NAMES))

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
    the paths git tracks. Both go to `kept`, with version control data,
    nested repositories and the paths that their owning step also reads.
    """
    scanner = Scanner(root)
    repositories = _NestedRepositories(root)
    files: list[str] = []
    directories: list[str] = []
    kept: dict[str, str] = {}
    for step in steps:
        for path, item in scanner.scan(step.owns).items():
            keep = _reason_to_keep(path, step, spec, tracked, repositories)
            if keep is not None:
                shown, reason = keep
                kept.setdefault(shown, reason)
            elif item.digest == DIRECTORY:
                directories.append(path)
            else:
                files.append(path)
    return Owned(
        tuple(sorted(files)),
        tuple(sorted(directories, key=_deepest_first)),
        tuple(sorted(kept.items())),
    )


def _reason_to_keep(
    path: str,
    step: PlanStep,
    spec: str | None,
    tracked: frozenset[str],
    repositories: _NestedRepositories,
) -> tuple[str, str] | None:
    """Return the path to list as kept and why, or None if `path` is a build output.

    The listed path is `path` itself, but for version control data and
    nested repositories, which are listed once as a whole.
    """
    if path == spec:
        return path, "it is the spec file"
    names = path.split("/")
    if names[0] in VERSION_CONTROL_NAMES:
        return names[0], "it is version control data"
    nested = repositories.enclosing(names)
    if nested is not None:
        repository, marker = nested
        return repository, f"it is a nested repository (it contains `{marker}`), kept whole"
    if _edited_in_place(names, step):
        return path, f"`{step.name}` also reads it (an in-place edit)"
    if path in tracked:
        return path, "git tracks it"
    return None


def _edited_in_place(names: list[str], step: PlanStep) -> bool:
    """Tell whether the step reads an owned path as specifically as it owns it.

    The owned root is the shallowest of the path and its directories that an
    `owns` glob matches. The path is a source edited in place only when a
    `reads` glob matches the owned root or something between it and the
    path. So `reads "src/*.py"` with `owns "src/*.py"` edits `src/a.py` in
    place, but `reads "proto"` with `owns "proto/gen"` only covers
    `proto/gen/a.pb` through the broader `proto`, and `proto/gen` is output.
    """
    prefixes = ["/".join(names[:length]) for length in range(1, len(names) + 1)]
    owns = [parsed_glob(text) for text in step.owns]
    reads = [parsed_glob(text) for text in step.reads]
    for index, prefix in enumerate(prefixes):
        if any(glob.match(prefix) for glob in owns):
            return any(glob.match(below) for below in prefixes[index:] for glob in reads)
    return False


class _NestedRepositories:
    """The repositories nested below the root, found by the version control entry they contain.

    A directory below the root that contains `.git` (a directory, or the
    file of a submodule or worktree), `.hg` or `.svn` is the top of a
    repository of its own. Its work tree is not a build output either.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._markers: dict[str, str | None] = {}

    def enclosing(self, names: Sequence[str]) -> tuple[str, str] | None:
        """Return the outermost nested repository that contains the path, and its marker.

        The path itself counts when it is such a directory.
        """
        for length in range(1, len(names) + 1):
            directory = "/".join(names[:length])
            marker = self._marker(directory)
            if marker is not None:
                return directory, marker
        return None

    def _marker(self, directory: str) -> str | None:
        if directory not in self._markers:
            self._markers[directory] = self._find_marker(self._root / directory)
        return self._markers[directory]

    @staticmethod
    def _find_marker(directory: Path) -> str | None:
        # A symlink is not a nested repository but an owned path to remove.
        try:
            if not stat.S_ISDIR(os.lstat(directory).st_mode):
                return None
        except OSError:
            return None
        for name in _MARKER_ORDER:
            if os.path.lexists(directory / name):
                return name
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
