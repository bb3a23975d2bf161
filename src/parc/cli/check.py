"""`parc check`: compile the spec and report problems."""

from __future__ import annotations

import click

from parc.cli.common import load, split_arguments
from parc.cli.complete import complete_overrides
from parc.cli.errors import EXIT_OK


@click.command()
@click.argument(
    "overrides", nargs=-1, metavar="[NAME=VALUE ...]", shell_complete=complete_overrides
)
@click.option(
    "-f",
    "--file",
    "file",
    metavar="FILE",
    help="The spec to check [default: build.par, searched upward].",
)
def check(overrides: tuple[str, ...], file: str | None) -> int:
    """Check the spec for errors without running anything.

    \b
    Examples:
      parc check                   check build.par here or in a parent directory
      parc check -f ci/build.par   check another spec
      parc check cc=clang          check with `let cc` overridden
    """
    targets, values = split_arguments(overrides)
    if targets:
        raise click.UsageError(
            f"`parc check` takes only NAME=VALUE overrides, not `{targets[0]}`",
            click.get_current_context(),
        )
    compiled = load(file, values)
    count = len(compiled.plan.steps)
    warnings = len(compiled.warnings)
    summary = f"{compiled.plan.spec}: {count} step{'s' if count != 1 else ''}, no errors"
    if warnings:
        summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
    click.echo(summary)
    return EXIT_OK
