"""`parc build`: run the plan."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parc.cli.common import load, select, split_arguments
from parc.cli.complete import complete_arguments
from parc.cli.errors import EXIT_OK, UserError
from parc.plan import Plan
from parc.render import use_color

if TYPE_CHECKING:
    from parc.runtime import BuildResult, OutputMode
    from parc.runtime.progress import Progress

_EPILOG = """\b
Examples:
  parc build                      build the default steps (or every step)
  parc build -j 4 cli docs        build `cli` and `docs` and what they need, 4 at a time
  parc build -j                   run as many steps at once as the dependencies allow
  parc build cc=clang             override `let cc` for this build
  parc build -n                   print the commands without running them
  parc build --explain            say why each step runs or is up to date
  parc build -n --explain         say why each step would run, and run nothing
  parc build --progress plain     print plain lines, even on a terminal
  parc build --trace build.json   write a timeline for Perfetto or chrome://tracing
  parc report                     turn the last build into an HTML page
"""


NO_LIMIT = 0
"""The `--jobs` value for no limit, which a bare `-j` means."""

_AFTER_BARE_JOBS = "parc.build.after_bare_jobs"
"""The `click.Context.meta` key of the words that follow a bare `-j`."""


def _jobs_default() -> int:
    return os.cpu_count() or 1


class _BuildCommand(click.Command):
    """`parc build`, whose `-j` takes the next word only when it is a number, as make's does.

    With `flag_value`, click lets `-j` go without a value only before
    another option or at the end, and takes any other next word as its
    value, so `parc build -j cli` would fail on `cli`. So each `-j` is
    rewritten first: a bare one to `--jobs=0`, and `-j N` to `--jobs=N`,
    which also reports a negative N as an invalid value rather than as an
    unknown option.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags: set[str] = set()
        takes_value: set[str] = set()
        jobs: click.Parameter | None = None
        for param in self.get_params(ctx):
            if param.name == "jobs":
                jobs = param
            elif isinstance(param, click.Option):
                names = param.opts + param.secondary_opts
                if param.is_flag:
                    flags.update(name[1] for name in names if len(name) == 2)
                else:
                    takes_value.update(names)
        rewritten, after_bare = _attach_jobs(args, "".join(sorted(flags)), takes_value)
        # `parc build -j abc` reads `abc` as a target, as make does; when no
        # step has that name, `build` reports a bad number of jobs instead.
        ctx.meta[_AFTER_BARE_JOBS] = after_bare

        # click reads a value that starts with `-` as the next option, even
        # after `=`, so a negative count is rejected here.
        options = rewritten[: rewritten.index("--")] if "--" in rewritten else rewritten
        for word in options:
            if word.startswith("--jobs=-"):
                value = word.removeprefix("--jobs=")
                raise click.BadParameter(f"{value} is not in the range x>=0.", ctx, jobs)
        return super().parse_args(ctx, rewritten)


def _attach_jobs(args: list[str], flags: str, takes_value: set[str]) -> tuple[list[str], set[str]]:
    """Write each `-j` as `--jobs=N`: N is the next word if it is a number, else NO_LIMIT.

    `flags` are the letters of the short flags that may come before `j` in
    one word, as in `-kj`. A word after an option that takes a value is
    that value, and `--` ends the options. Also returns the words that
    follow a bare `-j` and may be targets: no option and no `NAME=VALUE`.
    """
    after_bare: set[str] = set()
    jobs = re.compile(f"(-[{re.escape(flags)}]*)j")
    number = re.compile(r"-?[0-9]")
    rewritten: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word == "--":
            rewritten.extend(args[index - 1 :])
            break
        match = jobs.fullmatch(word)
        if match is None or (rewritten and rewritten[-1] in takes_value):
            rewritten.append(word)
            continue
        if match.group(1) != "-":
            rewritten.append(match.group(1))  # the flags before `j`
        if index < len(args) and number.match(args[index]):
            rewritten.append(f"--jobs={args[index]}")
            index += 1
        else:
            rewritten.append(f"--jobs={NO_LIMIT}")
            following = args[index] if index < len(args) else "-"
            if not following.startswith("-") and "=" not in following:
                after_bare.add(following)
    return rewritten, after_bare


@click.command(cls=_BuildCommand, epilog=_EPILOG)
@click.argument(
    "arguments",
    nargs=-1,
    metavar="[TARGET ...] [NAME=VALUE ...]",
    shell_complete=complete_arguments,
)
@click.option(
    "-B",
    "--force",
    is_flag=True,
    help="Run every step, even one that is up to date.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Print on stderr why each step runs or is up to date (with -n: would run).",
)
@click.option(
    "-f",
    "--file",
    "file",
    metavar="FILE",
    help="The spec to build [default: build.par, searched upward].",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Time between forwarding a signal to running commands and killing them.",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="After SECONDS without a step starting or ending, list the steps still running; "
    "0 turns this off.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    is_flag=False,
    flag_value=NO_LIMIT,
    default=None,
    metavar="[N]",
    help="Run at most N steps at once; -j without N, or N = 0, means no limit "
    "[default: number of CPUs].",
    # A target may follow a bare `-j`, so its completions are those of the targets.
    shell_complete=complete_arguments,
)
@click.option(
    "-k",
    "--keep-going",
    is_flag=True,
    help="After a failure, still run every step whose dependencies succeeded.",
)
@click.option(
    "-n",
    "--dry-run",
    is_flag=True,
    help="Print the commands of the steps that would run (with -B: of every step), "
    "and run nothing.",
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Fail at once when another parc is building this project, instead of waiting.",
)
@click.option(
    "--output",
    "output",
    type=click.Choice(["grouped", "prefixed", "raw", "none"]),
    default=None,
    help="Print each step's output as one block when the step ends (grouped), line by "
    "line as it comes with or without the step's name in front (prefixed, raw), or not "
    "at all but a failed step's last lines (none) [default: none with live or quiet "
    "progress; otherwise prefixed on a terminal, grouped elsewhere].",
)
@click.option(
    "--progress",
    type=click.Choice(["auto", "live", "plain", "quiet"]),
    default="auto",
    show_default=True,
    help="Show a live view of the running steps (live), a line per start and end (plain), "
    "or only failures and the result (quiet); auto is live on a terminal, and plain "
    "with TERM=dumb, with CI set, or into a pipe or file.",
)
@click.option(
    "--trace",
    "trace",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the build's timeline to FILE in the Chrome trace event format, one lane "
    "per job slot (open it in Perfetto or chrome://tracing).",
)
def build(
    arguments: tuple[str, ...],
    force: bool,
    explain: bool,
    file: str | None,
    grace: float,
    heartbeat: float,
    jobs: int | None,
    keep_going: bool,
    dry_run: bool,
    no_wait: bool,
    output: str | None,
    progress: str,
    trace: str | None,
) -> int:
    """Build the named steps and everything they run after.

    Without targets, parc builds the spec's `default` steps, or every step if
    it has no `default` line. `NAME=VALUE` overrides the variable NAME. A step
    with `reads` and `owns` is skipped while nothing it depends on changed
    since its last success; `--explain` says why each step runs.
    """
    targets, overrides = split_arguments(arguments)
    compiled = load(file, overrides)
    after_jobs = click.get_current_context().meta.get(_AFTER_BARE_JOBS, set())
    for target in targets:
        if target in after_jobs and target not in compiled.plan.by_name:
            raise click.UsageError(
                f"-j expects a number of jobs, got `{target}`; write `-j 4`, "
                "or `-j` alone to run as many steps at once as the dependencies allow"
            )
    plan = select(compiled.plan, targets)

    if dry_run:
        from parc.cli.dry_run import dry_run_text
        from parc.cli.incremental import predict_runs

        click.echo(dry_run_text(plan, predict_runs(plan, force, explain)), nl=False)
        return EXIT_OK

    from parc.cli.incremental import run_incremental
    from parc.runtime import Options, run_plan
    from parc.runtime.interrupts import guard_signals

    slots = _jobs_default() if jobs is None else (jobs or None)
    options = Options(
        jobs=slots,
        keep_going=keep_going,
        grace=grace,
        requested=frozenset(step.name for step in plan.steps),
        heartbeat=heartbeat or None,
    )
    shown, mode = _choose_display(progress, output)
    trace_path = _check_trace_path(trace)
    sys.stdout.flush()

    # The whole plan runs, so the steps outside the targets end as not requested.
    def run(options: Options) -> BuildResult:
        started = time.time()
        result = run_plan(
            compiled.plan,
            options,
            sys.stdout.buffer,
            mode=mode,
            color=use_color(sys.stdout),
            progress=shown,
        )
        if trace_path is not None:
            _write_trace(trace_path, compiled.plan, result, started)
        return result

    # Until `run_plan` arms it, the guard turns a signal into `Interrupted`,
    # so Ctrl-C still gives up waiting for the lock. From then on, through
    # the writing of the state and the report, it only records signals.
    with guard_signals():
        return run_incremental(
            compiled.plan, options, run, force=force, explain=explain, wait=not no_wait
        )


def _choose_display(progress: str, output: str | None) -> tuple[Progress, OutputMode]:
    """Resolve `--progress auto` and the default of `--output` for this stdout.

    Raises:
        UserError: quiet progress with an output mode that prints lines as they come.
    """
    from parc.runtime import OutputMode
    from parc.runtime.progress import Progress, default_output_mode, resolve_progress

    isatty = sys.stdout.isatty()
    shown = resolve_progress(Progress(progress), isatty, os.environ)
    mode = OutputMode(output) if output is not None else default_output_mode(shown, isatty)
    if shown is Progress.QUIET and mode in (OutputMode.PREFIXED, OutputMode.RAW):
        raise UserError(
            f"`--output {mode.value}` prints every line as it comes, which `--progress quiet` "
            "hides; use `--output grouped` or `--output none` with it"
        )
    return shown, mode


def _check_trace_path(trace: str | None) -> Path | None:
    """Reject a trace file whose directory is missing before the build, not after it.

    Raises:
        UserError: the directory of the trace file does not exist.
    """
    if trace is None:
        return None
    path = Path(trace)
    if not path.parent.is_dir():
        raise UserError(
            f"cannot write the trace `{trace}`: directory `{path.parent}` does not exist; "
            "create it or name another file"
        )
    return path


def _write_trace(path: Path, plan: Plan, result: BuildResult, started: float) -> None:
    """Write the trace; a failure is reported but leaves the build's exit code alone."""
    from parc.runtime.trace import write_trace

    try:
        write_trace(path, plan, result, started)
    except OSError as error:
        click.echo(f"parc: cannot write the trace `{path}`: {error.strerror}", err=True)
