"""Incremental builds: the state under `.parc/`, fingerprints, the lock and `parc clean`.

`parc build` takes the project lock, opens the state store, and hands the
executor an `IncrementalGate`, which skips the steps that are up to date and
records how the others end. After the build, `.parc/last-build.json`
reports every step.
"""

from __future__ import annotations

from pathlib import Path

from parc.runtime import STATE_DIR
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


def state_directory(root: Path) -> Path:
    """Return the directory of parc's state for the project at `root`."""
    return root / STATE_DIR
