"""`parc init`: write a commented starter `build.par`."""

from __future__ import annotations

from pathlib import Path

import click

from parc.cli.common import SPEC_NAME
from parc.cli.errors import EXIT_OK, UserError

STARTER = """\
# build.par: the steps of this project for parc. Run `parc build` to run them,
# `parc plan` to see the order, `parc check` to check this file.

# Variables: use them in any string as {{name}}; override with `parc build name=value`.
let out = "build"

# Tracks are independent work streams: parc runs them in parallel.
track hello {
    desc "write a greeting"
    # A step that declares both `reads` and `owns` is skipped when nothing changed.
    reads "build.par"
    owns "{{out}}/hello.txt"
    run "mkdir -p {{out}}"
    run "echo 'hello from {{step}}' > {{out}}/hello.txt"
}

track count {
    desc "count the lines of this spec"
    reads "build.par"
    owns "{{out}}/lines.txt"
    run "mkdir -p {{out}} && wc -l < build.par > {{out}}/lines.txt"
}

# An integration step without `after` runs when every track has succeeded.
integrate report {
    desc "combine the results of the tracks"
    reads "{{out}}/hello.txt", "{{out}}/lines.txt"
    owns "{{out}}/report.txt"
    run "cat {{out}}/hello.txt {{out}}/lines.txt > {{out}}/report.txt"
    run "cat {{out}}/report.txt"
}
"""


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing build.par.")
@click.argument(
    "directory",
    required=False,
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
)
def init(directory: Path, force: bool) -> int:
    """Write a commented starter build.par into DIRECTORY (default: here).

    \b
    Examples:
      parc init                 write ./build.par, then run `parc build`
      parc init tools/ci        write tools/ci/build.par
    """
    target = directory / SPEC_NAME
    if target.exists() and not force:
        raise UserError(f"`{target}` already exists; pass --force to overwrite it")
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(STARTER, encoding="utf-8")
    click.echo(f"wrote {target}; run `parc build` to try it")
    return EXIT_OK
