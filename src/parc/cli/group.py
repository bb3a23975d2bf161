"""The `parc` command group; each command lives in a module of its own.

It is not named `main`, because importing a submodule of that name would
replace the package's `main` function, which is imported only when needed.
"""

from __future__ import annotations

import importlib

import click

from parc.cli.errors import UserError
from parc.cli.spec import SPEC_NAME, find_spec

COMMANDS = {
    "build": ("parc.cli.build", "build"),
    "check": ("parc.cli.check", "check"),
    "clean": ("parc.cli.clean", "clean"),
    "completion": ("parc.cli.complete", "completion"),
    "fmt": ("parc.cli.fmt", "fmt"),
    "init": ("parc.cli.init", "init"),
    "list": ("parc.cli.listing", "list_steps"),
    "plan": ("parc.cli.plan", "plan"),
    "report": ("parc.cli.report", "report"),
}
"""Each command's name, and the module and name of its function."""


class _LazyGroup(click.Group):
    """A group that imports a command's module only when the command is used.

    A build then starts without importing the other eight commands.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, name = where
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command


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
    cls=_LazyGroup,
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
