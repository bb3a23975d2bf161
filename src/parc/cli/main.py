"""The `parc` command group; each command lives in a module of its own."""

from __future__ import annotations

import click

from parc.cli.build import build
from parc.cli.check import check
from parc.cli.fmt import fmt
from parc.cli.plan import plan


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Run `parc COMMAND --help` for the options of each command.",
)
@click.version_option(package_name="parc", prog_name="parc")
def cli() -> None:
    """parc: run tracks of shell commands in parallel, checked before they start.

    A spec file, `build.par`, declares tracks (work streams), the files each
    reads and owns, and integration steps that combine them.
    """


cli.add_command(build)
cli.add_command(check)
cli.add_command(fmt)
cli.add_command(plan)
