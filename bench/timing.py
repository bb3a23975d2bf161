"""Time one command with hyperfine, and measure its peak memory with GNU time.

Each call runs the command exactly once, so the caller decides the order of
runs (A B A B ...) and what happens between them. hyperfine runs the command
without a shell (`-N`) and reads its output through a pipe, as a CI log
would; GNU time reports the largest resident set of any process in the
command's tree.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

HYPERFINE = "hyperfine"
GNU_TIME = "/usr/bin/time"

RUN_TIMEOUT = 1800.0
"""Seconds one run may take before the harness gives up on it."""


class BenchError(Exception):
    """A benchmark cannot run: a missing tool, a failed command, a bad option."""


@attrs.frozen
class Timing:
    """One run: wall-clock time and the CPU time of the command's process tree, in seconds."""

    wall: float
    user: float
    system: float

    @property
    def cpu(self) -> float:
        return self.user + self.system


def require_tools(programs: Mapping[str, str | None]) -> None:
    """Raise BenchError naming every program that cannot be found.

    `programs` maps each program to the Debian package that provides it, or
    to None when it comes from elsewhere.
    """
    missing = [program for program in programs if shutil.which(program) is None]
    if not missing:
        return
    names = ", ".join(f"`{program}`" for program in missing)
    packages = sorted({package for program in missing if (package := programs[program])})
    hint = f"; install them with `apt-get install -y {' '.join(packages)}`" if packages else ""
    raise BenchError(f"the benchmarks need {names}, which cannot be found{hint}")


def _run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None
) -> subprocess.CompletedProcess[str]:
    """Run `argv` in its own process group and end the whole group if it times out."""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise BenchError(
                f"`{shlex.join(argv)}` in {cwd} did not finish within {RUN_TIMEOUT:.0f} s"
            ) from None
        except BaseException:  # Ctrl-C: end the tool and its commands before leaving
            _kill_group(process)
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def run_checked(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run `argv` once, untimed, and return its standard output.

    Raises:
        BenchError: the command failed; the message holds the end of its output.
    """
    completed = _run(argv, cwd, env)
    if completed.returncode != 0:
        raise BenchError(_failure(argv, cwd, completed))
    return completed.stdout


def _failure(argv: Sequence[str], cwd: Path, completed: subprocess.CompletedProcess[str]) -> str:
    output = (completed.stdout + completed.stderr).strip().splitlines()
    tail = "\n".join(output[-15:])
    return f"`{shlex.join(argv)}` failed in {cwd} with exit code {completed.returncode}:\n{tail}"


def time_once(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> Timing:
    """Run `argv` once under hyperfine and return its timing.

    Raises:
        BenchError: the command failed or hyperfine could not run it.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        export = Path(scratch) / "timing.json"
        hyperfine = [
            HYPERFINE,
            "-N",
            "--runs",
            "1",
            "--output",
            "pipe",
            "--style",
            "none",
            "--export-json",
            str(export),
            shlex.join(argv),
        ]
        completed = _run(hyperfine, cwd, env)
        if completed.returncode != 0 or not export.is_file():
            raise BenchError(_failure(argv, cwd, completed))
        result = json.loads(export.read_text())["results"][0]
    return Timing(wall=result["times"][0], user=result["user"], system=result["system"])


def peak_memory(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> int:
    """Run `argv` once under GNU time and return its peak resident set size in bytes.

    This is the largest resident set of any single process in the command's
    tree (`wait4` reports the maximum over the process and its waited-for
    descendants), not the sum over processes running at the same time.

    Raises:
        BenchError: the command failed.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        report = Path(scratch) / "memory.txt"
        completed = _run([GNU_TIME, "-f", "%M", "-o", str(report), *argv], cwd, env)
        if completed.returncode != 0:
            raise BenchError(_failure(argv, cwd, completed))
        kilobytes = int(report.read_text().strip().splitlines()[-1])
    return kilobytes * 1024
