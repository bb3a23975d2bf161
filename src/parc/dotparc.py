"""parc's own directory, `.parc/` under the project root, shared by the CLI and the runtime."""

from __future__ import annotations

import os
from pathlib import Path

GITIGNORE_NAME = ".gitignore"
GITIGNORE_TEXT = "# parc keeps its state and logs here; none of it belongs in version control.\n*\n"


def make_state_directory(directory: Path) -> None:
    """Create parc's directory if it is missing, with a `.gitignore` that ignores all of it.

    The `.gitignore` is written whenever it is missing, so a `.parc/` that an
    older parc created gets one too. One that the user edited stays as it
    is. It is written under a temporary name and then hard-linked into
    place, so it appears whole or not at all, and a link that another parc
    made first wins.

    Raises:
        OSError: the directory or the file cannot be created.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / GITIGNORE_NAME
    if path.exists():
        return
    temporary = directory / f".{GITIGNORE_NAME}.{os.getpid()}.tmp"
    try:
        temporary.write_text(GITIGNORE_TEXT, encoding="utf-8")
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
