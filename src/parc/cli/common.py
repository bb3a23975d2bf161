"""What every command shares: finding the spec, compiling it, choosing targets."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import attrs
import click

from parc.cli import plan_cache as cache
from parc.cli.errors import EXIT_USAGE
from parc.cli.spec import OVERRIDE, SPEC_NAME, display_name, find_spec, read_spec
from parc.compiled import Compiled, collector_paused
from parc.diagnostics import Codes, CompileError, Diagnostic
from parc.globs import first_match
from parc.plan import Plan
from parc.render import render_all, use_color
from parc.source import Source
from parc.suggest import closest_name

__all__ = [
    "SPEC_NAME",
    "display_name",
    "find_spec",
    "load",
    "print_diagnostics",
    "read_source",
    "select",
    "split_arguments",
    "unmatched_reads",
]


def split_arguments(arguments: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Split command-line words into targets and `NAME=VALUE` overrides.

    Raises:
        click.exceptions.Exit: a word with `=` is not an override; the
            error is printed.
    """
    targets: list[str] = []
    overrides: dict[str, str] = {}
    invalid: list[Diagnostic] = []
    for word in arguments:
        if "=" in word:
            match = OVERRIDE.match(word)
            if match is None:
                name = word.split("=", 1)[0]
                invalid.append(
                    Diagnostic(
                        Codes.INVALID_OVERRIDE,
                        f"invalid override `{word}`: `{name}` is not a variable name",
                        help="write NAME=VALUE, where NAME is a variable that a `let` "
                        "defines: a letter or `_`, then letters, digits, `_` or `-`",
                    )
                )
                continue
            overrides[match.group(1)] = match.group(2)
        else:
            targets.append(word)
    if invalid:
        print_diagnostics(invalid)
        raise click.exceptions.Exit(EXIT_USAGE)
    return targets, overrides


def print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    if diagnostics:
        click.echo(render_all(diagnostics, color=use_color(sys.stderr)), err=True, nl=False)


def load(file: str | None, overrides: dict[str, str] | None = None) -> Compiled:
    """Find, read and compile the spec, printing warnings.

    An unchanged spec is not compiled again: its plan and warnings come from
    `.parc/plan-cache` (see `parc.cli.plan_cache`).

    Raises:
        click.exceptions.Exit: with code 2 after printing the errors.
        UserError: the spec cannot be found or read.
    """
    path = find_spec(file)
    data, source = _read_spec(path)
    root = path.resolve().parent
    overrides = overrides or {}

    # The cache holds only compiles without errors, so a spec with errors is
    # compiled, and its errors are reported, on every run.
    with collector_paused():
        key = cache.cache_key(data, source.name, root, overrides)
        compiled = cache.load(root, key, source)
        if compiled is None:
            compiled = _compile(source, overrides, root)
            cache.store(root, key, compiled)

    warnings = sorted([*compiled.warnings, *unmatched_reads(compiled)], key=Diagnostic.sort_key)
    print_diagnostics(warnings)
    return attrs.evolve(compiled, warnings=tuple(warnings))


def _compile(source: Source, overrides: dict[str, str], root: Path) -> Compiled:
    """Compile the spec, printing its errors.

    Raises:
        click.exceptions.Exit: with code 2 after printing the errors.
    """
    from parc.compiler import compile_source

    try:
        return compile_source(source, overrides, root=root)
    except CompileError as error:
        print_diagnostics(error.diagnostics)
        errors = sum(1 for d in error.diagnostics if d.severity.value == "error")
        summary = f"parc: {errors} error{'s' if errors != 1 else ''} in {source.name}"
        if error.skipped:
            summary += f"; {error.skipped}"
        click.echo(summary, err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None


def read_source(path: Path) -> Source:
    """Read a spec file, named in messages as `display_name` shows it.

    Raises:
        UserError: the file cannot be read, or is not UTF-8.
    """
    return _read_spec(path)[1]


def _read_spec(path: Path) -> tuple[bytes, Source]:
    """Read a spec file; return its bytes and its text.

    Raises:
        UserError: the file cannot be read, or is not UTF-8.
    """
    data, text = read_spec(path)
    return data, Source(display_name(path), text)


def unmatched_reads(compiled: Compiled) -> list[Diagnostic]:
    """Warn about each `reads` glob that no step owns and no file under the root matches.

    Such a glob usually has a typo, or names files that a step writes without
    declaring them in `owns`. The compiler leaves this check to its callers
    because it reads nothing but the spec.
    """
    root = Path(compiled.plan.root)
    steps = compiled.plan.by_name if compiled.unowned_reads else {}
    warnings = []
    for site in compiled.unowned_reads:
        # Steps never see parc's own files, whichever commands ran before.
        if first_match(root, site.glob, skip=cache.STATE_DIR) is not None:
            continue
        help = (
            "fix the glob, create the file, or add the glob to the `owns` "
            "of the step that writes it"
        )
        cwd = steps[site.step].cwd
        if cwd != ".":
            # A glob written relative to the step's `cwd` is the usual cause.
            help = (
                f"globs are relative to the spec's directory, not to `cwd`: "
                f"write `{cwd}/{site.glob}`"
            )
        warnings.append(
            Diagnostic(
                Codes.UNMATCHED_READS,
                f"`{site.step}` reads `{site.glob}`, but no file matches it and no step owns it",
                compiled.source,
                site.span,
                primary_label="matches nothing",
                help=help,
            )
        )
    return warnings


def select(plan: Plan, targets: Sequence[str]) -> Plan:
    """Restrict the plan to the targets, or to the defaults, and what they need.

    Raises:
        click.exceptions.Exit: a target is not a step; the error is printed.
    """
    names = plan.by_name
    unknown = [target for target in targets if target not in names]
    if unknown:
        for target in unknown:
            close = closest_name(target, names)
            diagnostic = Diagnostic(
                Codes.UNKNOWN_TARGET,
                f"no step named `{target}` in {plan.spec}",
                help=(
                    f"did you mean `{close}`?"
                    if close is not None
                    else "run `parc list` to see every step"
                ),
            )
            print_diagnostics([diagnostic])
        raise click.exceptions.Exit(EXIT_USAGE)
    wanted = list(targets) or list(plan.defaults)
    return plan.closure(wanted) if wanted else plan
