"""Plan output formats for `parc plan`: text, JSON, Graphviz DOT and Mermaid.

In the two graph formats an arrow goes from a step to the steps that run
after it, `integrate` steps have a shape of their own, and the critical path
is drawn in red and bold.
"""

from __future__ import annotations

import itertools

from parc.plan import Plan


def _count(number: int, noun: str) -> str:
    """Return `number` with `noun`, in the plural unless it is 1: `1 step`, `3 steps`."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def format_text(plan: Plan) -> str:
    """Describe the plan for people: levels, critical path, parallelism, then each step."""
    levels = plan.levels()
    path, length = plan.critical_path()
    count = len(plan.steps)
    lines = [
        f"plan for {plan.spec}: {_count(count, 'step')} in {_count(len(levels), 'level')}",
    ]
    for number, level in enumerate(levels, start=1):
        lines.append(f"  level {number}: {', '.join(level)}")
    if path:
        lines.append(f"critical path: {' -> '.join(path)} ({_count(int(length), 'step')})")
    lines.append(f"max parallelism: {plan.max_parallelism()}")
    if plan.steps:
        lines.append(
            f"estimated speedup: {plan.speedup():.1f}x over running every step serially "
            "(with unlimited jobs, if all steps take equal time)"
        )
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


_CRITICAL_COLOR = "#d62728"


def format_dot(plan: Plan) -> str:
    """Draw the plan as a Graphviz digraph: boxes for tracks, hexagons for integrate steps."""
    path, _ = plan.critical_path()
    critical = set(path)
    critical_edges = set(itertools.pairwise(path))
    lines = [
        "digraph plan {",
        f"    graph [rankdir=LR, label={_dot_string('plan for ' + plan.spec)}, labelloc=t, "
        'fontname="Helvetica"];',
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
    ]
    for step in plan.steps:
        label = f"{step.name}\n{step.desc}" if step.desc else step.name
        attributes = [f"label={_dot_string(label)}"]
        if step.kind == "integrate":
            attributes.append("shape=hexagon")
        if step.name in critical:
            attributes.append(f'color="{_CRITICAL_COLOR}", penwidth=2.5')
        lines.append(f"    {_dot_string(step.name)} [{', '.join(attributes)}];")
    for step in plan.steps:
        for dependency in step.after:
            edge = f"    {_dot_string(dependency)} -> {_dot_string(step.name)}"
            if (dependency, step.name) in critical_edges:
                edge += f' [color="{_CRITICAL_COLOR}", penwidth=2.5]'
            lines.append(edge + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    """Quote text as a DOT string; a newline becomes a centred line break."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def format_mermaid(plan: Plan) -> str:
    """Draw the plan as a Mermaid flowchart: rounded boxes for tracks, hexagons for integrate.

    Node ids are `s0`, `s1`, ... in spec order, because a step name such as
    `end` or `a--b` would confuse Mermaid's parser.
    """
    path, _ = plan.critical_path()
    critical_edges = set(itertools.pairwise(path))
    ids = {step.name: f"s{index}" for index, step in enumerate(plan.steps)}
    lines = ["flowchart LR"]
    for step in plan.steps:
        label = _mermaid_string(step.name)
        shape = "{{" + label + "}}" if step.kind == "integrate" else "(" + label + ")"
        lines.append(f"    {ids[step.name]}{shape}")
    # `linkStyle` addresses links by their number, counted in order from 0.
    highlighted = []
    links = 0
    for step in plan.steps:
        for dependency in step.after:
            if (dependency, step.name) in critical_edges:
                highlighted.append(str(links))
            lines.append(f"    {ids[dependency]} --> {ids[step.name]}")
            links += 1
    if path:
        lines.append(f"    classDef critical stroke:{_CRITICAL_COLOR},stroke-width:3px")
        lines.append(f"    class {','.join(ids[name] for name in path)} critical")
    if highlighted:
        lines.append(
            f"    linkStyle {','.join(highlighted)} stroke:{_CRITICAL_COLOR},stroke-width:3px"
        )
    return "\n".join(lines) + "\n"


def _mermaid_string(text: str) -> str:
    """Quote a label for Mermaid, which writes `"` as the entity `#quot;`."""
    return '"' + text.replace('"', "#quot;") + '"'
