"""The build report: `.parc/last-build.json`, written after every build.

It holds each step's status, exit code, attempts, start and end times (UTC,
ISO 8601), log path and the reasons it ran, was skipped, failed or was
blocked. It is written to a temporary file and renamed over the old report,
so a reader sees either the old report or the new one, never a part.

A build that ends by an error inside parc (such as a closed output pipe) has
no `BuildResult`. Its report is then made from what the gate saw, and
`complete` is false.

The report follows the JSON Schema shipped in the package as
`parc/schema/last_build.schema.json` (`json_schema` reads it).
"""

from __future__ import annotations

import datetime
import json
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parc.dotparc import make_state_directory

if TYPE_CHECKING:
    from parc.plan import Plan, PlanStep
    from parc.runtime.executor import BuildResult, StepResult
    from parc.runtime.state.gate import Decision

LAST_BUILD_NAME = "last-build.json"
REPORT_ENCODER = json.JSONEncoder(ensure_ascii=False)
"""One encoder for every line: `json.dumps` with options makes a new one per call."""
REPORT_VERSION = 1


def build_report(
    plan: Plan,
    result: BuildResult | None,
    decisions: Mapping[str, Decision],
    recorded: Mapping[str, StepResult],
    wall_offset: float | None,
    started: float,
    ended: float,
    exit_code: int | None,
) -> dict[str, Any]:
    """Return the report of one build as JSON-compatible data.

    `result` is None when the build ended early by an error in parc; then
    `recorded` (the results the gate saw) fills in. `wall_offset` converts
    trio's clock to the wall clock; `started` and `ended` are wall-clock
    seconds, used only when there is no result to take the span from.
    The report's `duration` is the span that the terminal summary shows,
    so that `parc report` computes the same numbers from it.
    """
    root = Path(plan.root)
    steps = []
    for step in plan.steps:
        decision = decisions.get(step.name)
        if result is not None:
            outcome = result.results.get(step.name)
        else:
            outcome = recorded.get(step.name) or _unfinished(step, decision)
        steps.append(_step_report(outcome, decision, wall_offset, root))
    interrupted = result.interrupted_by if result is not None else None
    if result is not None and wall_offset is not None:
        started = wall_offset + result.started
        ended = wall_offset + result.ended
        duration = result.ended - result.started
    else:
        duration = ended - started
    return {
        "version": REPORT_VERSION,
        "spec": plan.spec,
        "root": plan.root,
        "started": iso_time(started),
        "ended": iso_time(ended),
        "duration": round(max(duration, 0.0), 6),
        "exit_code": exit_code,
        "interrupted_by": signal.Signals(interrupted).name if interrupted else None,
        "complete": result is not None,
        "steps": steps,
    }


def _unfinished(step: PlanStep, decision: Decision | None) -> StepResult:
    """Describe a step that the gate saw start but not end, or never saw."""
    from parc.runtime.executor import StepResult
    from parc.runtime.scheduler import Status, Verdict

    if decision is not None and not decision.runs:
        return StepResult(step, Verdict(Status.UP_TO_DATE, decision.reason))
    if decision is not None:
        return StepResult(step, Verdict(Status.CANCELLED, "parc stopped before the step ended"))
    return StepResult(step, Verdict(Status.CANCELLED, "parc stopped before the step started"))


def _step_report(
    outcome: StepResult | None,
    decision: Decision | None,
    wall_offset: float | None,
    root: Path,
) -> dict[str, Any]:
    from parc.runtime.scheduler import Status

    assert outcome is not None
    status = outcome.verdict.status
    reason = outcome.verdict.reason or None
    log = outcome.log_path
    return {
        "name": outcome.step.name,
        "status": status.value,
        "exit_code": outcome.exit.returncode if outcome.exit is not None else None,
        "attempts": outcome.attempts,
        "started": _trio_time(outcome.started, wall_offset),
        "ended": _trio_time(outcome.ended, wall_offset),
        "duration": round(outcome.duration, 6),
        "log": _relative(log, root) if log is not None else None,
        "run_reason": decision.reason if decision is not None and decision.runs else None,
        "skip_reason": reason if status is Status.UP_TO_DATE else None,
        "reason": reason if status not in (Status.SUCCEEDED, Status.UP_TO_DATE) else None,
    }


def _trio_time(value: float | None, wall_offset: float | None) -> str | None:
    if value is None or wall_offset is None:
        return None
    return iso_time(value + wall_offset)


def iso_time(seconds: float) -> str:
    """Format wall-clock seconds as the report does: UTC, ISO 8601, milliseconds."""
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _format(report: Mapping[str, Any]) -> str:
    """Format the report as JSON with one step per line.

    This reads well and is fast: `json.dumps` without `indent` runs in C,
    which matters for a build of thousands of steps.
    """
    head = {key: value for key, value in report.items() if key != "steps"}
    return format_report(head, [REPORT_ENCODER.encode(step) for step in report["steps"]])


def format_report(head: Mapping[str, Any], lines: list[str]) -> str:
    """Format the report's fields other than `steps`, then each step's encoded line."""
    text = REPORT_ENCODER.encode(head)[:-1]
    body = ",\n  ".join(lines)
    return f'{text}, "steps": [\n  {body}\n]}}\n' if lines else f'{text}, "steps": []}}\n'


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema that the report follows, as shipped in the package."""
    from importlib import resources

    text = resources.files("parc").joinpath("schema/last_build.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def write_last_build(directory: Path, report: Mapping[str, Any]) -> Path:
    """Write the report to `directory/last-build.json` atomically; return its path.

    Raises:
        OSError: the file cannot be written.
    """
    return write_report_text(directory, _format(report))


def write_report_text(directory: Path, text: str) -> Path:
    """Write a report's text, as `format_report` returns it, like `write_last_build`.

    Raises:
        OSError: the file cannot be written.
    """
    if "PARC_TEST_PAUSE_AT" in os.environ:
        # Imported here only: a no-op build writes this report, and must not
        # import the signal handling that it does not need.
        from parc.runtime.interrupts import pause_for_tests

        pause_for_tests("last-build")
    path = directory / LAST_BUILD_NAME
    temporary = directory / f".{LAST_BUILD_NAME}.{os.getpid()}.tmp"
    make_state_directory(directory)
    try:
        with temporary.open("w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:  # leave no temporary file behind, whatever went wrong
        temporary.unlink(missing_ok=True)
        raise
    return path
