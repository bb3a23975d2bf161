"""The `parc` command line.

This is the only module that prints diagnostics and chooses exit codes:
0 success, 1 a step failed or timed out, 2 an invalid spec or usage,
128 + N when signal N interrupted the build (130 for Ctrl-C), 3 a bug in parc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from parc.cli import logs
from parc.cli.errors import EXIT_INTERNAL, EXIT_USAGE, UserError

if TYPE_CHECKING:
    import click

    from parc.cli.group import cli

__all__ = ["cli", "main"]


def __getattr__(name: str) -> object:
    # The command group imports click and every command, which a no-op build does without.
    if name == "cli":
        from parc.cli.group import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the command line and exit with its code."""
    _open_standard_streams()
    logs.start(os.environ.get("PARC_LOG", "WARNING"))
    arguments = list(argv) if argv is not None else sys.argv[1:]
    try:
        code = _noop_build(arguments)
        if code is None:
            logs.configure()
            code = _run_commands(arguments)
    except KeyboardInterrupt as error:
        code = _interrupted(error)
    except BrokenPipeError:
        # The reader of our output went away, as with `parc plan | head`.
        _silence_stdout()
        code = 1
    except Exception:  # a bug in parc: show the traceback and ask for a report
        import traceback

        traceback.print_exc()
        _print_error(
            "parc: internal error; this is a bug in parc. "
            "Please report it with the spec that triggered it."
        )
        code = EXIT_INTERNAL
    except BaseExceptionGroup as group:
        # trio wraps what its tasks raised. Handlers keep SIGINT, SIGTERM and
        # SIGHUP from raising during a build, so this is the last guard.
        interrupt = group.subgroup(KeyboardInterrupt)
        if interrupt is None:
            raise
        code = _interrupted(_first_leaf(interrupt))
    try:
        _flush()
    except KeyboardInterrupt as error:
        code = _interrupted(error)
    if argv is None:  # the process ends here; a caller that passes `argv` may go on
        _ignore_signals_at_exit()
    sys.exit(code)


def _ignore_signals_at_exit() -> None:
    """Ignore SIGINT, SIGTERM and SIGHUP while the interpreter shuts down.

    Everything is written and every process has ended by now. Python resets
    the signals that have handlers to their default action while it shuts
    down, so a signal then would kill parc without the exit code chosen
    above, and what shuts down takes tens of milliseconds.
    """
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_IGN)


def _interrupted(error: BaseException) -> int:
    """Say that a signal stopped parc; return its exit code, 128 + the signal."""
    signum = getattr(error, "signum", signal.SIGINT)
    with contextlib.suppress(OSError, ValueError):
        _print_error(f"parc: interrupted by {signal.Signals(signum).name}")
    return 128 + signum


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _noop_build(arguments: list[str]) -> int | None:
    """Run `parc build` as a no-op build if it is one; None when the commands must run it."""
    if arguments[:1] != ["build"]:
        return None
    from parc.cli.noop import try_build

    return try_build(arguments[1:])


def _run_commands(arguments: list[str]) -> int:
    """Run the command that `arguments` name through click; return its exit code.

    Raises:
        KeyboardInterrupt, BrokenPipeError: as the command raised them.
    """
    import click

    from parc.cli.group import cli

    try:
        code = cli.main(args=arguments, prog_name="parc", standalone_mode=False)
    except click.exceptions.Abort as error:
        # click turns a KeyboardInterrupt, and so a signal before the build, into Abort.
        cause = error.__cause__
        code = _interrupted(cause if isinstance(cause, KeyboardInterrupt) else error)
    except click.UsageError as error:
        click.echo(_usage_error(error), err=True)
        code = EXIT_USAGE
    except click.ClickException as error:
        click.echo(f"parc: error: {_sentence(error.format_message())}", err=True)
        code = EXIT_USAGE if error.exit_code == 2 else error.exit_code
    except UserError as error:
        click.echo(f"parc: error: {error}", err=True)
        code = EXIT_USAGE
    return code if isinstance(code, int) else 0


def _print_error(text: str) -> None:
    """Print a line on stderr, as `click.echo(text, err=True)` does for plain text."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _open_standard_streams() -> None:
    """Point a closed stdin, stdout or stderr at /dev/null.

    Started as `parc >&-`, parc would otherwise fail on its first write, and a
    step's first opened file would take the free descriptor and receive what
    the step prints.
    """
    for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, mode)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
    if sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            if stream is sys.stdout:
                _silence_stdout()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def _usage_error(error: click.UsageError) -> str:
    """Format a usage error of click as parc's errors read, followed by the command's usage."""
    lines = [f"parc: error: {_sentence(error.format_message())}"]
    context = error.ctx
    if context is not None:
        lines.append(context.get_usage())
        lines.append(f"Run `{context.command_path} --help` for its options.")
    else:
        lines.append("Run `parc --help` for the commands and their options.")
    return "\n".join(lines)


def _sentence(message: str) -> str:
    """Start click's message in lower case, as parc's messages are, unless it starts with a name."""
    if message[:1].isupper() and message[1:2].islower():
        return message[0].lower() + message[1:]
    return message
