"""Time a no-op build of 5,000 up-to-date steps with parc, make and ninja, in one run.

Each tool gets its own copy of the same project: 5,000 steps, each copying
`src/N.txt` to `out/N.txt`. The script builds each project once, checks that
a second build does nothing, and then times the no-op builds side by side
with hyperfine (or, without hyperfine, with a simple timing loop).
`parc check`, which only starts parc and compiles the spec, is timed too, to
show how much of parc's time is start-up and compiling.

Usage: python bench/noop/run.py [--steps N] [--runs N] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOBS = 2


def write_projects(base: Path, steps: int) -> dict[str, Path]:
    """Write the parc, make and ninja projects under `base`; return their directories."""
    projects = {name: base / name for name in ("parc", "make", "ninja")}
    for directory in projects.values():
        (directory / "src").mkdir(parents=True)
        (directory / "out").mkdir()
        for number in range(steps):
            (directory / "src" / f"{number}.txt").write_text(f"input {number}\n")

    spec = [
        f'track s{n} {{\n    reads "src/{n}.txt"\n    owns "out/{n}.txt"\n'
        f'    run "cp src/{n}.txt out/{n}.txt"\n}}\n'
        for n in range(steps)
    ]
    (projects["parc"] / "build.par").write_text("\n".join(spec))

    targets = " ".join(f"out/{n}.txt" for n in range(steps))
    rules = [f"all: {targets}\n"]
    rules += [f"out/{n}.txt: src/{n}.txt\n\tcp src/{n}.txt out/{n}.txt\n" for n in range(steps)]
    (projects["make"] / "Makefile").write_text("\n".join(rules))

    edges = ["rule cp\n  command = cp $in $out\n"]
    edges += [f"build out/{n}.txt: cp src/{n}.txt\n" for n in range(steps)]
    (projects["ninja"] / "build.ninja").write_text("".join(edges))
    return projects


def commands(projects: dict[str, Path], parc: str) -> dict[str, str]:
    """Return the no-op build command of each tool, as shell text."""
    spec = projects["parc"] / "build.par"
    return {
        "parc build": f"{parc} build -f {spec} -j {JOBS}",
        "parc check": f"{parc} check -f {spec}",
        "make": f"make -C {projects['make']} -j {JOBS}",
        "ninja": f"ninja -C {projects['ninja']} -j {JOBS}",
    }


def build_all(shown: dict[str, str], steps: int) -> None:
    """Build every project, then check that one more build does nothing."""
    for command in shown.values():
        subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
    # parc distrusts a digest taken within 2 seconds of the file's last
    # modification. The build below therefore reads the new outputs once more,
    # and the timed builds read no file.
    time.sleep(2.5)
    quiet = {
        "parc build": f"parc: {steps} up to date",
        "make": "Nothing to be done",
        "ninja": "no work to do",
    }
    for label, expected in quiet.items():
        output = subprocess.run(
            shown[label], shell=True, check=True, capture_output=True, text=True
        ).stdout
        if expected not in output:
            raise SystemExit(f"{label} did work in a second build:\n{output[-2000:]}")


def time_with_hyperfine(shown: dict[str, str], runs: int, markdown: Path | None) -> None:
    arguments = ["hyperfine", "--warmup", "2", "--runs", str(runs), "--shell", "sh"]
    if markdown is not None:
        arguments += ["--export-markdown", str(markdown)]
    for label, command in shown.items():
        arguments += ["--command-name", label, command]
    subprocess.run(arguments, check=True)


def time_with_loop(shown: dict[str, str], runs: int) -> None:
    print(f"hyperfine not found; timing {runs} runs of each command")
    for label, command in shown.items():
        subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
            samples.append(time.perf_counter() - started)
        mean = statistics.mean(samples)
        spread = statistics.stdev(samples) if len(samples) > 1 else 0.0
        fastest = min(samples) * 1000
        print(f"{label:12} {mean * 1000:8.1f} ms ± {spread * 1000:6.1f} ms (min {fastest:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000, help="number of steps [5000]")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command [10]")
    parser.add_argument("--markdown", type=Path, help="write hyperfine's table to this file")
    options = parser.parse_args()

    parc = shutil.which("parc") or f"{sys.executable} -m parc"
    for tool in ("make", "ninja"):
        if shutil.which(tool) is None:
            raise SystemExit(f"`{tool}` not found; install it (Debian: apt-get install {tool})")
    with tempfile.TemporaryDirectory(prefix="parc-noop-") as directory:
        projects = write_projects(Path(directory), options.steps)
        shown = commands(projects, parc)
        build_all(shown, options.steps)
        if shutil.which("hyperfine"):
            time_with_hyperfine(shown, options.runs, options.markdown)
        else:
            time_with_loop(shown, options.runs)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {options.steps} steps")


if __name__ == "__main__":
    main()
