"""Incremental builds: the state under `.parc/`, fingerprints, the lock and `parc clean`.

`parc build` takes the project lock, opens the state store, and hands the
executor an `IncrementalGate`, which skips the steps that are up to date and
records how the others end. After the build, `.parc/last-build.json`
reports every step.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from parc.lazy import lazy_names
from parc.runtime import STATE_DIR

if TYPE_CHECKING:
    from parc.runtime.state.gate import Decision, IncrementalGate
    from parc.runtime.state.last_build import build_report, write_last_build
    from parc.runtime.state.lock import LockBusy, ProjectLock
    from parc.runtime.state.store import DATABASE_NAME, StateError, StateStore

__all__ = [
    "DATABASE_NAME",
    "Decision",
    "IncrementalGate",
    "LockBusy",
    "ProjectLock",
    "StateError",
    "StateStore",
    "build_report",
    "state_directory",
    "write_last_build",
]


# Imported on first use, so that the lock and the store load without trio.
_LAZY = {
    "DATABASE_NAME": "parc.runtime.state.store",
    "Decision": "parc.runtime.state.gate",
    "IncrementalGate": "parc.runtime.state.gate",
    "LockBusy": "parc.runtime.state.lock",
    "ProjectLock": "parc.runtime.state.lock",
    "StateError": "parc.runtime.state.store",
    "StateStore": "parc.runtime.state.store",
    "build_report": "parc.runtime.state.last_build",
    "write_last_build": "parc.runtime.state.last_build",
}


__getattr__ = lazy_names(__name__, _LAZY, globals())


def state_directory(root: Path) -> Path:
    """Return the directory of parc's state for the project at `root`."""
    return root / STATE_DIR
