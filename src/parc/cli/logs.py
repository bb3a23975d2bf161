"""parc's log on stderr, set up only when a message can be shown.

`PARC_LOG` names the level, WARNING when unset or not a level. Importing
`logging` takes about a tenth of a no-op build, so `start` sets the log up
at once only for a level that shows more than warnings. Otherwise the
first warning sets it up, or `configure` does before a command runs
through click. Until then no debug message could be shown, so `debug`
drops them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

_VERBOSE_LEVELS = ("INFO", "DEBUG", "NOTSET")
"""The level names of `logging` below WARNING."""

_level = "WARNING"
_configured = False


def start(level: str) -> None:
    """Take the level for this run of `main`, and set the log up now if it shows debug or info."""
    global _level, _configured
    _level = level
    _configured = False
    if level.upper() in _VERBOSE_LEVELS:
        configure()


def configure() -> None:
    """Send the log to the current stderr at the level `start` was given."""
    global _configured
    if _configured:
        return
    import logging

    root = logging.getLogger()
    # Tests call `main` many times in one process, with stderr swapped each
    # time: keep one handler and point it at the current stderr.
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and isinstance(
            handler.formatter, _formatter_class()
        ):
            handler.setStream(sys.stderr)
            break
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_formatter_class()())
        root.addHandler(handler)
    chosen = logging.getLevelName(_level.upper())
    root.setLevel(chosen if isinstance(chosen, int) else logging.WARNING)
    _configured = True


def debug(name: str, message: str, *args: object) -> None:
    """Log a debug message to logger `name`, if the log is set up."""
    if _configured:
        import logging

        logging.getLogger(name).debug(message, *args)


def warning(name: str, message: str, *args: object) -> None:
    """Log a warning to logger `name`, setting the log up first."""
    configure()
    import logging

    logging.getLogger(name).warning(message, *args)


_formatter: type[logging.Formatter] | None = None


def _formatter_class() -> type[logging.Formatter]:
    """Return the formatter of parc's log, made once, when `logging` is imported."""
    global _formatter
    if _formatter is None:
        import logging

        class LogFormatter(logging.Formatter):
            """Format warnings like parc's other messages, and debug lines with their logger."""

            def format(self, record: logging.LogRecord) -> str:
                message = record.getMessage()
                if record.levelno >= logging.WARNING:
                    return f"parc: {record.levelname.lower()}: {message}"
                return f"{record.name}: {message}"

        _formatter = LogFormatter
    return _formatter
