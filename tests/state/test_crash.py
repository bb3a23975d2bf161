"""`kill -9` of parc at random moments leaves a state from which the next build recovers.

Every round changes the input that every step depends on, so all steps are
out of date; starts a build; kills parc with SIGKILL at a random moment
(while it starts, or a random time after a random number of steps ended);
then builds again and checks what that build ran:

- a step it skipped had finished its command in the killed build (parc never
  takes an unfinished step for up to date);
- at most `JOBS` steps that finished were run again (only a step that ended
  in the moment between its exit and its commit can lose its record);
- the skipped steps include all their dependencies;
- every output then has the content its inputs determine, so no half-written
  output survives, and the database passes SQLite's integrity check.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import JOURNAL, Project

ROUNDS = int(os.environ.get("PARC_CRASH_ROUNDS", "20"))
JOBS = 2

# name -> (dependencies, inputs)
STEPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "s0": ((), ("src/v.txt",)),
    "s1": ((), ("src/v.txt",)),
    "s2": (("s0",), ("out/s0.txt",)),
    "s3": (("s0", "s1"), ("out/s0.txt", "out/s1.txt")),
    "s4": (("s2",), ("out/s2.txt",)),
    "s5": (("s3",), ("src/w.txt",)),  # runs after s3 but reads none of its files
    "s6": (("s4", "s5"), ("out/s4.txt", "out/s5.txt")),
    "s7": (("s6",), ("out/s6.txt",)),
}

# Each step runs this program as the shell's only process (`exec`), so it dies
# with parc (the runtime asks Linux to SIGKILL a step's shell when parc dies)
# and leaves nothing running into the next build. It writes its output in two
# halves, with a pause between, and notes its name in the journal at the end.
STEP_PROGRAM = f"""\
import hashlib, sys, time
name, output, *inputs = sys.argv[1:]
digest = hashlib.sha256(b"".join(open(path, "rb").read() for path in inputs)).hexdigest()
text = f"{{name}}:{{digest}}\\n"
with open(output, "w") as stream:
    stream.write(text[:10])
    stream.flush()
    time.sleep(0.02)
    stream.write(text[10:])
with open("{JOURNAL}", "a") as journal:
    journal.write(name + "\\n")
"""


# Steps that end in groups: each group of ends is committed in one
# transaction, once the steps after them have started.
WIDE_JOBS = 6
WIDE_STEPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{f"w{index}": ((), ("src/v.txt",)) for index in range(18)},
    "join": (tuple(f"w{index}" for index in range(18)), ("src/w.txt",)),
}


def _spec(steps: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = STEPS) -> str:
    lines = [f'let python = "{sys.executable}"', ""]
    for name, (after, inputs) in steps.items():
        header = f"track {name} after {', '.join(after)}" if after else f"track {name}"
        reads = ", ".join(f'"{path}"' for path in inputs)
        arguments = " ".join(inputs)
        lines += [
            header + " {",
            f"    reads {reads}",
            f'    owns "out/{name}.txt"',
            f'    run "exec {{{{python}}}} step.py {name} out/{name}.txt {arguments}"',
            "}",
            "",
        ]
    return "\n".join(lines)


def _expected_outputs(
    root: Path, steps: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = STEPS
) -> dict[str, str]:
    """Compute every output from the inputs, as the steps would."""
    contents: dict[str, bytes] = {
        "src/v.txt": (root / "src/v.txt").read_bytes(),
        "src/w.txt": (root / "src/w.txt").read_bytes(),
    }
    expected: dict[str, str] = {}
    for name, (_, inputs) in steps.items():  # written in dependency order
        digest = hashlib.sha256(b"".join(contents[path] for path in inputs)).hexdigest()
        expected[name] = f"{name}:{digest}\n"
        contents[f"out/{name}.txt"] = expected[name].encode()
    return expected


def _wait_for_journal(root: Path, lines: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until `lines` steps have noted their end, or parc has exited."""
    journal = root / JOURNAL
    while process.poll() is None:
        if lines == 0 or (journal.exists() and len(journal.read_text().split()) >= lines):
            return
        time.sleep(0.002)


def _ancestors_included(
    skipped: set[str], steps: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = STEPS
) -> bool:
    return all(set(steps[name][0]) <= skipped for name in skipped)


def _integrity(database: Path) -> str:
    if not database.exists():
        return "ok"
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


@pytest.mark.slow
def test_kill_9_at_random_points(project: Project) -> None:
    seed = int(os.environ.get("PARC_CRASH_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    project.spec(_spec())
    project.write("step.py", STEP_PROGRAM)
    project.write("src/w.txt", "static\n")
    project.write("src/v.txt", "round -1\n")
    (project.root / "out").mkdir()
    command = project.command("build", "-j", str(JOBS))

    started = time.monotonic()
    full = project.run_process("build", "-j", str(JOBS))
    assert full.code == 0, full.stdout + full.stderr
    full_duration = time.monotonic() - started

    for round_number in range(ROUNDS):
        context = f"seed {seed}, round {round_number}"
        project.write("src/v.txt", f"round {round_number}\n")
        if round_number % 8 == 7:
            shutil.rmtree(project.root / ".parc")  # kill it while it creates the state

        process = subprocess.Popen(
            command, cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0, full_duration))  # mostly while parc starts
        else:
            _wait_for_journal(project.root, rng.randrange(len(STEPS)), process)
            time.sleep(rng.uniform(0, 0.06))
        process.send_signal(signal.SIGKILL)
        process.wait()
        finished = set(project.take_journal())

        assert _integrity(project.root / ".parc" / "state.db") == "ok", context
        after = project.build()  # in this process, which saves a start-up per round
        assert after.code == 0, f"{context}: {after.stdout}{after.stderr}"
        reran = set(after.ran)
        skipped = set(STEPS) - reran

        assert skipped <= finished, f"{context}: skipped unfinished {skipped - finished}"
        assert len(finished - skipped) <= JOBS, f"{context}: reran {finished - skipped}"
        assert _ancestors_included(skipped), f"{context}: skipped {sorted(skipped)}"
        expected = _expected_outputs(project.root)
        for name, text in expected.items():
            assert project.read(f"out/{name}.txt") == text, f"{context}: {name}"

    assert project.run_process("build", "-j", str(JOBS)).ran == []


@pytest.mark.slow
def test_kill_9_while_steps_end_in_groups(project: Project) -> None:
    seed = int(os.environ.get("PARC_CRASH_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    project.spec(_spec(WIDE_STEPS))
    project.write("step.py", STEP_PROGRAM)
    project.write("src/w.txt", "static\n")
    (project.root / "out").mkdir()
    command = project.command("build", "-j", str(WIDE_JOBS))

    for round_number in range(max(1, ROUNDS // 2)):
        context = f"seed {seed}, round {round_number}"
        project.write("src/v.txt", f"round {round_number}\n")
        process = subprocess.Popen(
            command, cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for_journal(project.root, rng.randrange(1, len(WIDE_STEPS)), process)
        time.sleep(rng.uniform(0, 0.03))
        process.send_signal(signal.SIGKILL)
        process.wait()
        finished = set(project.take_journal())

        assert _integrity(project.root / ".parc" / "state.db") == "ok", context
        after = project.build()
        assert after.code == 0, f"{context}: {after.stdout}{after.stderr}"
        skipped = set(WIDE_STEPS) - set(after.ran)

        # Only the ends of one group, those of the steps that held the job
        # slots, can wait for their commit when parc is killed.
        assert skipped <= finished, f"{context}: skipped unfinished {skipped - finished}"
        assert len(finished - skipped) <= WIDE_JOBS, f"{context}: reran {finished - skipped}"
        assert _ancestors_included(skipped, WIDE_STEPS), f"{context}: skipped {sorted(skipped)}"
        expected = _expected_outputs(project.root, WIDE_STEPS)
        for name, text in expected.items():
            assert project.read(f"out/{name}.txt") == text, f"{context}: {name}"
