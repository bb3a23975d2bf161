"""An independent glob matcher, Hypothesis strategies for globs and paths, and file trees.

The reference matcher shares no code with `parc.globs`: it normalises the
glob text itself and matches each segment with the standard library's
`fnmatch.fnmatchcase`, whose `*`, `?`, `[abc]`, `[a-z]` and `[!abc]` mean
within one segment what parc's do.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

from hypothesis import strategies as st

PATH_CHARS = "a.é"
"""The characters of generated paths: a letter, the dot that makes `.` and
`..` special, and a non-ASCII letter."""

# Segment pieces name only characters of PATH_CHARS, so a path over
# PATH_CHARS can witness every overlap: the negated classes leave out `a` or
# `.`, so even both of them at one position leave `é` free.
PIECES = ["a", ".", "é", "*", "?", "[aé]", "[!a]", "[!.]", "[a-é]", "[.é]"]


def normalise(glob: str) -> list[str] | None:
    """Return the glob's segments after `.`, `//` and `..` are applied, or None.

    None means the glob is invalid: it is absolute, leaves the root, names the
    root, or has a `..` right after `**`.
    """
    if glob.startswith("/"):
        return None
    segments: list[str] = []
    for raw in glob.split("/"):
        if raw in ("", "."):
            continue
        if raw == "..":
            if not segments or segments[-1] == "**":
                return None
            segments.pop()
            continue
        segments.append(raw)
    return segments or None


def reference_match(glob: str, path: str) -> bool:
    """Tell whether `path` (a valid relative path) matches `glob`."""
    segments = normalise(glob)
    assert segments is not None, f"invalid glob {glob!r}"
    return _match(segments, path.split("/"))


def reference_covers(glob: str, path: str) -> bool:
    """Tell whether `path` or a directory above it matches `glob`.

    This is how parc reads `reads` and `owns` globs: a matched directory
    stands for everything below it.
    """
    names = path.split("/")
    return any(
        reference_match(glob, "/".join(names[:length])) for length in range(1, len(names) + 1)
    )


def _match(segments: list[str], names: list[str]) -> bool:
    if not segments:
        return not names
    head, rest = segments[0], segments[1:]
    if head == "**":
        return any(_match(rest, names[skip:]) for skip in range(len(names) + 1))
    return bool(names) and fnmatch.fnmatchcase(names[0], head) and _match(rest, names[1:])


def is_valid_path(path: str) -> bool:
    return all(name not in ("", ".", "..") for name in path.split("/"))


def valid_paths(max_length: int) -> Iterator[str]:
    """Yield every valid path over PATH_CHARS up to `max_length` characters, shortest first."""
    for length in range(1, max_length + 1):
        for chars in itertools.product(PATH_CHARS + "/", repeat=length):
            path = "".join(chars)
            if is_valid_path(path):
                yield path


piece_lists = st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).filter(
    lambda pieces: "**" not in "".join(pieces) and "".join(pieces) not in (".", "..")
)
"""The pieces of one ordinary segment: no `**` inside it, and not `.` or `..`."""

segment_lists = st.lists(st.one_of(piece_lists, st.just(["**"])), min_size=1, max_size=3)
"""A glob as segments of pieces, `["**"]` for a `**` segment."""

globs = segment_lists.map(lambda segments: "/".join("".join(pieces) for pieces in segments))
"""A glob with one to three segments and no `.`, `..` or empty segment."""

literal_globs = st.lists(
    st.sampled_from(["a", "é", "a.", ".é", "[.]"]), min_size=1, max_size=3
).map("/".join)
"""A glob without wildcards: one path, or none for a `[.]` segment."""

segments = piece_lists.map("".join) | st.just("**")

odd_segments = st.sampled_from(["", ".", ".."])

messy_globs = st.lists(st.one_of(segments, odd_segments), min_size=1, max_size=5).map("/".join)
"""A glob that may need normalising, or may be invalid."""

paths = st.lists(
    st.text(alphabet=PATH_CHARS + "bé-", min_size=1, max_size=4).filter(
        lambda name: name not in (".", "..")
    ),
    min_size=1,
    max_size=4,
).map("/".join)
"""A valid path, with a few characters that no glob piece names."""


def create_tree(root: Path, files: list[str]) -> set[str]:
    """Create the files (skipping one whose path a directory already holds); return every path."""
    created: set[str] = set()
    for file in files:
        target = root / file
        if any(parent.is_file() for parent in target.parents) or target.is_dir():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x", encoding="utf-8")
    for directory, subdirectories, names in os.walk(root):
        for name in subdirectories + names:
            created.add(os.path.relpath(os.path.join(directory, name), root))
    return created
