"""`Glob.match` (the runtime's matcher) against the independent reference matcher."""

from __future__ import annotations

import fnmatch

import pytest
from glob_reference import (
    PATH_CHARS,
    globs,
    messy_globs,
    normalise,
    paths,
    reference_covers,
    reference_match,
    segment_lists,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from parc.globs import GlobError, _match_segments, parse_glob


@given(glob=messy_globs, path_list=st.lists(paths, min_size=1, max_size=20))
def test_match_agrees_with_reference(glob: str, path_list: list[str]) -> None:
    if normalise(glob) is None:
        with pytest.raises(GlobError):
            parse_glob(glob)
        return
    parsed = parse_glob(glob)
    for path in path_list:
        assert parsed.match(path) == reference_match(glob, path), (glob, path)


@given(glob=globs, path_list=st.lists(paths, min_size=1, max_size=20))
def test_covers_agrees_with_reference(glob: str, path_list: list[str]) -> None:
    parsed = parse_glob(glob)
    for path in path_list:
        assert parsed.covers(path) == reference_covers(glob, path), (glob, path)


@given(segments=segment_lists, data=st.data())
def test_match_of_path_built_from_glob(segments: list[list[str]], data: st.DataObject) -> None:
    # Random paths rarely match a glob with literals, so also build matching
    # paths, one character per piece, and check that both matchers accept them.
    glob = "/".join("".join(pieces) for pieces in segments)
    names = []
    for pieces in segments:
        if pieces == ["**"]:
            names.extend(data.draw(st.lists(st.sampled_from(["a", "é b", ".x"]), max_size=2)))
            continue
        names.append("".join(data.draw(_instance(piece)) for piece in pieces))
    assume(all(name not in ("", ".", "..") for name in names) and names)
    path = "/".join(names)
    assert reference_match(glob, path), (glob, path)
    assert parse_glob(glob).match(path), (glob, path)


def _instance(piece: str) -> st.SearchStrategy[str]:
    """Return text that the piece matches, drawn from PATH_CHARS and a few others."""
    alphabet = PATH_CHARS + "b-]"
    if piece == "*":
        return st.text(alphabet=alphabet, max_size=2)
    members = [char for char in alphabet if fnmatch.fnmatchcase(char, piece)]
    return st.sampled_from(members)


@given(glob=globs)
def test_segment_patterns_match_like_glob(glob: str) -> None:
    parsed = parse_glob(glob)
    patterns = parsed.segment_patterns()
    assert len(patterns) == len(parsed.segments)
    for pattern, segment in zip(patterns, parsed.segments, strict=True):
        assert (pattern is None) == (segment is None)


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("src/*.c", "src/main.c", True),
        ("src/*.c", "src/.hidden.c", True),
        ("src/*.c", "src/sub/main.c", False),
        ("?", "é", True),
        ("?", "ab", False),
        ("[abc]x", "bx", True),
        ("[!abc]x", "bx", False),
        ("[!abc]x", "dx", True),
        ("[a-c]", "b", True),
        ("[a-c]", "d", False),
        ("[]]", "]", True),
        ("[!]]", "a", True),
        ("[a-]", "-", True),
        ("[-a]", "-", True),
        ("a/**", "a", True),
        ("a/**", "a/b/c", True),
        ("a/**", "ab", False),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("**", "x/y", True),
        ("**/*.md", "README.md", True),
        ("docs and notes/ünï*.txt", "docs and notes/ünïcode.txt", True),
        ("back\\slash", "back\\slash", True),
        ("a+b(c)", "a+b(c)", True),
        ("a+b(c)", "aab(c)", False),
        ("./a//b/../c", "a/c", True),
    ],
)
def test_match_examples(glob: str, path: str, expected: bool) -> None:
    assert parse_glob(glob).match(path) is expected
    assert reference_match(glob, path) is expected


def test_regex_is_readable() -> None:
    assert parse_glob("src/**/[!a]*.c").regex.pattern == r"src/(?:[^/]+/)*[^/a][^/]*\.c/"


@given(
    st.text(min_size=1, max_size=6).filter(
        lambda text: "\0" not in text and "/" not in text and text not in (".", "..")
    )
)
def test_literal_characters_match_themselves(name: str) -> None:
    # Every character other than the glob syntax matches itself, whatever
    # `re` makes of it.
    glob = "".join(f"[{char}]" if char in "*?[" else char for char in name)
    assert parse_glob("d/" + glob).match("d/" + name)


@given(
    glob=messy_globs,
    path_list=st.lists(paths | st.sampled_from(["a//a", "/a", "a/", ""]), max_size=20),
)
def test_segment_matcher_agrees_with_regex(glob: str, path_list: list[str]) -> None:
    assume(normalise(glob) is not None)
    parsed = parse_glob(glob)
    for path in path_list:
        expected = parsed.regex.fullmatch(path + "/") is not None
        assert _match_segments(parsed, path) == expected, (glob, path)
