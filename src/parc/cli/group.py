"""The `parc` command group; each command lives in a module of its own.

It is not named `main`, because importing a submodule of that name would
replace the package's `main` function, which is imported only when needed.
"""

from __future__ import annotations

import click

from parc.cli.build import build
from parc.cli.check import check
from parc.cli.clean import clean
from parc.cli.common import SPEC_NAME, find_spec
from parc.cli.complete import completion
from parc.cli.errors import UserError
from parc.cli.fmt import fmt
from parc.cli.init import init
from parc.cli.listing import list_steps
from parc.cli.plan import plan
from parc.cli.report import report

_EPILOG = """\b
Examples:
  parc init                 write a starter build.par here
  parc build                run the default steps, in parallel
  parc build -j 4 -k test   run `test` and what it needs, 4 at a time, past failures
  parc plan                 show the levels and the critical path
  parc check                check build.par without running anything

Run `parc COMMAND --help` for the options of each command.
"""


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_EPILOG,
    invoke_without_command=True,
)
@click.version_option(package_name="parc", prog_name="parc")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """parc: run tracks of shell commands in parallel, checked before they start.

    A spec file, `build.par`, declares tracks (work streams), the files each
    reads and owns, and integration steps that combine them.
    """
    if ctx.invoked_subcommand is not None:
        return
    click.echo(ctx.get_help())
    try:
        find_spec(None)
    except UserError:
        click.echo(
            f"\nThere is no {SPEC_NAME} here or in a parent directory. "
            "To start, run `parc init` and then `parc build`.",
            err=True,
        )


cli.add_command(build)
cli.add_command(check)
cli.add_command(clean)
cli.add_command(completion)
cli.add_command(fmt)
cli.add_command(init)
cli.add_command(list_steps)
cli.add_command(plan)
cli.add_command(report)
