"""`parc clean`: remove the files that steps own, or forget the recorded state."""

from __future__ import annotations

from pathlib import Path

import click

from parc.cli.common import find_spec, load, select, split_arguments
from parc.cli.complete import complete_arguments
from parc.cli.errors import EXIT_FAILED, EXIT_OK, UserError
from parc.plan import PlanStep

_EPILOG = """\b
Examples:
  parc clean -n               list what `parc clean` would remove and keep
  parc clean                  remove the build outputs of every step
  parc clean docs             remove only the outputs that `docs` owns
  parc clean --state          forget the recorded state; the next build runs every step
  parc clean --no-git         remove owned files that git tracks too (when git is not installed)
"""


@click.command(epilog=_EPILOG)
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
    help="The spec to clean [default: build.par, searched upward].",
)
@click.option(
    "-n",
    "--dry-run",
    is_flag=True,
    help="List what would be removed and what would be kept, and remove nothing.",
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
@click.option(
    "--no-git",
    is_flag=True,
    help="Remove owned files that git tracks too, without running git. Inside a git work "
    "tree without the `git` command, parc clean needs this flag.",
)
def clean(
    arguments: tuple[str, ...],
    file: str | None,
    dry_run: bool,
    no_wait: bool,
    forget_state: bool,
    no_git: bool,
) -> int:
    """Remove the build outputs that the named steps own (all steps without targets).

    Only paths that an `owns` glob covers are removed, and only inside the
    project root: parc follows no symlink on the way, and removes a matched
    symlink itself, never its target. A matched directory is removed once it
    is empty. parc keeps, and lists, what is not a build output: the spec,
    `.parc/`, version control data, a nested repository, a file that its
    owning step also reads, and a file that git tracks. Paths are printed
    quoted for a POSIX shell where they need it. With `--state`, parc forgets
    what earlier builds recorded and removes no file.
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
        spec = find_spec(file).resolve()
        tracked = frozenset[str]() if no_git else _tracked_by_git(root, dry_run)
        return _remove_owned(root, steps, spec.name, tracked, dry_run)


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


def _remove_owned(
    root: Path, steps: list[PlanStep], spec: str, tracked: frozenset[str], dry_run: bool
) -> int:
    from parc.cli.quoting import shell_quoted
    from parc.runtime.state.clean import empty_after_removal, find_owned, remove

    owned = find_owned(root, steps, spec, tracked)
    kept = _kept(len(owned.kept))
    if dry_run:
        directories = empty_after_removal(root, owned)
        for path in owned.files:
            click.echo(f"would remove {shell_quoted(path)}")
        for path in directories:
            click.echo(f"would remove {shell_quoted(path + '/')}")
        for path, reason in owned.kept:
            click.echo(f"would keep {shell_quoted(path)}: {reason}")
        counts = _counts(len(owned.files), len(directories))
        click.echo(f"parc: would remove {counts}" + (f"; would keep {kept}" if kept else ""))
        return EXIT_OK

    removal = remove(root, owned)
    for path in removal.removed_files:
        click.echo(f"removed {shell_quoted(path)}")
    for path in removal.removed_directories:
        click.echo(f"removed {shell_quoted(path + '/')}")
    for path, reason in owned.kept:
        click.echo(f"kept {shell_quoted(path)}: {reason}")
    for path, reason in removal.kept:
        click.echo(f"parc: cannot remove {shell_quoted(path)}: {reason}", err=True)
    counts = _counts(len(removal.removed_files), len(removal.removed_directories))
    click.echo(f"parc: removed {counts}" + (f"; kept {kept}" if kept else ""))
    return EXIT_FAILED if removal.kept else EXIT_OK


def _tracked_by_git(root: Path, dry_run: bool) -> frozenset[str]:
    """Return the paths git tracks, so that `parc clean` keeps them.

    Raises:
        UserError: the project is in a git work tree, but git is not
            installed or failed. parc then removes nothing.
    """
    from parc.runtime.state.clean import GitError, GitNotFound, tracked_by_git

    if dry_run:
        outcome = "would remove"
        retry = "`parc clean -n --no-git` to list tracked files among those it would remove"
    else:
        outcome = "removed"
        retry = "`parc clean --no-git` to remove tracked files too"
    try:
        return tracked_by_git(root)
    except GitNotFound as error:
        raise UserError(
            f"{error}, so parc cannot tell which owned files git tracks and {outcome} nothing; "
            f"install git, or run {retry}"
        ) from None
    except GitError as error:
        raise UserError(
            f"cannot tell which owned files git tracks, so parc {outcome} nothing: {error}; "
            f"fix what git reports, or run {retry}"
        ) from None


def _counts(files: int, directories: int) -> str:
    file_word = "file" if files == 1 else "files"
    directory_word = "directory" if directories == 1 else "directories"
    return f"{files} {file_word} and {directories} {directory_word}"


def _kept(count: int) -> str:
    if not count:
        return ""
    if count == 1:
        return "1 path that is not a build output"
    return f"{count} paths that are not build outputs"


def _steps(count: int) -> str:
    return f"{count} step{'' if count == 1 else 's'}"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
