"""Plan output formats for `parc plan`: text and JSON."""

from __future__ import annotations

from parc.plan import Plan


def format_text(plan: Plan) -> str:
    """Describe the plan for people: levels, critical path, parallelism, then each step."""
    levels = plan.levels()
    path, length = plan.critical_path()
    count = len(plan.steps)
    lines = [
        f"plan for {plan.spec}: {count} step{'s' if count != 1 else ''} "
        f"in {len(levels)} level{'s' if len(levels) != 1 else ''}",
    ]
    for number, level in enumerate(levels, start=1):
        lines.append(f"  level {number}: {', '.join(level)}")
    if path:
        lines.append(f"critical path: {' -> '.join(path)} ({int(length)} steps)")
    lines.append(f"max parallelism: {plan.max_parallelism()}")
    if plan.pools:
        pools = ", ".join(f"{name} = {size}" for name, size in plan.pools.items())
        lines.append(f"pools: {pools}")

    for step in plan.steps:
        lines.append("")
        title = f"{step.kind} {step.name}"
        if step.desc:
            title += f": {step.desc}"
        lines.append(title)
        if step.after:
            lines.append(f"  after: {', '.join(step.after)}")
        if step.reads:
            lines.append(f"  reads: {', '.join(step.reads)}")
        if step.owns:
            lines.append(f"  owns: {', '.join(step.owns)}")
        if step.cwd != ".":
            lines.append(f"  cwd: {step.cwd}")
        if step.pool:
            lines.append(f"  pool: {step.pool}")
        if step.timeout is not None:
            lines.append(f"  timeout: {step.timeout:g}s")
        if step.retries:
            lines.append(f"  retries: {step.retries}")
        for name, value in step.env:
            lines.append(f"  env: {name}={value}")
        for command in step.commands:
            first, *rest = command.split("\n")
            lines.append(f"  $ {first}")
            lines.extend(f"    {line}" for line in rest)
    return "\n".join(lines) + "\n"


def format_json(plan: Plan) -> str:
    return plan.dumps()
