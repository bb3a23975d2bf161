"""The runtime: runs an execution plan with real processes on trio.

It knows nothing of `.par` syntax: a `Plan` is all it needs.

The names below are imported on first use, so that `parc.runtime.state` and
the no-op build can be imported without trio and the executor.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from parc.lazy import lazy_names

if TYPE_CHECKING:
    from parc.runtime.executor import BuildResult, Options, StepGate, StepResult
    from parc.runtime.progress import Progress
    from parc.runtime.report import OutputMode
    from parc.runtime.run import run_plan
    from parc.runtime.scheduler import Order, Status, Verdict

__all__ = [
    "BuildResult",
    "Options",
    "Order",
    "OutputMode",
    "Progress",
    "Status",
    "StepGate",
    "StepResult",
    "Verdict",
    "log_path",
    "run_plan",
]

STATE_DIR = ".parc"

_LAZY = {
    "BuildResult": "parc.runtime.executor",
    "Options": "parc.runtime.executor",
    "StepGate": "parc.runtime.executor",
    "StepResult": "parc.runtime.executor",
    "Progress": "parc.runtime.progress",
    "OutputMode": "parc.runtime.report",
    "run_plan": "parc.runtime.run",
    "Order": "parc.runtime.scheduler",
    "Status": "parc.runtime.scheduler",
    "Verdict": "parc.runtime.scheduler",
}


__getattr__ = lazy_names(__name__, _LAZY, globals())


def log_path(root: Path, step: str) -> Path:
    """Return where the log of `step` goes: `.parc/logs/<step>.log` under the root."""
    return logs_directory(root) / f"{step}.log"


def logs_directory(root: Path) -> Path:
    return root / STATE_DIR / "logs"
