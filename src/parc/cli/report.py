"""`parc report`: render the last build as a self-contained HTML page."""

from __future__ import annotations

import os
from pathlib import Path

import click

from parc.cli.common import display_name, load
from parc.cli.errors import EXIT_OK, UserError

REPORT_NAME = "report.html"

_EPILOG = """\b
Examples:
  parc build && parc report      build, then write .parc/report.html
  parc report -o build.html      write the page to build.html
  parc report -o - > out.html    write the page to stdout
"""


@click.command(epilog=_EPILOG)
@click.option(
    "-f",
    "--file",
    "file",
    metavar="FILE",
    help="The spec whose last build to show [default: build.par, searched upward].",
)
@click.option(
    "-o",
    "--output",
    "output",
    metavar="FILE",
    help=f"Where to write the page; - for stdout [default: .parc/{REPORT_NAME}].",
)
def report(file: str | None, output: str | None) -> int:
    """Write the last build as an HTML page: a Gantt chart, the plan's graph and every step.

    The page reads `.parc/last-build.json` and the spec; it is one file that
    needs no network, so it can be attached to a CI run or opened offline.
    """
    from parc.runtime.html_report import ReportError, load_last_build, render_report
    from parc.runtime.state import state_directory
    from parc.runtime.state.last_build import LAST_BUILD_NAME

    compiled = load(file)
    root = Path(compiled.plan.root)
    directory = state_directory(root)
    target = directory / REPORT_NAME if output is None else Path(output)
    try:
        recorded = load_last_build(directory / LAST_BUILD_NAME)
        if output == "-":
            click.echo(render_report(recorded, compiled.plan), nl=False)
            return EXIT_OK
        page = render_report(recorded, compiled.plan, target.parent.resolve())
    except ReportError as error:
        raise UserError(str(error)) from None

    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise UserError(
            f"cannot write the report `{target}`: {error.strerror}; name another file with -o"
        ) from None
    click.echo(f"parc: wrote {display_name(target)}", err=True)
    return EXIT_OK
