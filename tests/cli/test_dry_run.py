"""The text of `parc build -n`: where each command starts and ends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from parc.cli.dry_run import dry_run_text
from parc.plan import Plan, PlanStep

SPEC = '''\
track gen {
    run "mkdir -p out"
    run """
        for f in a b; do
            echo $f
        done > out/list
    """
    run "cat out/list"
}

track show after gen {
    cwd "out"
    run "# a comment as a command"
    run "cat list"
}
'''


def test_dry_run_marks_multi_line_commands(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(SPEC)
    completed = subprocess.run(
        [sys.executable, "-m", "parc", "build", "-n"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, NO_COLOR="1"),
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        "# gen",
        "mkdir -p out",
        "# command 2 of 3 (3 lines)",
        "for f in a b; do",
        "    echo $f",
        "done > out/list",
        "# end of command 2",
        "cat out/list",
        "# show (in out)",
        "# command 1 of 2 (1 line)",
        "# a comment as a command",
        "# end of command 1",
        "cat list",
    ]
    assert not (tmp_path / "out").exists()


def test_dry_run_output_runs_as_script(tmp_path: Path) -> None:
    step = PlanStep(
        name="gen",
        kind="track",
        index=0,
        commands=("mkdir -p out", "for f in a b; do\n    echo $f\ndone > out/list", "echo end"),
    )
    text = dry_run_text(Plan(spec="build.par", root=str(tmp_path), steps=(step,)), {"gen"})
    completed = subprocess.run(
        ["sh", "-e"], input=text, cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "end\n"
    assert (tmp_path / "out/list").read_text() == "a\nb\n"


_MARKER = re.compile(r"# command (?P<number>\d+) of \d+ \((?P<count>\d+) lines?\)")


def _read_back(text: str) -> dict[str, list[str]]:
    """Parse dry-run text into the commands of each step, by the rules of `parc.cli.dry_run`."""
    commands: dict[str, list[str]] = {}
    lines = text.split("\n")
    assert lines.pop() == ""
    index = 0
    current: list[str] = []
    while index < len(lines):
        line = lines[index]
        marker = _MARKER.fullmatch(line)
        if marker is not None:
            count = int(marker["count"])
            current.append("\n".join(lines[index + 1 : index + 1 + count]))
            assert lines[index + 1 + count] == f"# end of command {marker['number']}"
            index += count + 2
            continue
        if line.startswith("# "):
            current = commands.setdefault(line.removeprefix("# "), [])
        else:
            current.append(line)
        index += 1
    return commands


command_text = st.text(st.sampled_from("ab #\n$'"), max_size=12)


@given(st.lists(st.lists(command_text, min_size=1, max_size=4), min_size=1, max_size=3))
def test_dry_run_reads_back_every_command(commands: list[list[str]]) -> None:
    steps = tuple(
        PlanStep(name=f"s{index}", kind="track", index=index, commands=tuple(step_commands))
        for index, step_commands in enumerate(commands)
    )
    plan = Plan(spec="build.par", root="/project", steps=steps)
    text = dry_run_text(plan, {step.name for step in steps})
    assert _read_back(text) == {step.name: list(step.commands) for step in steps}
