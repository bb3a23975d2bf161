"""parc started with its standard streams closed still builds, and its steps see /dev/null."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

SPEC = """\
track first {
    run "echo out; echo err >&2; target=$(readlink /proc/$$/fd/1); echo $target > fd1.txt"
}
"""


@pytest.mark.parametrize("redirection", [">&-", "2>&-", ">&- 2>&-", "<&- >&- 2>&-"])
def test_build_with_closed_streams(tmp_path: Path, redirection: str) -> None:
    (tmp_path / "build.par").write_text(SPEC)
    command = f"{shlex.quote(sys.executable)} -m parc build {redirection}; echo exit=$? > exit.txt"
    result = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True)

    assert result.returncode == 0
    assert (tmp_path / "exit.txt").read_text().strip() == "exit=0"
    assert (tmp_path / ".parc" / "logs" / "first.log").read_text() == "out\nerr\n"
    assert "pipe" in (tmp_path / "fd1.txt").read_text()
