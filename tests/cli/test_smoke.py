"""The installed `parc` command builds the C example end to end."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "c-calc"


def test_c_example_builds_and_verifies(tmp_path: Path) -> None:
    project = tmp_path / "c-calc"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("build", ".parc"))
    completed = subprocess.run(
        [sys.executable, "-m", "parc", "build", "-j", "4"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "parc: 5 succeeded" in completed.stdout
    assert (project / "build" / "release" / "rpn.tar.gz").is_file()
    assert (project / ".parc" / "logs" / "release.log").is_file()
