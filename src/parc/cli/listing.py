"""`parc list`: the steps of the spec, for people or as JSON."""

from __future__ import annotations

import json

import click

from parc.cli.common import load
from parc.cli.errors import EXIT_OK
from parc.plan import Plan


@click.command(name="list")
@click.option(
    "-f",
    "--file",
    "file",
    metavar="FILE",
    help="The spec to list [default: build.par, searched upward].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the steps as a JSON array.")
def list_steps(file: str | None, as_json: bool) -> int:
    """List the steps with their kind, description, dependencies and pool.

    \b
    Examples:
      parc list
      parc list --json | jq -r '.[].name'
    """
    plan = load(file).plan
    if as_json:
        click.echo(json.dumps(_as_json(plan), indent=2, ensure_ascii=False))
    else:
        click.echo(format_list(plan), nl=False)
    return EXIT_OK


def _as_json(plan: Plan) -> list[dict[str, object]]:
    defaults = set(plan.defaults)
    return [
        {
            "name": step.name,
            "kind": step.kind,
            "desc": step.desc,
            "after": list(step.after),
            "pool": step.pool,
            "default": step.name in defaults if defaults else True,
        }
        for step in plan.steps
    ]


def format_list(plan: Plan) -> str:
    """Format the steps as aligned columns; a `*` marks the steps `parc build` runs by default."""
    defaults = set(plan.defaults)
    header = ("STEP", "KIND", "AFTER", "POOL", "DESCRIPTION")
    rows = [header]
    for step in plan.steps:
        marker = "*" if defaults and step.name in defaults else ""
        rows.append(
            (step.name + marker, step.kind, ", ".join(step.after), step.pool or "", step.desc)
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    if defaults:
        lines.append("")
        lines.append("* built by `parc build` without targets")
    return "\n".join(lines) + "\n"
