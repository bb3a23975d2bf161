"""`parc clean`: remove the files that steps own, or forget the recorded state."""

from __future__ import annotations

from pathlib import Path

import click

from parc.cli.common import find_spec, load, select, split_arguments
from parc.cli.errors import EXIT_FAILED, EXIT_OK, UserError
from parc.plan import PlanStep

_EPILOG = """\b
Examples:
  parc clean -n               list the files `parc clean` would remove
  parc clean                  remove every file that a step owns
  parc clean docs             remove only the files that `docs` owns
  parc clean --state          forget the recorded state; the next build runs every step
"""


@click.command(epilog=_EPILOG)
@click.argument("arguments", nargs=-1, metavar="[TARGET ...] [NAME=VALUE ...]")
@click.option(
    "-f",
    "--file",
    "file",
    metavar="FILE",
    help="The spec to clean [default: build.par, searched upward].",
)
@click.option(
    "-n", "--dry-run", is_flag=True, help="List what would be removed, and remove nothing."
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Fail at once when another parc is building this project, instead of waiting.",
)
@click.option(
    "--state",
    "forget_state",
    is_flag=True,
    help="Forget the recorded state (of the named steps, or of all) instead of removing files.",
)
def clean(
    arguments: tuple[str, ...],
    file: str | None,
    dry_run: bool,
    no_wait: bool,
    forget_state: bool,
) -> int:
    """Remove the files that the named steps own (all steps without targets).

    Only paths that an `owns` glob matches are removed, and only inside the
    project root: parc follows no symlink on the way, and removes a matched
    symlink itself, never its target. A matched directory is removed once it
    is empty. With `--state`, parc forgets what earlier builds recorded and
    removes no file.
    """
    from parc.cli.incremental import locked_project

    targets, overrides = split_arguments(arguments)
    if forget_state and not targets:
        root = find_spec(file).resolve().parent
        with locked_project(root, wait=not no_wait):
            return _forget_everything(root, dry_run)

    compiled = load(file, overrides)
    plan = compiled.plan
    select(plan, targets)  # reports unknown targets
    steps = [plan.by_name[name] for name in targets] if targets else list(plan.steps)
    root = Path(plan.root)
    with locked_project(root, wait=not no_wait):
        if forget_state:
            return _forget_steps(root, [step.name for step in steps], dry_run)
        return _remove_owned(root, steps, dry_run)


def _forget_everything(root: Path, dry_run: bool) -> int:
    """Delete the state database; this also works when the database is damaged."""
    from parc.runtime.state import DATABASE_NAME, state_directory

    database = state_directory(root) / DATABASE_NAME
    files = [database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm")]
    existing = [path for path in files if path.exists()]
    shown = _shown(database)
    if not existing:
        click.echo(f"parc: no recorded state in {shown}")
        return EXIT_OK
    if dry_run:
        click.echo(f"parc: would forget the recorded state in {shown}")
        return EXIT_OK
    for path in existing:
        path.unlink(missing_ok=True)
    click.echo(f"parc: forgot the recorded state in {shown}")
    return EXIT_OK


def _forget_steps(root: Path, names: list[str], dry_run: bool) -> int:
    from parc.cli.incremental import open_store
    from parc.runtime.state import StateError

    store = open_store(root)
    try:
        known = [name for name in names if name in store.steps]
        if dry_run:
            for name in known:
                click.echo(f"would forget `{name}`")
            click.echo(f"parc: would forget the state of {_steps(len(known))}")
            return EXIT_OK
        count = store.forget(known)
    except StateError as error:
        raise UserError(str(error)) from None
    finally:
        store.close()
    for name in known:
        click.echo(f"forgot `{name}`")
    click.echo(f"parc: forgot the state of {_steps(count)}")
    return EXIT_OK


def _remove_owned(root: Path, steps: list[PlanStep], dry_run: bool) -> int:
    from parc.runtime.state.clean import empty_after_removal, find_owned, remove

    owned = find_owned(root, steps)
    if dry_run:
        directories = empty_after_removal(root, owned)
        for path in owned.files:
            click.echo(f"would remove {path}")
        for path in directories:
            click.echo(f"would remove {path}/")
        click.echo(f"parc: would remove {_counts(len(owned.files), len(directories))}")
        return EXIT_OK

    removal = remove(root, owned)
    for path in removal.removed_files:
        click.echo(f"removed {path}")
    for path in removal.removed_directories:
        click.echo(f"removed {path}/")
    for path, reason in removal.kept:
        click.echo(f"parc: kept {path}: {reason}", err=True)
    counts = _counts(len(removal.removed_files), len(removal.removed_directories))
    click.echo(f"parc: removed {counts}")
    return EXIT_FAILED if removal.kept else EXIT_OK


def _counts(files: int, directories: int) -> str:
    file_word = "file" if files == 1 else "files"
    directory_word = "directory" if directories == 1 else "directories"
    return f"{files} {file_word} and {directories} {directory_word}"


def _steps(count: int) -> str:
    return f"{count} step{'' if count == 1 else 's'}"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
