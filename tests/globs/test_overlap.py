"""`overlap()` against two oracles: brute-force enumeration and interegular.

The brute-force oracle matches every valid path over PATH_CHARS up to
BOUND characters against both globs. Within the bound it is exact, so
`overlap()` must find a common path exactly when the oracle does, and its
example must be as short as the oracle's shortest. Beyond the bound, the
example is checked with both matchers. interegular intersects regular
expressions as automata with no bound; it checks the regex translation and
`overlap()` together.
"""

from __future__ import annotations

import collections
import functools
import itertools

import interegular
import pytest
from glob_reference import (
    PATH_CHARS,
    globs,
    is_valid_path,
    literal_globs,
    reference_covers,
    reference_match,
    valid_paths,
)
from hypothesis import event, given
from hypothesis import strategies as st

from parc.globs import Glob, overlap, overlap_covering, parse_glob

BOUND = 7
PATHS = list(valid_paths(BOUND))


@functools.cache
def _matches(glob: str) -> frozenset[int]:
    """Return the indexes into PATHS of the paths that the glob matches."""
    parsed = parse_glob(glob)
    return frozenset(index for index, path in enumerate(PATHS) if parsed.match(path))


def _check_pair(first: str, second: str) -> None:
    example = overlap(parse_glob(first), parse_glob(second))
    common = _matches(first) & _matches(second)

    if example is not None:
        assert is_valid_path(example), (first, second, example)
        for glob in (first, second):
            assert parse_glob(glob).match(example), (first, second, example)
            assert reference_match(glob, example), (first, second, example)

    if common:
        shortest = PATHS[min(common)]
        assert example is not None, f"{first!r} and {second!r} both match {shortest!r}"
        assert len(example) == len(shortest), (first, second, example, shortest)
        event("overlap within the bound")
    elif example is not None:
        assert len(example) > BOUND, (first, second, example)
        event("overlap beyond the bound")
    else:
        event("no overlap")


@given(st.lists(globs, min_size=5, max_size=10, unique=True))
def test_overlap_agrees_with_brute_force(glob_list: list[str]) -> None:
    # Every pair of the list is checked, so one example covers 10 to 45 pairs
    # and the default profile's 100 examples a few thousand.
    for first, second in itertools.combinations(glob_list, 2):
        _check_pair(first, second)


@given(globs, globs)
def test_overlap_is_symmetric(first: str, second: str) -> None:
    forward = overlap(parse_glob(first), parse_glob(second))
    backward = overlap(parse_glob(second), parse_glob(first))
    assert (forward is None) == (backward is None)
    if forward is not None and backward is not None:
        assert len(forward) == len(backward)


@given(globs)
def test_glob_overlaps_itself_unless_empty(glob: str) -> None:
    example = overlap(parse_glob(glob), parse_glob(glob))
    if _matches(glob):
        assert example is not None
    if example is not None:
        assert parse_glob(glob).match(example)


# interegular, with the regex that `Glob.regex` holds. A path matches
# `glob.regex` with a `/` appended, so the valid-path language gets one too.
_VALID_PATH_REGEX = r"(?:(?:[^/.]|\.[^/.]|\.\.[^/])[^/]*/)+"


@functools.cache
def _fsm(pattern: str) -> interegular.FSM:
    return interegular.parse_pattern(pattern).to_fsm()


def _shortest_common(first: Glob, second: Glob) -> int | None:
    both = _fsm(first.regex.pattern) & _fsm(second.regex.pattern) & _fsm(_VALID_PATH_REGEX)
    # Breadth-first search over the automaton's states: `FSM.strings()`
    # enumerates every string of each length first, which is far slower.
    distance = {both.initial: 0}
    queue = collections.deque([both.initial])
    while queue:
        state = queue.popleft()
        if state in both.finals:
            return distance[state] - 1  # without the appended `/`
        for target in both.map.get(state, {}).values():
            if target not in distance:
                distance[target] = distance[state] + 1
                queue.append(target)
    return None


@given(st.lists(globs, min_size=2, max_size=4, unique=True))
def test_overlap_agrees_with_interegular(glob_list: list[str]) -> None:
    for first_text, second_text in itertools.combinations(glob_list, 2):
        first, second = parse_glob(first_text), parse_glob(second_text)
        example = overlap(first, second)
        length = _shortest_common(first, second)
        assert (example is None) == (length is None), (first_text, second_text, example)
        if example is not None:
            assert len(example) == length, (first_text, second_text, example)


@pytest.mark.parametrize(
    ("first", "second", "example"),
    [
        ("build/**", "build/lib/x.o", "build/lib/x.o"),
        ("build/**", "build", "build"),
        ("a/**/b", "a/b", "a/b"),
        ("**/*.o", "build/**", "build/.o"),
        ("src/*.c", "src/*.h", None),
        ("*.c", "*/x.c", None),
        ("[!a]", "a", None),
        ("[!a]", "[ab]", "b"),
        ("out/?", "out/**/??", None),
        ("a/**/c", "**/b/**", "a/b/c"),
        ("[.]", "*", None),
        ("[.][.]", "**", None),
        ("*", ".*", "._"),
        ("docs/ünï*", "docs/*code.txt", "docs/ünïcode.txt"),
        ("my docs/*", "my docs/read me", "my docs/read me"),
        ("./a//b", "a/b/../b", "a/b"),
    ],
)
def test_overlap_examples(first: str, second: str, example: str | None) -> None:
    found = overlap(parse_glob(first), parse_glob(second))
    if example is None:
        assert found is None
    else:
        assert found is not None
        assert len(found) == len(example)
        assert parse_glob(first).match(found)
        assert parse_glob(second).match(found)


@functools.cache
def _covered(glob: str) -> frozenset[int]:
    """Return the indexes into PATHS of the paths that the glob covers."""
    parsed = parse_glob(glob)
    return frozenset(index for index, path in enumerate(PATHS) if parsed.covers(path))


def _check_covering_pair(first: str, second: str) -> None:
    example = overlap_covering(parse_glob(first), parse_glob(second))
    common = _covered(first) & _covered(second)

    if example is not None:
        assert is_valid_path(example), (first, second, example)
        for glob in (first, second):
            assert reference_covers(glob, example), (first, second, example)

    if common:
        shortest = PATHS[min(common)]
        assert example is not None, f"{first!r} and {second!r} both cover {shortest!r}"
        assert len(example) == len(shortest), (first, second, example, shortest)
    elif example is not None:
        assert len(example) > BOUND, (first, second, example)


# Globs without wildcards take shortcuts in `overlap_covering`, so they are
# mixed in often.
covering_globs = st.one_of(globs, literal_globs)


@given(st.lists(covering_globs, min_size=5, max_size=10, unique=True))
def test_overlap_covering_agrees_with_brute_force(glob_list: list[str]) -> None:
    for first, second in itertools.combinations(glob_list, 2):
        _check_covering_pair(first, second)
        _check_covering_pair(second, first)


@given(covering_globs, covering_globs)
def test_overlap_covering_equals_overlap_of_coverings(first: str, second: str) -> None:
    shortcut = overlap_covering(parse_glob(first), parse_glob(second))
    full = overlap(parse_glob(first).covering, parse_glob(second).covering)
    assert (shortcut is None) == (full is None), (first, second, shortcut, full)
    if shortcut is not None and full is not None:
        assert len(shortcut) == len(full), (first, second, shortcut, full)


@pytest.mark.parametrize(
    ("first", "second", "example"),
    [
        ("build", "build/x.o", "build/x.o"),
        ("build", "build", "build"),
        ("build", "buildx", None),
        ("build", "build/*.o", "build/.o"),
        ("build/*.o", "build/x.c", None),
        ("build/x.o", "build/**/*.o", "build/x.o"),
        ("build/x", "build/**/*.o", "build/x/.o"),
        ("build/x", "*/[.]", None),
        ("src/*", "src/lib/core.c", "src/lib/core.c"),
        ("*.c", "src/x.c", None),
        ("*.c", "*/x.c", ".c/x.c"),  # a directory named `.c` holds `x.c`
        ("out", "[.]", None),
    ],
)
def test_overlap_covering_examples(first: str, second: str, example: str | None) -> None:
    found = overlap_covering(parse_glob(first), parse_glob(second))
    if example is None:
        assert found is None
    else:
        assert found == example


def test_covering_of_recursive_glob_is_itself() -> None:
    glob = parse_glob("build/**")
    assert glob.covering is glob
    assert parse_glob("build").covering.text == "build/**"


def test_brute_force_paths_are_valid_and_sorted() -> None:
    assert all(is_valid_path(path) for path in PATHS)
    assert [len(path) for path in PATHS] == sorted(len(path) for path in PATHS)
    assert set(PATH_CHARS) <= set("".join(PATHS))
