"""A project on disk with a spec, and ways to build it in-process or as a real parc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner

from parc.cli import main

JOURNAL = "ran.log"
"""Every step of the test specs appends its name here; no glob matches it."""


@attrs.frozen
class Outcome:
    code: int
    stdout: str
    stderr: str
    ran: list[str]


class Project:
    """A directory with a `build.par`, built with `parc build -f`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def read(self, path: str) -> str:
        return (self.root / path).read_text()

    def spec(self, text: str) -> None:
        self.write("build.par", textwrap.dedent(text))

    def take_journal(self) -> list[str]:
        """Return the steps that ran since the last call, in order, and clear the journal."""
        journal = self.root / JOURNAL
        if not journal.exists():
            return []
        names = journal.read_text().split()
        journal.unlink()
        return names

    def run(self, *args: str) -> Outcome:
        """Run `parc ARGS` in this process, through the same entry point as the command."""
        self.take_journal()
        runner = CliRunner()
        code: int | str | None = None
        with runner.isolation() as (stdout, stderr, _):
            try:
                main(list(args))
            except SystemExit as exit:
                code = exit.code
        assert isinstance(code, int), code
        return Outcome(
            code,
            stdout.getvalue().decode(errors="replace"),
            stderr.getvalue().decode(errors="replace"),
            self.take_journal(),
        )

    def build(self, *args: str) -> Outcome:
        return self.run("build", "-f", str(self.root / "build.par"), "-j", "2", *args)

    def command(self, *args: str) -> list[str]:
        """Return the command line of a real parc process for this project."""
        return [sys.executable, "-m", "parc", *args, "-f", str(self.root / "build.par")]

    def run_process(self, *args: str, timeout: float = 120) -> Outcome:
        """Run a parc command as a real process."""
        self.take_journal()
        completed = subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        return Outcome(
            completed.returncode, completed.stdout, completed.stderr, self.take_journal()
        )

    def last_build(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / ".parc" / "last-build.json").read_text())
        return data

    def statuses(self) -> dict[str, str]:
        return {step["name"]: step["status"] for step in self.last_build()["steps"]}

    def age(self, path: str, seconds: float) -> None:
        """Move a file's times into the past, beyond the window of untrusted digests."""
        target = self.root / path
        info = target.stat()
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns - int(seconds * 1e9)))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return Project(root)
