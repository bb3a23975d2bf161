"""`.parc/last-build.json`: one entry per step, valid against its schema."""

from __future__ import annotations

from typing import Any

import jsonschema

from parc.runtime.state.last_build import json_schema

from .conftest import Project

SCHEMA = json_schema()

SPEC = """\
track ok {
    reads "in.txt"
    owns "ok.txt"
    run "cp in.txt ok.txt"
}

track broken after ok {
    reads "ok.txt"
    owns "broken.txt"
    retries 1
    run "echo trying && exit 3"
}

track blocked after broken { run "true" }
"""


def _steps(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in report["steps"]}


def test_report_after_failing_build(project: Project) -> None:
    project.spec(SPEC)
    project.write("in.txt", "x\n")
    assert project.build().code == 1
    report = project.last_build()
    jsonschema.validate(report, SCHEMA)
    assert report["exit_code"] == 1
    assert report["complete"] is True
    steps = _steps(report)

    ok = steps["ok"]
    assert ok["status"] == "succeeded"
    assert ok["exit_code"] == 0
    assert ok["attempts"] == 1
    assert ok["log"] == ".parc/logs/ok.log"
    assert ok["run_reason"] == "no earlier success is recorded"
    assert ok["started"] <= ok["ended"]

    broken = steps["broken"]
    assert broken["status"] == "failed"
    assert broken["exit_code"] == 3
    assert broken["attempts"] == 2
    assert broken["reason"] == "exit code 3"
    assert "trying" in (project.root / broken["log"]).read_text()

    blocked = steps["blocked"]
    assert blocked["status"] == "blocked"
    assert blocked["reason"] == "`broken` failed"
    assert blocked["started"] is None


def test_report_names_skip_reasons(project: Project) -> None:
    project.spec(SPEC)
    project.write("in.txt", "x\n")
    project.build()
    project.build("ok")
    report = project.last_build()
    jsonschema.validate(report, SCHEMA)
    statuses = {step["name"]: step["status"] for step in report["steps"]}
    assert statuses == {"ok": "up to date", "broken": "not requested", "blocked": "not requested"}
    ok = report["steps"][0]
    assert ok["status"] == "up to date"
    assert ok["skip_reason"] == "unchanged since its last success (1 input, 1 output)"
    assert ok["run_reason"] is None
    assert ok["reason"] is None
    assert ok["attempts"] == 0
