"""`parc plan`: print the execution plan."""

from __future__ import annotations

import click

from parc.cli.common import load, select, split_arguments
from parc.cli.complete import complete_arguments
from parc.cli.errors import EXIT_OK


@click.command()
@click.argument(
    "arguments",
    nargs=-1,
    metavar="[TARGET ...] [NAME=VALUE ...]",
    shell_complete=complete_arguments,
)
@click.option(
    "-f",
    "--file",
    "file",
    metavar="FILE",
    help="The spec to plan [default: build.par, searched upward].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "dot", "mermaid"]),
    default="text",
    show_default=True,
    help="Print the plan for people, as JSON, or as a Graphviz or Mermaid graph.",
)
def plan(arguments: tuple[str, ...], file: str | None, fmt: str) -> int:
    """Print the execution plan: levels, critical path, parallelism and each step.

    \b
    Examples:
      parc plan                          the plan of every step, for people
      parc plan release                  only `release` and what it needs
      parc plan --format json | jq .critical_path
      parc plan --format dot | dot -Tsvg > plan.svg
    """
    from parc.compiler import emit

    formats = {
        "text": emit.format_text,
        "json": emit.format_json,
        "dot": emit.format_dot,
        "mermaid": emit.format_mermaid,
    }
    targets, overrides = split_arguments(arguments)
    compiled = load(file, overrides)
    selected = select(compiled.plan, targets)
    text = formats[fmt](selected)
    click.echo(text, nl=False)
    return EXIT_OK
