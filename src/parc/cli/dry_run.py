"""The text of `parc build -n`: the commands a build would run, as a shell script.

Every step starts with a comment line, `# STEP`, or `# STEP (in DIR)` for a
step with a `cwd`. Its commands follow, one line each. A command that spans
several lines goes between two comment lines that number it and count its
lines, so that the reader sees where it ends and the next begins. So does a
command that starts with `#`, which could otherwise pass for such a line:

    # gen
    mkdir -p out
    # command 2 of 3 (3 lines)
    for f in a b; do
        echo $f
    done > out/list
    # end of command 2
    cat out/list

When some steps are up to date, a last comment line counts them. Every
added line is a shell comment, so the text still runs as a script.
"""

from __future__ import annotations

from parc.plan import Plan, PlanStep


def dry_run_text(plan: Plan, runs: set[str]) -> str:
    """Return the commands of the steps in `runs`, and a count of the other steps."""
    lines = []
    for step in plan.topological_order():
        if step.name not in runs:
            continue
        where = f" (in {step.cwd})" if step.cwd != "." else ""
        lines.append(f"# {step.name}{where}")
        lines.extend(_command_lines(step))
    skipped = len(plan.steps) - len(runs)
    if skipped:
        noun = "step is" if skipped == 1 else "steps are"
        lines.append(f"# {skipped} {noun} up to date; -B -n prints every step")
    return "\n".join(lines) + ("\n" if lines else "")


def _command_lines(step: PlanStep) -> list[str]:
    lines: list[str] = []
    count = len(step.commands)
    for number, command in enumerate(step.commands, start=1):
        command_lines = command.split("\n")
        if len(command_lines) == 1 and not command.startswith("#"):
            lines.append(command)
            continue
        size = len(command_lines)
        lines.append(f"# command {number} of {count} ({size} line{'' if size == 1 else 's'})")
        lines.extend(command_lines)
        lines.append(f"# end of command {number}")
    return lines
