"""The completion scripts of `parc completion`, run by real bash, zsh and fish in a terminal.

Each test types `parc build PREFIX<Tab>Z` into an interactive shell on a
pseudo-terminal, then moves to the start of the line and turns it into an
`echo`, so the shell prints the line that completion left. Nothing in the
user's shell configuration is read.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

SPEC = """\
let cflags = "-O2"
track lib { run "echo {{cflags}}" }
"""

SHELLS = {
    "bash": (["bash", "--norc", "--noprofile", "-i"], 'eval "$(parc completion bash)"'),
    "zsh": (
        ["zsh", "-f", "-i"],
        'autoload -U compinit && compinit -u && eval "$(parc completion zsh)"',
    ),
    "fish": (["fish", "--no-config", "-i"], "parc completion fish | source"),
}

WAIT_SECONDS = 60.0
"""How long a shell may take to print the line; reached only when something is wrong."""


def completed_line(shell: str, project: Path, home: Path, typed: str) -> str:
    """Return the words after `parc build ` that completing `typed` leaves, with `Z` typed after."""
    argv, setup = SHELLS[shell]
    bin_directory = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=f"{bin_directory}:{os.environ['PATH']}", TERM="dumb")
    env.update(HOME=str(home), ZDOTDIR=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    env.pop("PARC_STEP", None)

    pid, terminal = pty.fork()
    if pid == 0:  # the child: become the shell
        os.chdir(project)
        os.execvpe(argv[0], argv, env)
    output = b""
    try:
        # Ctrl-A moves to the start of the line in the default (emacs) keys of all three.
        keys = f"{setup}\nparc build {typed}\tZ\x01echo MARK \n"
        os.write(terminal, keys.encode())
        pattern = re.compile(rb"MARK parc build (\S+ ?Z)")
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 0.2)
            if not ready:
                continue
            try:
                output += os.read(terminal, 4096)
            except OSError:
                break
            found = pattern.search(output)
            if found is not None:
                return found.group(1).decode()
        raise AssertionError(f"{shell} printed no completed line: {output!r}")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(terminal)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "build.par").write_text(SPEC)
    return root


@pytest.mark.parametrize("shell", list(SHELLS))
def test_override_completion_adds_no_space(shell: str, project: Path, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    assert completed_line(shell, project, tmp_path, "cf") == "cflags=Z"


@pytest.mark.parametrize("shell", list(SHELLS))
def test_step_completion_adds_space(shell: str, project: Path, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    assert completed_line(shell, project, tmp_path, "li") == "lib Z"
