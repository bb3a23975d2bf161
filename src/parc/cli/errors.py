"""Exit codes and the error type for mistakes in how parc was called."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """A usage problem with a message that says what to do, such as a missing spec."""
