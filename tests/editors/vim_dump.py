"""Run Vim headless with parc's Vim files and read back its syntax groups."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import attrs
import pytest
from highlighting import EDITORS

DUMP_SCRIPT = Path(__file__).with_name("dump_syntax.vim")


@attrs.frozen
class VimDump:
    """What Vim made of one file."""

    filetype: str
    syntax: str
    commentstring: str
    iskeyword: str
    groups: list[list[str]]
    """`groups[line][byte]`: the syntax group at that line and byte, from 0."""
    linked: list[list[str]]
    """The highlight group that each of those groups finally links to."""

    def group_at(self, text_line: str, line: int, column: int) -> str:
        """Return the group at a character column of a line of text."""
        byte = len(text_line[:column].encode("utf-8"))
        return self.groups[line][byte]


def require_vim() -> str:
    """Return the path of vim, or skip the test (fail it in CI) without it."""
    vim = shutil.which("vim")
    if vim is not None:
        return vim
    message = (
        "vim is not installed, so the Vim syntax file cannot be tested: "
        "install it (Debian: `apt-get install vim`)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def dump_syntax(path: Path) -> VimDump:
    """Open `path` in a headless Vim with parc's Vim files and dump its groups.

    Vim starts with no vimrc, no plugins and no viminfo, so only Vim's own
    runtime files and `editors/vim` take part.
    """
    vim = require_vim()
    output = path.with_name(path.name + ".json")
    commands = [
        "filetype plugin on",
        "syntax on",
        f"let g:dump_path = {json.dumps(str(output))}",
        f"edit {_escape(path)}",
        f"source {_escape(DUMP_SCRIPT)}",
        "qall!",
    ]
    argv = [vim, "-u", "NONE", "-i", "NONE", "-N", "-es", "--noplugin"]
    argv += ["--cmd", f"set runtimepath^={_escape(EDITORS / 'vim')}"]
    for command in commands:
        argv += ["-c", command]
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert completed.returncode == 0, f"vim failed: {completed.stdout}{completed.stderr}"
    data = json.loads(output.read_text(encoding="utf-8"))
    return VimDump(
        filetype=data["filetype"],
        syntax=data["syntax"],
        commentstring=data["commentstring"],
        iskeyword=data["iskeyword"],
        groups=data["lines"],
        linked=data["linked"],
    )


def _escape(path: Path) -> str:
    """Escape a path for an Ex command line."""
    return str(path).replace("\\", "\\\\").replace(" ", "\\ ").replace("|", "\\|")
