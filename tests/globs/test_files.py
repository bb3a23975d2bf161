"""`first_match`: globs against real directory trees, compared with matching every path."""

from __future__ import annotations

import tempfile
from pathlib import Path

from glob_reference import create_tree, globs
from hypothesis import given
from hypothesis import strategies as st

from parc.globs import first_match, parse_glob

NAMES = ["a", "é", ".a", "aé", "a a"]

trees = st.lists(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join), max_size=6)
"""Files to create, as relative paths; their parent directories are created too."""


@given(files=trees, glob_list=st.lists(globs, min_size=1, max_size=5))
def test_first_match_agrees_with_every_path(files: list[str], glob_list: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        paths = create_tree(root, files)
        for text in glob_list:
            glob = parse_glob(text)
            found = first_match(root, glob)
            expected = {path for path in paths if glob.match(path)}
            if expected:
                assert found in expected, (text, found, sorted(expected))
            else:
                assert found is None, (text, found)


def test_first_match_examples(tmp_path: Path) -> None:
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "lib" / "core.c").write_text("", encoding="utf-8")
    (tmp_path / "README.md").write_text("", encoding="utf-8")
    assert first_match(tmp_path, parse_glob("src/**/*.c")) == "src/lib/core.c"
    assert first_match(tmp_path, parse_glob("**")) is not None
    assert first_match(tmp_path, parse_glob("**/*.md")) == "README.md"
    assert first_match(tmp_path, parse_glob("src/**")) in {"src", "src/lib", "src/lib/core.c"}
    assert first_match(tmp_path, parse_glob("src/lib")) == "src/lib"
    assert first_match(tmp_path, parse_glob("src/*.h")) is None
    assert first_match(tmp_path, parse_glob("README.md/x")) is None


def test_first_match_survives_symlink_cycle(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    assert first_match(tmp_path, parse_glob("**/*.c")) is None
    assert first_match(tmp_path, parse_glob("d/loop/loop/loop")) == "d/loop/loop/loop"


def test_first_match_skips_one_top_level_entry(tmp_path: Path) -> None:
    (tmp_path / ".parc" / "logs").mkdir(parents=True)
    (tmp_path / ".parc" / "logs" / "a.log").write_text("", encoding="utf-8")
    (tmp_path / "sub" / ".parc").mkdir(parents=True)
    for text in [".parc/logs/a.log", ".parc/*/a.log", "*/logs/*", "**/a.log", ".parc"]:
        glob = parse_glob(text)
        assert first_match(tmp_path, glob) is not None, text
        assert first_match(tmp_path, glob, skip=".parc") is None, text
    assert first_match(tmp_path, parse_glob("*/.parc"), skip=".parc") == "sub/.parc"
    assert first_match(tmp_path, parse_glob("sub/.parc"), skip=".parc") == "sub/.parc"
