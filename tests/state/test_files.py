"""Finding the files that globs match, and the digest cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from parc.globs import Glob, parse_glob
from parc.runtime.state.files import (
    DIRECTORY,
    RACY_WINDOW_NS,
    SYMLINK_PREFIX,
    FileKey,
    HashCache,
    Scanner,
    drop_covered,
    hash_file,
    hash_files,
    is_literal,
)

NAMES = ["a", "b", ".h", "ab"]


def _all_paths(root: Path) -> set[str]:
    """Every path under `root` that a walk without following symlinks reaches."""
    paths: set[str] = set()
    for directory, subdirectories, files in os.walk(root, followlinks=False):
        relative = os.path.relpath(directory, root)
        for name in subdirectories + files:
            path = name if relative == "." else f"{relative}/{name}"
            paths.add(path)
    return {path for path in paths if path != ".parc" and not path.startswith(".parc/")}


def _covered(glob: Glob, path: str) -> bool:
    """Tell whether the glob matches `path` or one of its parent directories."""
    names = path.split("/")
    return any(glob.match("/".join(names[:length])) for length in range(1, len(names) + 1))


paths_strategy = st.lists(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=4).map("/".join),
    min_size=1,
    max_size=12,
)
segment = st.sampled_from(["a", "b", "*", "?", "[ab]", "**", ".h", "a*", "[!a]*"])
globs_strategy = st.lists(segment, min_size=1, max_size=4).map("/".join)


def _make_tree(root: Path, paths: list[str]) -> None:
    for path in sorted(paths):
        target = root / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_text(path)
        except (FileExistsError, NotADirectoryError):
            continue  # a file already stands where a directory would go


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=paths_strategy, glob_text=globs_strategy)
def test_scan_matches_brute_force(
    tmp_path_factory: object, paths: list[str], glob_text: str
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        _make_tree(root, paths)
        (root / ".parc").mkdir()
        (root / ".parc" / "a").write_text("state")
        glob = parse_glob(glob_text)
        # A glob covers the paths it matches and everything below them.
        expected = {path for path in _all_paths(root) if _covered(glob, path)}
        assert set(Scanner(root).scan([glob.text])) == expected


def test_scan_does_not_follow_directory_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret.txt").write_text("x")
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    (root / "src" / "real.txt").write_text("y")
    (root / "src" / "link").symlink_to(outside)
    (root / "via").symlink_to(outside)

    found = Scanner(root).scan(["src/**", "via/deep/*.txt"])
    assert sorted(found) == ["src", "src/link", "src/real.txt"]
    assert found["src"].digest == DIRECTORY
    assert found["src/link"].digest == SYMLINK_PREFIX + str(outside)
    assert found["src/real.txt"].key is not None


def test_symlink_to_file_counts_as_the_file(tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_text("content")
    (tmp_path / "link.txt").symlink_to("target.txt")
    (tmp_path / "dangling.txt").symlink_to("nowhere.txt")
    found = Scanner(tmp_path).scan(["*.txt"])
    assert found["link.txt"].key == FileKey.of((tmp_path / "target.txt").stat())
    assert found["dangling.txt"].digest == SYMLINK_PREFIX + "nowhere.txt"


def test_scan_skips_excluded_and_state_directory(tmp_path: Path) -> None:
    for path in ("gen/a.txt", "gen/b.txt", ".parc/state.db"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(path)
    found = Scanner(tmp_path).scan(["**"], ["gen/b.txt"])
    assert sorted(found) == ["gen", "gen/a.txt"]


def test_scan_covers_below_matched_directories(tmp_path: Path) -> None:
    for path in ("gen/a.txt", "gen/deep/b.txt", "gen.txt", "src/x.c/inner.h", "src/y.c"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(path)
    scanner = Scanner(tmp_path)
    assert sorted(scanner.scan(["gen"])) == ["gen", "gen/a.txt", "gen/deep", "gen/deep/b.txt"]
    assert sorted(scanner.scan(["src/*.c"])) == ["src/x.c", "src/x.c/inner.h", "src/y.c"]
    assert sorted(scanner.scan(["gen.txt"])) == ["gen.txt"]


def test_excluded_directory_excludes_its_files(tmp_path: Path) -> None:
    for path in ("gen/a.txt", "gen/deep/b.txt", "keep/c.txt"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(path)
    scanner = Scanner(tmp_path)
    assert sorted(scanner.scan(["**"], ["gen"])) == ["keep", "keep/c.txt"]
    assert sorted(scanner.scan(["**"], ["g*"])) == ["keep", "keep/c.txt"]
    assert sorted(scanner.scan(["gen/**"], ["gen/deep"])) == ["gen", "gen/a.txt"]


def test_needs_walk_only_for_directories_and_wildcards(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file.txt").write_text("x")
    scanner = Scanner(tmp_path)
    assert not scanner.needs_walk(["file.txt", "missing.txt", "dir/missing"])
    assert scanner.needs_walk(["file.txt", "dir"])
    assert scanner.needs_walk(["*.txt"])


def test_hash_depends_on_content_only(tmp_path: Path) -> None:
    first = tmp_path / "one"
    second = tmp_path / "two"
    first.write_bytes(b"same bytes")
    second.write_bytes(b"same bytes")
    assert hash_file(first)[0] == hash_file(second)[0]
    second.write_bytes(b"other byte")
    assert hash_file(first)[0] != hash_file(second)[0]


def test_unreadable_path_gets_marked(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    result = hash_files(tmp_path, ["missing.txt", "dir"])
    assert result["missing.txt"][0] == "unreadable: no such file or directory"
    assert result["missing.txt"][1] is None
    assert result["dir"][0].startswith("unreadable: ")


def test_cache_hit_needs_same_key_and_old_change(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("content")
    old = time.time_ns() - 10 * RACY_WINDOW_NS
    os.utime(path, ns=(old, old))
    key = FileKey.of(path.stat())
    cache = HashCache()
    cache.store("file", key, "digest", time.time_ns())
    assert cache.lookup("file", key) == "digest"

    other_size = FileKey(key.size + 1, key.mtime_ns, key.ctime_ns, key.inode, key.device)
    assert cache.lookup("file", other_size) is None
    other_inode = FileKey(key.size, key.mtime_ns, key.ctime_ns, key.inode + 1, key.device)
    assert cache.lookup("file", other_inode) is None


def test_cache_distrusts_racy_digest(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("content")
    key = FileKey.of(path.stat())  # changed just now
    cache = HashCache()
    cache.store("file", key, "digest", time.time_ns())
    assert cache.lookup("file", key) is None


def test_cache_changes_are_taken_once() -> None:
    key = FileKey(1, 2, 3, 4, 5)
    cache = HashCache()
    cache.store("a", key, "d", 0)
    cache.store("b", key, "d", 0)
    cache.forget("b")
    changed, removed = cache.take_changes()
    assert list(changed) == ["a"]
    assert removed == {"b"}
    assert cache.take_changes() == ({}, set())


@settings(max_examples=500)
@given(st.text(alphabet="ab.\\/-*?[]!", min_size=1, max_size=12))
def test_literal_shortcut_agrees_with_glob_parser(text: str) -> None:
    try:
        glob = parse_glob(text)
    except ValueError:
        return
    if is_literal(glob.text):
        # The shortcut may miss a literal such as `a[b]`, which only costs a walk.
        assert glob.is_literal
        assert glob.match(glob.text)
        assert "/".join(glob.literal_prefix) == glob.text


def _covered_by_any(path: str, texts: list[str]) -> bool:
    return any(_covered(parse_glob(text), path) for text in texts)


@given(paths_strategy, st.lists(globs_strategy, min_size=1, max_size=3))
def test_drop_covered_matches_brute_force(paths: list[str], texts: list[str]) -> None:
    """Every shortcut of `drop_covered` (one literal, many literals, wildcards) agrees."""
    try:
        normalised = [parse_glob(text).text for text in texts]
    except ValueError:
        return
    found = dict.fromkeys(paths, 0)
    drop_covered(found, normalised)
    assert set(found) == {path for path in paths if not _covered_by_any(path, normalised)}


def test_version_of_literal_paths(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    (tmp_path / "link").symlink_to("src")
    (tmp_path / ".parc").mkdir()
    (tmp_path / ".parc" / "x").write_text("x")
    scanner = Scanner(tmp_path)

    version = scanner.version("src/a.txt")
    assert isinstance(version, os.stat_result)
    assert FileKey.of(version) == FileKey.of((tmp_path / "src" / "a.txt").stat())
    assert scanner.version("src") == DIRECTORY
    assert scanner.version("src/missing") is None
    # Neither through a symlinked directory nor into parc's own directory.
    assert scanner.version("link/a.txt") is None
    assert scanner.version("link") == SYMLINK_PREFIX + "src"
    assert scanner.version(".parc/x") is None
