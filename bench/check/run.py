"""Time `parc check` on generated specs of 1k, 10k and 50k tracks, next to `make -n`.

For each size, `generate.py` writes a spec and a Makefile with the same
steps, dependencies and commands. Each command runs `--repeat` times and
the fastest run counts, so other load on the machine inflates the numbers
less. CPU time (user + system of the child) is reported beside wall time.
`parc check` is timed from scratch (its cached plan removed before each run)
and again with nothing changed since the last check.

Usage: python -m bench.check.run [--sizes 1000,10000,50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from bench.check.generate import write_makefile, write_sources, write_spec


@attrs.frozen
class Timing:
    wall: float
    cpu: float


def measure(
    command: list[str], cwd: Path, repeat: int, prepare: Callable[[], None] | None = None
) -> Timing:
    """Run `command` `repeat` times; return the fastest wall and CPU times, in seconds.

    `prepare` runs before each run, untimed.
    """
    best: Timing | None = None
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        completed = subprocess.run(
            command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if completed.returncode != 0 or completed.stderr:
            sys.exit(
                f"`{' '.join(command)}` exited with code {completed.returncode} and printed:\n"
                + completed.stderr.decode(errors="replace")[:2000]
            )
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if best is None or wall < best.wall:
            best = Timing(wall, cpu)
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1000,10000,50000",
        help="comma-separated numbers of tracks [default: 1000,10000,50000]",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per command; the fastest counts [default: 3]"
    )
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]
    make = shutil.which("make")

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"best of {arguments.repeat} runs; times in seconds (wall / CPU)")
    print()
    print(
        "| tracks | globs (owns + reads) | `parc check` | per track "
        "| `parc check`, nothing changed | `make -n` |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="parc-bench-") as scratch:
        for size in sizes:
            directory = Path(scratch) / str(size)
            directory.mkdir()
            write_spec(size, directory / "build.par")
            write_makefile(size, directory / "Makefile")
            write_sources(size, directory)

            check = [sys.executable, "-m", "parc", "check", "-f", "build.par"]
            # From scratch: without the compiled plan that the last check cached.
            parc = measure(
                check,
                directory,
                arguments.repeat,
                prepare=functools.partial(shutil.rmtree, directory / ".parc", ignore_errors=True),
            )
            cached = measure(check, directory, arguments.repeat)
            make_cell = "not installed"
            if make is not None:
                timing = measure([make, "-n", "-f", "Makefile"], directory, arguments.repeat)
                make_cell = f"{timing.wall:.2f} / {timing.cpu:.2f}"
            globs = f"{size + 1} + {2 * size + 1}"
            per_track = f"{parc.wall / size * 1e6:.0f} µs"
            print(
                f"| {size:,} | {globs} | {parc.wall:.2f} / {parc.cpu:.2f} | {per_track} "
                f"| {cached.wall:.2f} / {cached.cpu:.2f} | {make_cell} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
