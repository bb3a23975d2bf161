"""The files that globs match on disk, and their content digests.

A glob stands for the paths it matches and everything below them
(`Glob.covering`), so `reads "build"` covers the files inside `build`.
A walk starts at a glob's literal prefix and descends only into directories
that the glob's segment patterns can still match. `Glob.match` decides every
path, so the walk and the compiler's overlap check share one glob definition.
The walk never follows a symlinked directory (a glob cannot reach outside the
root through one), and skips parc's own `.parc` directory at the root.

A matched path gets a digest: the xxh3-128 hash of a regular file's content
(a symlink to a regular file counts as that file), or a fixed text for a
directory, any other symlink, a special file, or a path that cannot be read.
`HashCache` remembers digests by (path, size, mtime, ctime, inode, device), so
an unchanged file is not read again.
"""

from __future__ import annotations

import functools
import os
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from parc.runtime import STATE_DIR

if TYPE_CHECKING:
    import re

    import xxhash

    from parc.globs import Glob, Segment

DIRECTORY = "directory"
SPECIAL = "special file"
SYMLINK_PREFIX = "symlink to "
UNREADABLE_PREFIX = "unreadable: "

RACY_WINDOW_NS = 2_000_000_000
"""How long after a file's last modification its cached digest stays untrusted.

Two writes within one timestamp tick leave the same mtime (a tick is a few
milliseconds on Linux, and up to 2 s on FAT), so a digest taken that soon
after a modification may miss a second one. Such a digest is checked again
next time, as git does with racily clean index entries.
"""

READ_CHUNK = 1 << 20

_STATE_PREFIX = STATE_DIR + "/"

_Value = TypeVar("_Value")


# The classes are named tuples, not attrs classes: the no-op build imports
# this module, and attrs costs a quarter of its start-up.


class FileKey(NamedTuple):
    """The stat fields that identify one version of a file without reading it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, info: os.stat_result) -> FileKey:
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


class Found(NamedTuple):
    """A path that a glob matched: a regular file to hash (`key`), or a fixed `digest`."""

    key: FileKey | None = None
    digest: str | None = None


def is_unreadable(digest: str) -> bool:
    return digest.startswith(UNREADABLE_PREFIX)


class Scanner:
    """Finds the paths under `root` that globs match.

    It remembers the directories it has seen to be real directories (not
    symlinks), which saves one `lstat` per path component on later scans.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root_text = str(root)
        self._real_directories: set[str] = set()

    def scan(self, texts: Sequence[str], exclude: Sequence[str] = ()) -> dict[str, Found]:
        """Return every path that one of the globs covers, except those `exclude` covers.

        A glob covers the paths it matches and everything below them. The
        globs are normalised glob texts, as a plan stores them.
        """
        found: dict[str, Found] = {}
        for text in texts:
            # A literal needs a walk only when it names a directory.
            if not is_literal(text) or self._scan_literal(text, found):
                self._scan_glob(parsed_glob(text).covering, found)
        drop_covered(found, exclude)
        return found

    def needs_walk(self, texts: Sequence[str]) -> bool:
        """Tell whether scanning the globs lists a directory.

        Only a glob without wildcards that names a file, or nothing, needs no listing.
        """
        for text in texts:
            if not is_literal(text):
                return True
            parts = text.split("/")
            if parts[0] != STATE_DIR and self._is_real_directory(parts):
                return True
        return False

    def version(self, path: str) -> os.stat_result | str | None:
        """Return what identifies the content at a literal glob's path, or None if nothing is there.

        That is the `lstat` of a regular file (or `stat` of a symlink's
        target, if that is one), else a fixed digest (see `describe`).
        """
        # The parent directory has mostly been seen already: one set lookup.
        directory = path.rpartition("/")[0]
        if (path == STATE_DIR or path.startswith(_STATE_PREFIX)) or (
            directory not in self._real_directories
            and not self._is_real_directory(path.split("/")[:-1])
        ):
            return None
        try:
            info = os.lstat(f"{self._root_text}/{path}")
        except OSError:
            return None
        if stat.S_ISREG(info.st_mode):
            return info  # what `describe` returns, without the call
        return describe(self._root_text, path, info)

    def _scan_literal(self, path: str, found: dict[str, Found]) -> bool:
        """Add the one path a literal glob names, if it exists; tell whether it is a directory."""
        version = self.version(path)
        if version is None:
            return False
        found[path] = _found(version)
        return version == DIRECTORY

    def _scan_glob(self, glob: Glob, found: dict[str, Found]) -> None:
        segments = glob.segments
        patterns = glob.segment_patterns()
        end = len(segments)
        prefix = glob.literal_prefix
        positions = _closure({len(prefix)}, segments)
        base = "/".join(prefix)

        # The literal prefix: every directory on the way must be a real one.
        if prefix:
            if not self._is_real_directory(prefix[:-1]):
                return
            try:
                info = os.lstat(self.root / base)
            except OSError:
                return
            if end in positions:
                found[base] = self._describe(base, info)
            if not stat.S_ISDIR(info.st_mode) or positions == {end}:
                return
            self._real_directories.add(base)

        # Below it, a walk that keeps the glob positions each directory can reach.
        stack: list[tuple[str, frozenset[int]]] = [(base, frozenset(positions))]
        while stack:
            directory, reachable = stack.pop()
            try:
                entries = list(os.scandir(self.root / directory if directory else self.root))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as error:
                found[directory or "."] = Found(digest=UNREADABLE_PREFIX + _reason(error))
                continue
            for entry in entries:
                if not directory and entry.name == STATE_DIR:
                    continue
                following = _advance(reachable, entry.name, segments, patterns)
                if not following:
                    continue
                path = f"{directory}/{entry.name}" if directory else entry.name
                if end in following and glob.match(path):
                    try:
                        found[path] = self._describe(path, entry.stat(follow_symlinks=False))
                    except FileNotFoundError:
                        continue
                if any(position < end for position in following) and entry.is_dir(
                    follow_symlinks=False
                ):
                    stack.append((path, following))

    def _is_real_directory(self, parts: Sequence[str]) -> bool:
        """Tell whether every leading path of `parts` is a directory and not a symlink."""
        for length in range(1, len(parts) + 1):
            path = "/".join(parts[:length])
            if path in self._real_directories:
                continue
            try:
                info = os.lstat(os.path.join(self._root_text, path))
            except OSError:
                return False
            if not stat.S_ISDIR(info.st_mode):
                return False
            self._real_directories.add(path)
        return True

    def _describe(self, path: str, info: os.stat_result) -> Found:
        return _found(describe(self._root_text, path, info))


def describe(root: str, path: str, info: os.stat_result) -> os.stat_result | str:
    """Return what identifies a matched path's content, from its `lstat`.

    A regular file is identified by its `lstat`, and a symlink to one by the
    target's `stat`: the caller hashes the file or finds it in the digest
    cache. Anything else gets a fixed digest: a directory, a special file,
    another symlink (by its target's text), or a path that cannot be read.
    """
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return info
    if stat.S_ISDIR(mode):
        return DIRECTORY
    if not stat.S_ISLNK(mode):
        return SPECIAL
    full = f"{root}/{path}"
    try:
        target = os.readlink(full)
    except OSError as error:
        return UNREADABLE_PREFIX + _reason(error)
    try:
        resolved = os.stat(full)
    except OSError:
        return SYMLINK_PREFIX + target
    if stat.S_ISREG(resolved.st_mode):
        return resolved
    return SYMLINK_PREFIX + target


def _found(version: os.stat_result | str) -> Found:
    if isinstance(version, str):
        return Found(digest=version)
    return Found(key=FileKey.of(version))


def is_literal(text: str) -> bool:
    """Tell whether a normalised glob text matches exactly the one path it spells.

    Only `*`, `?` and `[` have a meaning in a glob, so a text without them is
    a literal path, and scanning for it needs neither parsing nor a walk.
    """
    return "*" not in text and "?" not in text and "[" not in text


@functools.lru_cache(maxsize=4096)
def parsed_glob(text: str) -> Glob:
    # Imported here: literal globs, all a no-op build usually has, need no parsing.
    from parc.globs import parse_glob

    return parse_glob(text)


def drop_covered(found: dict[str, _Value], texts: Sequence[str]) -> None:
    """Remove from `found` every path that one of the globs covers.

    A glob without wildcards covers its path and the paths below it. Those
    globs are found by looking up each path and its parent directories in a
    set, so only the other globs cost a regex match per path.
    """
    if not texts or not found:
        return
    if len(texts) == 1 and is_literal(texts[0]):
        # The most common case, made quicker: one literal glob.
        covering = texts[0]
        below = covering + "/"
        for path in [path for path in found if path == covering or path.startswith(below)]:
            del found[path]
        return
    literals = {text for text in texts if is_literal(text)}
    patterns = [parsed_glob(text).covering for text in texts if not is_literal(text)]
    for path in list(found):
        if _at_or_below(path, literals) or any(glob.match(path) for glob in patterns):
            del found[path]


def _at_or_below(path: str, directories: set[str]) -> bool:
    """Tell whether `path` or one of its parent directories is in `directories`."""
    if not directories:
        return False
    end = len(path)
    while end > 0:
        if path[:end] in directories:
            return True
        end = path.rfind("/", 0, end)
    return False


def _closure(positions: Iterable[int], segments: Sequence[Segment]) -> set[int]:
    """Add the positions reachable by letting each `**` match zero segments."""
    result: set[int] = set()
    for position in positions:
        result.add(position)
        while position < len(segments) and segments[position] is None:
            position += 1
            result.add(position)
    return result


def _advance(
    positions: Iterable[int],
    name: str,
    segments: Sequence[Segment],
    patterns: Sequence[re.Pattern[str] | None],
) -> frozenset[int]:
    """Return the glob positions after matching one more path segment, `name`."""
    following: set[int] = set()
    for position in positions:
        if position == len(segments):
            continue
        pattern = patterns[position]
        if pattern is None:
            following.add(position)  # `**` takes this segment and may take more
        elif pattern.fullmatch(name):
            following.add(position + 1)
    return frozenset(_closure(following, segments))


def _reason(error: OSError) -> str:
    return error.strerror.lower() if error.strerror else type(error).__name__


def _xxh3_128() -> xxhash.xxh3_128:
    import xxhash

    return xxhash.xxh3_128()


def hash_file(path: Path) -> tuple[str, FileKey | None]:
    """Return the digest of a file's content and the key to cache it under.

    The key is None when the file changed while it was read, so the digest
    must not be cached.

    Raises:
        OSError: the file cannot be opened or read.
    """
    with path.open("rb", buffering=0) as source:
        before = FileKey.of(os.fstat(source.fileno()))
        digest = _xxh3_128()
        while chunk := source.read(READ_CHUNK):
            digest.update(chunk)
        after = FileKey.of(os.fstat(source.fileno()))
    return digest.hexdigest(), (before if before == after else None)


class CachedDigest(NamedTuple):
    """A digest as the cache stores it; `hashed_ns` is the wall clock when it was taken."""

    key: FileKey
    digest: str
    hashed_ns: int

    @property
    def trusted(self) -> bool:
        return is_trusted(self.key.mtime_ns, self.hashed_ns)


def is_trusted(mtime_ns: int, hashed_ns: int) -> bool:
    """Tell whether a file's content had last changed long enough before it was hashed.

    A later write then gives the file a newer mtime, so the key differs.
    """
    return mtime_ns + RACY_WINDOW_NS <= hashed_ns


class HashCache:
    """Digests of files by path and `FileKey`, and the changes to save.

    `hashed` counts the files read since the cache was made.
    """

    def __init__(self, entries: Mapping[str, CachedDigest] | None = None) -> None:
        self.entries: dict[str, CachedDigest] = dict(entries or {})
        self.changed: dict[str, CachedDigest] = {}
        self.removed: set[str] = set()
        self.hashed = 0

    def lookup(self, path: str, key: FileKey) -> str | None:
        """Return the cached digest of `path` if the file is still the one hashed."""
        entry = self.entries.get(path)
        if entry is None or entry.key != key or not entry.trusted:
            return None
        return entry.digest

    def store(self, path: str, key: FileKey, digest: str, hashed_ns: int) -> None:
        entry = CachedDigest(key, digest, hashed_ns)
        self.entries[path] = entry
        self.changed[path] = entry
        self.removed.discard(path)

    def forget(self, path: str) -> None:
        if self.entries.pop(path, None) is not None:
            self.removed.add(path)
        self.changed.pop(path, None)

    def take_changes(self) -> tuple[dict[str, CachedDigest], set[str]]:
        """Return the entries stored and the paths forgotten since the last call."""
        changed, removed = self.changed, self.removed
        self.changed, self.removed = {}, set()
        return changed, removed


def hash_files(root: Path, paths: Iterable[str]) -> dict[str, tuple[str, FileKey | None, int]]:
    """Hash each file; return its digest, cache key and the wall clock of hashing.

    A file that cannot be read gets an `unreadable: ...` digest and no key.
    """
    result: dict[str, tuple[str, FileKey | None, int]] = {}
    for path in paths:
        hashed_ns = time.time_ns()
        try:
            digest, key = hash_file(root / path)
        except OSError as error:
            result[path] = (UNREADABLE_PREFIX + _reason(error), None, hashed_ns)
            continue
        result[path] = (digest, key, hashed_ns)
    return result
