"""Plain globs (no `*`, `?` or `[`) take shortcuts; each agrees with the general definition."""

from __future__ import annotations

import tempfile
from pathlib import Path

from glob_reference import create_tree, messy_globs, normalise, paths
from hypothesis import assume, given
from hypothesis import strategies as st

from parc.globs import _literal_text, first_match, parse_glob

plain_globs = messy_globs.filter(lambda text: not any(char in text for char in "*?["))


@given(text=plain_globs, path_list=st.lists(paths, max_size=10))
def test_plain_glob_agrees_with_its_segments(text: str, path_list: list[str]) -> None:
    assume(normalise(text) is not None)
    glob = parse_glob(text)
    assert glob.is_plain
    names = tuple(_literal_text(segment) for segment in glob.segments)
    assert glob.names == names
    assert glob.literal_prefix == names
    assert glob.literal_path == glob.text
    assert glob.text == "/".join(name for name in names if name is not None)
    for path in [*path_list, glob.text]:
        assert glob.match(path) == (glob.regex.fullmatch(path + "/") is not None), path


@given(text=plain_globs, files=st.lists(paths, max_size=4))
def test_plain_glob_first_match_is_lexists(text: str, files: list[str]) -> None:
    assume(normalise(text) is not None)
    glob = parse_glob(text)
    with tempfile.TemporaryDirectory() as scratch:
        created = create_tree(Path(scratch), files)
        expected = glob.text if glob.text in created else None
        assert first_match(Path(scratch), glob) == expected
