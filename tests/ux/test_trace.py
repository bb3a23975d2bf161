"""`parc build --trace`: a Chrome trace event file with one lane per job slot."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = json.loads((Path(__file__).parent / "trace_event.schema.json").read_text())

SPEC = """\
track fetch {
    run "sleep 0.2"
}
track lint {
    run "sleep 0.1"
    run "echo bad; exit 4"
}
track docs {
    run "sleep 0.3"
}
track lib {
    after fetch
    run "sleep 0.2"
}
integrate release {
    after lib, lint, docs
    run "true"
}
"""

# Colour names that chrome://tracing reserves; the trace uses only these.
KNOWN_COLOURS = {"good", "grey", "terrible", "yellow"}


def build_with_trace(root: Path, *arguments: str) -> tuple[int, dict[str, Any]]:
    env = dict(os.environ, NO_COLOR="1")
    env.pop("PARC_STEP", None)
    completed = subprocess.run(
        [sys.executable, "-m", "parc", "build", "--trace", "trace.json", *arguments],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert completed.stderr == ""
    return completed.returncode, json.loads((root / "trace.json").read_text())


def complete_events(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in trace["traceEvents"] if e["ph"] == "X" and e["tid"] != 0}


def test_trace_is_valid_with_one_lane_per_slot(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(SPEC)
    code, trace = build_with_trace(tmp_path, "-k", "-j", "2")
    assert code == 1
    jsonschema.validate(trace, SCHEMA)

    steps = complete_events(trace)
    assert set(steps) == {"fetch", "lint", "docs", "lib"}
    assert {event["tid"] for event in steps.values()} <= {1, 2}
    lanes = {
        e["tid"]: e["args"]["name"]
        for e in trace["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name"
    }
    assert lanes == {0: "build", 1: "slot 1", 2: "slot 2"}

    # Events on one lane never overlap, so each lane shows one step at a time.
    for lane in (1, 2):
        spans = sorted((e["ts"], e["ts"] + e["dur"]) for e in steps.values() if e["tid"] == lane)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start

    build = next(e for e in trace["traceEvents"] if e["ph"] == "X" and e["tid"] == 0)
    for event in steps.values():
        assert event["ts"] >= 0
        assert event["ts"] + event["dur"] <= build["dur"]
        assert event.get("cname") in KNOWN_COLOURS

    assert steps["lint"]["args"] == {
        "status": "failed",
        "command": "sleep 0.1\necho bad; exit 4",
        "attempts": 1,
        "exit_code": 4,
        "reason": "exit code 4",
    }
    assert steps["lint"]["cat"] == "track,failed"
    assert steps["lib"]["args"]["status"] == "succeeded"
    assert steps["lib"]["ts"] >= steps["fetch"]["ts"] + steps["fetch"]["dur"]
    assert trace["otherData"]["not_started"] == {"release": "blocked"}
    assert trace["otherData"]["exit_code"] == 1
    assert build["args"] == {"exit_code": 1}


def test_unlimited_jobs_reuse_the_lowest_lane(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(SPEC)
    _, trace = build_with_trace(tmp_path, "-k", "-j", "0")
    jsonschema.validate(trace, SCHEMA)
    steps = complete_events(trace)
    # A step takes the lowest free slot: at most fetch, lint and docs are
    # ready at once, and lib takes fetch's slot, 0, the lowest, when fetch ends.
    assert {event["tid"] for event in steps.values()} <= {1, 2, 3}
    assert steps["fetch"]["tid"] == 1
    assert steps["lib"]["tid"] == steps["fetch"]["tid"]


def test_trace_into_missing_directory_is_rejected_first(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text('track one {\n    run "touch ran"\n}\n')
    completed = subprocess.run(
        [sys.executable, "-m", "parc", "build", "--trace", "no/such/dir/t.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "directory `no/such/dir` does not exist" in completed.stderr
    assert not (tmp_path / "ran").exists()


def test_up_to_date_steps_are_counted_not_drawn(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(
        'track made {\n    reads "in.txt"\n    owns "out.txt"\n    run "cp in.txt out.txt"\n}\n'
        'track always {\n    run "true"\n}\n'
    )
    (tmp_path / "in.txt").write_text("x\n")
    code, first = build_with_trace(tmp_path, "-j", "1")
    assert code == 0
    assert set(complete_events(first)) == {"made", "always"}
    assert first["otherData"]["up_to_date"] == 0

    code, second = build_with_trace(tmp_path, "-j", "1")
    assert code == 0
    jsonschema.validate(second, SCHEMA)
    assert set(complete_events(second)) == {"always"}
    assert second["otherData"]["up_to_date"] == 1
    assert second["otherData"]["not_started"] == {}
    assert second["otherData"]["slots"] == 1
