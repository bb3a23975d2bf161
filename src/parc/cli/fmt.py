"""`parc fmt`: rewrite spec files in the canonical layout."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from parc.cli.common import find_spec, print_diagnostics, read_source
from parc.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UserError
from parc.diagnostics import CompileError
from parc.source import Source


@click.command()
@click.argument("files", nargs=-1, metavar="[FILE ...]", type=click.Path(dir_okay=False))
@click.option(
    "--check",
    is_flag=True,
    help="Change no file; list the files that would change and exit 1 if there are any.",
)
def fmt(files: tuple[str, ...], check: bool) -> int:
    """Format spec files: one layout for every spec, comments kept, meaning unchanged.

    Without FILE, formats the `build.par` that `parc build` would use. With
    `-` as the only FILE, reads a spec on stdin and writes it formatted to
    stdout, as editors that format on save expect.

    \b
    Examples:
      parc fmt                    format ./build.par (or the nearest one above)
      parc fmt --check a.par      exit 1 if a.par is not formatted
      parc fmt - < a.par          print a.par formatted
    """
    if files == ("-",):
        return _format_stdin(check)
    paths = [Path(file) for file in files] or [find_spec(None)]
    changed: list[str] = []
    invalid = False
    for path in paths:
        source = read_source(path)
        name = source.name
        try:
            formatted = _formatted(source)
        except CompileError as error:
            print_diagnostics(error.diagnostics)
            invalid = True
            continue
        if formatted == source.text:
            continue
        changed.append(name)
        if check:
            click.echo(f"would reformat {name}")
        else:
            _replace(path, formatted)
            click.echo(f"reformatted {name}")

    if invalid:
        click.echo("parc: files with syntax errors were left unchanged", err=True)
        return EXIT_USAGE
    if check and changed:
        return EXIT_FAILED
    return EXIT_OK


def _formatted(source: Source) -> str:
    """Parse and format a spec; the parser is imported only by the commands that format."""
    from parc.grammar import parse
    from parc.grammar.format import format_document

    return format_document(parse(source))


def _format_stdin(check: bool) -> int:
    """Format the spec on stdin to stdout; with `check`, only tell by the exit code."""
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"stdin is not UTF-8 text: {error.reason} at byte {error.start}") from None
    source = Source("<stdin>", text)
    try:
        formatted = _formatted(source)
    except CompileError as error:
        print_diagnostics(error.diagnostics)
        return EXIT_USAGE
    if check:
        return EXIT_FAILED if formatted != source.text else EXIT_OK
    click.echo(formatted, nl=False)
    return EXIT_OK


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, keeping the file's permissions."""
    mode = path.stat().st_mode
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:  # remove the partial file, whatever stopped the write
        os.unlink(temporary)
        raise
