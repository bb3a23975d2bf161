"""Finding and reading the spec file, without click or the compiler.

The no-op build (`parc.cli.noop`) runs before click is imported, so what it
shares with the other commands lives here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from parc.cli.errors import UserError

SPEC_NAME = "build.par"
OVERRIDE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)=(.*)\Z", re.DOTALL)
"""A `NAME=VALUE` override on the command line."""


def find_spec(file: str | None, start: Path | None = None) -> Path:
    """Return the spec to use: `file`, or the nearest `build.par` upward from `start`.

    Raises:
        UserError: there is no such file.
    """
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise UserError(f"spec file `{file}` not found")
        return path
    directory = (start or Path.cwd()).resolve()
    for candidate in (directory, *directory.parents):
        path = candidate / SPEC_NAME
        if path.is_file():
            return path
    raise UserError(
        f"no `{SPEC_NAME}` in {directory} or any parent directory; "
        f"run `parc init` to write a starter spec, or name a spec with `-f FILE`"
    )


def display_name(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return relative if not relative.startswith("../../..") else str(path.resolve())


def read_spec(path: Path) -> tuple[bytes, str]:
    """Read a spec file; return its bytes and its text.

    Raises:
        UserError: the file cannot be read, or is not UTF-8.
    """
    name = display_name(path)
    try:
        data = path.read_bytes()
        return data, data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"`{name}` is not UTF-8 text: {error.reason} at byte {error.start}"
        ) from None
    except OSError as error:
        raise UserError(f"cannot read `{name}`: {error.strerror}") from None
