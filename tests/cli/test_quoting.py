"""Shell quoting of paths: the same words as GNU `ls`, and bash reads back each name."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parc.cli.quoting import shell_quoted

_ASCII = "".join(chr(code) for code in range(1, 128) if chr(code) != "/")
_UNDECODABLE = "".join(os.fsdecode(bytes([byte])) for byte in range(0x80, 0x100))
# Only characters that Python and the C library agree on: printable letters,
# and NEL, which neither prints.
_OTHER = "éüßж€\x85"

_CHARACTERS = frozenset(_ASCII + _UNDECODABLE + _OTHER)

# Decoding the bytes again turns a run of single bytes that spells UTF-8 into
# its character, as `os.listdir` would return it. Python and the C library
# disagree on whether some of those characters print, such as U+00A0, so
# names that decode to one are dropped.
names = (
    st.text(st.sampled_from(sorted(_CHARACTERS)), min_size=1, max_size=8)
    .map(lambda name: os.fsdecode(os.fsencode(name)))
    .filter(lambda name: name not in (".", "..") and set(name) <= _CHARACTERS)
)


def _ls_quoted(directory: Path, name: str) -> str:
    """Return how GNU `ls` quotes `name`, given as `./NAME` when it starts with `-`."""
    argument = "./" + name if name.startswith("-") else name
    completed = subprocess.run(
        ["ls", "-d", "--quoting-style=shell-escape", "--", argument],
        cwd=directory,
        capture_output=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        check=True,
        timeout=30,
    )
    return os.fsdecode(completed.stdout).removesuffix("\n")


def _bash_reads(word: str) -> bytes:
    completed = subprocess.run(
        ["bash", "-c", f"printf %s {word}"], capture_output=True, check=True, timeout=30
    )
    return completed.stdout


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("plain.txt", "plain.txt"),
        ("a b", "'a b'"),
        ("new\nline", "'new'$'\\n''line'"),
        (os.fsdecode(b"bad\xffbyte"), "'bad'$'\\377''byte'"),
        ("it's", '"it\'s"'),
        ("it's $HOME", "'it'\\''s $HOME'"),
        ("-rf", "./-rf"),
        ("#hash", "'#hash'"),
        ("a#b", "a#b"),
        ("{", "'{'"),
        ("a{b", "a{b"),
        ("build/out dir/", "'build/out dir/'"),
    ],
)
def test_shell_quoted_cases(name: str, quoted: str) -> None:
    assert shell_quoted(name) == quoted


@pytest.mark.skipif(
    shutil.which("ls") is None or shutil.which("bash") is None, reason="needs ls and bash"
)
@settings(max_examples=60, deadline=None)
@given(st.lists(names, min_size=1, max_size=4, unique=True))
def test_shell_quoted_matches_ls(
    tmp_path_factory: pytest.TempPathFactory, batch: list[str]
) -> None:
    directory = tmp_path_factory.mktemp("names")
    for name in batch:
        (directory / name).touch()
        quoted = shell_quoted(name)
        if not _hits_ls_rescan_bug(name):
            assert quoted == _ls_quoted(directory, name)
        shown = "./" + name if name.startswith("-") else name
        assert _bash_reads(quoted) == os.fsencode(shown)


def _hits_ls_rescan_bug(name: str) -> bool:
    """Tell whether `ls` 9.1 quotes `name` differently from parc, on purpose.

    For a name with a `'` that ends in an escaped character, `ls` quotes the
    name twice and carries the open `$'...'` of the first pass into the
    second. So it adds `''` after the opening quote, or, when the name also
    starts with an escaped character, leaves out the `$'` that bash needs:
    it shows the name `\\x01'\\x01` as `'\\001'\\'''$'\\001'`.
    """
    return "'" in name and not name[-1].isprintable()


def test_shell_quoted_avoids_ls_rescan_bug() -> None:
    name = "\x01'\x01"
    assert shell_quoted(name) == "''$'\\001'\\'''$'\\001'"
    assert _bash_reads(shell_quoted(name)) == name.encode()
