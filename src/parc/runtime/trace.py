"""The timeline of a build in the Chrome trace event format, for Perfetto and chrome://tracing.

The file is the format's JSON object form: `traceEvents` plus `otherData`.
Times are microseconds from the start of the build. Each job slot is a
thread (`tid` = slot + 1) named `slot N`, and every step that started is one
complete event (`ph: X`) on the lane of its slot, with its status, command,
attempts, exit code and reason in `args`. Lane 0, `build`, holds one event
for the whole build. Steps that never started (blocked, cancelled before
their start, not requested) have no lane; `otherData.not_started` lists
them with their status. Up-to-date steps ran no command, so they are left
out of the timeline too, where they would be events of zero length;
`otherData.up_to_date` counts them.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parc.plan import Plan
from parc.runtime.scheduler import Status

if TYPE_CHECKING:
    from parc.runtime.executor import BuildResult

PROCESS_ID = 1
BUILD_LANE = 0

# Colour names that chrome://tracing knows (its reserved `cname` values);
# Perfetto picks its own colours and ignores them.
_COLOURS = {
    Status.SUCCEEDED: "good",
    Status.FAILED: "terrible",
    Status.TIMED_OUT: "terrible",
    Status.NOT_STARTED: "terrible",
    Status.CANCELLED: "yellow",
}


def _microseconds(seconds: float) -> float:
    return round(seconds * 1_000_000, 3)


def trace_events(plan: Plan, result: BuildResult, started: float) -> dict[str, Any]:
    """Return the build as a trace: one lane per job slot, one complete event per started step.

    `started` is the wall-clock time (seconds since the epoch) when the
    build began; it goes into `otherData` only.
    """
    origin = result.started
    events: list[dict[str, Any]] = [
        _metadata("process_name", BUILD_LANE, name=f"parc build {plan.spec}"),
        _metadata("thread_name", BUILD_LANE, name="build"),
        _metadata("thread_sort_index", BUILD_LANE, sort_index=BUILD_LANE),
        {
            "name": "build",
            "cat": "build",
            "ph": "X",
            "ts": 0,
            "dur": _microseconds(result.ended - origin),
            "pid": PROCESS_ID,
            "tid": BUILD_LANE,
            "args": {"exit_code": result.exit_code},
        },
    ]

    drawn = {
        name: r
        for name, r in result.results.items()
        if r.started is not None
        and r.ended is not None
        and r.slot is not None
        and r.verdict.status is not Status.UP_TO_DATE
    }
    slots = sorted({r.slot for r in drawn.values() if r.slot is not None})
    for slot in slots:
        events.append(_metadata("thread_name", slot + 1, name=f"slot {slot + 1}"))
        events.append(_metadata("thread_sort_index", slot + 1, sort_index=slot + 1))

    not_started: dict[str, str] = {}
    for name, step_result in result.results.items():
        status = step_result.verdict.status
        if name not in drawn:
            if step_result.started is None and status is not Status.NOT_REQUESTED:
                not_started[name] = status.value
            continue
        assert step_result.started is not None and step_result.slot is not None
        step = step_result.step
        args: dict[str, Any] = {
            "status": status.value,
            "command": "\n".join(step.commands),
            "attempts": step_result.attempts,
            "exit_code": step_result.exit.returncode if step_result.exit is not None else None,
        }
        if step_result.verdict.reason:
            args["reason"] = step_result.verdict.reason
        event: dict[str, Any] = {
            "name": name,
            "cat": f"{step.kind},{status.value}",
            "ph": "X",
            "ts": _microseconds(step_result.started - origin),
            "dur": _microseconds(step_result.duration),
            "pid": PROCESS_ID,
            "tid": step_result.slot + 1,
            "args": args,
        }
        if status in _COLOURS:
            event["cname"] = _COLOURS[status]
        events.append(event)

    moment = datetime.datetime.fromtimestamp(started, tz=datetime.UTC)
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "spec": plan.spec,
            "root": plan.root,
            "started": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "exit_code": result.exit_code,
            "slots": len(slots),
            "not_started": not_started,
            "up_to_date": result.count(Status.UP_TO_DATE),
        },
    }


def _metadata(kind: str, lane: int, **args: Any) -> dict[str, Any]:
    return {"name": kind, "ph": "M", "pid": PROCESS_ID, "tid": lane, "args": args}


def write_trace(path: Path, plan: Plan, result: BuildResult, started: float) -> None:
    """Write the trace of `result` to `path`, replacing it whole or not at all.

    Raises:
        OSError: the file cannot be written.
    """
    data = trace_events(plan, result, started)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as stream:
            json.dump(data, stream, ensure_ascii=False)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:  # leave no temporary file behind, whatever went wrong
        temporary.unlink(missing_ok=True)
        raise
