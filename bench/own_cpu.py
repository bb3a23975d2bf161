"""Measure the CPU time parc spends itself, without the commands it runs.

`python -m bench.own_cpu DIR [--runs N] -- ARGS...` runs `parc ARGS` in
DIR N times, with its output read through a pipe as the harness reads it.
It prints the median and range of parc's own user plus system time (all
its threads, none of its children) and of its wall time. hyperfine's CPU
time includes every command parc ran, which hides parc's own share on
graphs of `true` steps. Before the runs it writes the bytecode of the parc
that this Python imports. Compare two parcs by running them in turn, each
with the Python of its own environment.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from bench.cli import _compile_parc

# Runs parc in a child interpreter and prints its own CPU and wall time on
# stderr at exit, however parc exits.
_WRAPPER = """\
import atexit, os, sys, time
begun = time.perf_counter()
def report():
    times = os.times()
    print(f"parc-own-cpu {times.user + times.system:.4f} {time.perf_counter() - begun:.4f}",
          file=sys.stderr)
atexit.register(report)
sys.argv[0] = "parc"
from parc.cli import main
main()
"""


def measure(directory: Path, arguments: list[str]) -> tuple[float, float]:
    """Run parc once and return its own CPU time and its wall time, in seconds."""
    command = [sys.executable, "-c", _WRAPPER, *arguments]
    with subprocess.Popen(
        command, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        _, errors = process.communicate()
    for line in errors.decode(errors="replace").splitlines():
        if line.startswith("parc-own-cpu "):
            cpu, wall = line.split()[1:]
            return float(cpu), float(wall)
    raise SystemExit(f"parc printed no timing; its stderr was:\n{errors.decode()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="where to run parc")
    parser.add_argument("--runs", type=int, default=10, help="timed runs (default 10)")
    parser.add_argument("arguments", nargs="+", help="parc's arguments, after --")
    options = parser.parse_args()

    # As `bench run` does, so that no run compiles parc's modules.
    _compile_parc()
    measure(options.directory, options.arguments)  # warm-up: page cache, parser cache
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(options.runs):
        own, elapsed = measure(options.directory, options.arguments)
        cpu.append(own)
        wall.append(elapsed)
    print(
        f"parc's own CPU: {statistics.median(cpu):.3f} s ({min(cpu):.3f}-{max(cpu):.3f}); "
        f"wall: {statistics.median(wall):.3f} s ({min(wall):.3f}-{max(wall):.3f}); "
        f"{options.runs} runs"
    )


if __name__ == "__main__":
    main()
