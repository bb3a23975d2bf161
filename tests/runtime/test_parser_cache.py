"""The parser's cache file: written once, loaded after, safe to share and to lose.

Each test points XDG_CACHE_HOME at a directory of its own and builds the
parser with `load_parser.__wrapped__`, which skips the once-per-process
memo, so the cache file is really written and read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Token, Tree

from parc.grammar.parse import _parser_cache_path, load_parser

SPEC = """\
let greeting = "hello"

track build {
    desc "compile"
    reads "src/**"
    owns "out/**"
    run "echo {{greeting}}"  # a comment the formatter keeps
}

integrate ship after build {
    run "true"
}
"""


def tree_of(text: str) -> tuple[Tree[Token], list[tuple[int, int, int, int]]]:
    """Parse with a parser built now, honouring the cache settings in force.

    Returns the tree and the positions of every subtree: the compiler's
    diagnostics point into the source with them.
    """
    parser = load_parser.__wrapped__()
    tree = parser.parse(text)
    positions = [
        (sub.meta.line, sub.meta.column, sub.meta.start_pos, sub.meta.end_pos)
        for sub in tree.iter_subtrees()
        if not sub.meta.empty
    ]
    return tree, positions


def cache_files(home: Path) -> list[Path]:
    return sorted((home / "parc").glob("*")) if (home / "parc").is_dir() else []


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def test_first_start_writes_the_cache_and_later_ones_read_it(cache_home: Path) -> None:
    built = tree_of(SPEC)
    files = cache_files(cache_home)
    assert len(files) == 1
    assert files[0].stat().st_size > 0
    written = files[0].stat().st_mtime_ns

    loaded = tree_of(SPEC)

    assert loaded == built
    assert cache_files(cache_home) == files
    assert files[0].stat().st_mtime_ns == written
    assert (cache_home / "parc").stat().st_mode & 0o777 == 0o700


def test_a_changed_grammar_gets_another_file(cache_home: Path) -> None:
    grammar = "start: NAME\n%import common.CNAME -> NAME\n"
    first = _parser_cache_path(grammar)
    second = _parser_cache_path(grammar + "\n")
    assert first is not None
    assert second is not None
    assert first != second
    assert first.parent == second.parent == cache_home / "parc"


def test_a_damaged_cache_file_is_rebuilt(cache_home: Path) -> None:
    expected = tree_of(SPEC)
    (path,) = cache_files(cache_home)
    path.write_bytes(b"not a pickle\n" + os.urandom(64))

    assert tree_of(SPEC) == expected


def test_no_cache_directory_means_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache directory cannot be made under a file\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    expected = tree_of(SPEC)

    assert _parser_cache_path("grammar") is None
    assert tree_of(SPEC) == expected
    assert blocker.read_text().startswith("the cache directory")


def test_a_directory_owned_by_someone_else_is_not_used(cache_home: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("giving a directory away needs root")
    (cache_home / "parc").mkdir(parents=True)
    os.chown(cache_home / "parc", 65534, 65534)

    assert _parser_cache_path("grammar") is None
    tree_of(SPEC)
    assert cache_files(cache_home) == []


def test_parcs_starting_together_share_one_cache(cache_home: Path, tmp_path: Path) -> None:
    # Valid specs go through the hand-written parser, so only a spec with a
    # syntax error makes parc build (and cache) Lark's parser.
    spec = tmp_path / "build.par"
    spec.write_text("track broken {\n    run\n}\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    starts = [
        subprocess.Popen(
            [sys.executable, "-m", "parc", "check", "-f", str(spec)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [start.communicate(timeout=120) for start in starts]

    for start, (_, err) in zip(starts, outputs, strict=True):
        assert start.returncode == 2, err.decode()
        assert b"expected a string after `run`" in err
        assert b"Traceback" not in err
    # One cache file, and no temporary file left behind.
    (path,) = cache_files(cache_home)
    assert not path.name.startswith(".")
