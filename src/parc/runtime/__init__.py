"""The runtime: runs an execution plan with real processes on trio.

It knows nothing of `.par` syntax: a `Plan` is all it needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import trio

from parc.plan import Plan, PlanStep
from parc.runtime.commands import ProcessRunner
from parc.runtime.executor import BuildResult, Options, StepResult, execute
from parc.runtime.logs import StepLog
from parc.runtime.report import OutputMode, PlainReporter, Reporter
from parc.runtime.scheduler import Status, Verdict

__all__ = [
    "BuildResult",
    "Options",
    "OutputMode",
    "Status",
    "StepResult",
    "Verdict",
    "log_path",
    "run_plan",
]

STATE_DIR = ".parc"


def log_path(root: Path, step: str) -> Path:
    """Return where the log of `step` goes: `.parc/logs/<step>.log` under the root."""
    return root / STATE_DIR / "logs" / f"{step}.log"


def run_plan(
    plan: Plan,
    options: Options,
    out: BinaryIO,
    mode: OutputMode = OutputMode.GROUPED,
    color: bool = False,
    reporter: Reporter | None = None,
) -> BuildResult:
    """Run `plan` with real processes and report to `out`; return how each step ended."""
    root = Path(plan.root)
    runner = ProcessRunner(root, dict(os.environ), options.grace)
    shown = reporter if reporter is not None else PlainReporter(out, mode, color, str(root))

    def open_log(step: PlanStep) -> StepLog:
        def forward(data: bytes) -> None:
            shown.step_output(step, data)

        return StepLog(log_path(root, step.name), on_output=forward)

    return trio.run(execute, plan, runner, shown, options, open_log)
