"""`parc report`: the HTML page, loaded in headless Chromium to check what it draws."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from parc.plan import PlanStep
from parc.runtime.executor import BuildResult, StepResult
from parc.runtime.html_report import MAX_TICKS, STATUS_COLOURS, axis_ticks, gantt_svg
from parc.runtime.scheduler import Status, Verdict
from parc.runtime.seconds import format_seconds

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install -y chromium)"
)

SPEC = """\
track fetch {
    run "sleep 0.3"
}
track lib {
    after fetch
    run "sleep 0.6"
}
track lint {
    run "sleep 0.2; exit 1"
}
track docs {
    run "sleep 0.2"
}
integrate release {
    after lib, lint, docs
    run "true"
}
"""

# Runs in the page after it loads, and records where the browser drew each
# bar, node and edge, so the test reads the layout rather than the markup.
MEASURE = """
<script>
const box = (element) => {
  const r = element.getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height,
          fill: getComputedStyle(element).fill};
};
const measured = {
  bars: [...document.querySelectorAll('#gantt g.bar')].map((g) => ({
    step: g.dataset.step, status: g.dataset.status, ...box(g.querySelector('rect'))})),
  nodes: [...document.querySelectorAll('#graph-svg g.node')].map((g) => ({
    step: g.dataset.step, status: g.dataset.status, ...box(g.querySelector('rect'))})),
  edges: [...document.querySelectorAll('#graph-svg path.edge')].map((p) => ({
    from: p.dataset.from, to: p.dataset.to, length: p.getTotalLength()})),
  rows: document.querySelectorAll('table tbody tr').length,
};
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify(measured);
document.body.append(pre);
</script>
"""


def parc(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1")
    env.pop("PARC_STEP", None)
    return subprocess.run(
        [sys.executable, "-m", "parc", *arguments],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "build.par").write_text(SPEC)
    assert parc(tmp_path, "build", "-k", "-j", "2").returncode == 1
    completed = parc(tmp_path, "report")
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "parc: wrote .parc/report.html\n"
    return tmp_path


def chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_page_is_self_contained(built: Path) -> None:
    page = (built / ".parc" / "report.html").read_text()
    assert "<script" not in page
    assert "<link" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert not re.search(r"url\((https?:)?//", page)
    assert 'href="logs/lint.log"' in page


@needs_chromium
def test_chromium_draws_gantt_and_graph(built: Path, tmp_path: Path) -> None:
    page = (built / ".parc" / "report.html").read_text()
    measured_page = tmp_path / "measured.html"
    measured_page.write_text(page.replace("</body>", MEASURE + "</body>"))
    completed = chromium(tmp_path / "profile", "--dump-dom", measured_page.as_uri())
    found = re.search(r'<pre id="measured">(.*?)</pre>', completed.stdout, re.S)
    assert found is not None, completed.stderr[-2000:]
    measured: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    recorded = json.loads((built / ".parc" / "last-build.json").read_text())
    durations = {step["name"]: step["duration"] for step in recorded["steps"]}

    # One bar per step that started, each as long as its step took.
    bars = {bar["step"]: bar for bar in measured["bars"]}
    assert set(bars) == {"fetch", "lib", "lint", "docs"}
    per_second = bars["lib"]["width"] / durations["lib"]
    for name, bar in bars.items():
        assert bar["height"] > 0
        assert bar["width"] == pytest.approx(durations[name] * per_second, rel=0.02, abs=1.5)
    assert bars["lib"]["x"] >= bars["fetch"]["x"] + bars["fetch"]["width"] - 1
    assert bars["lint"]["fill"] == "rgb({}, {}, {})".format(*rgb(STATUS_COLOURS[Status.FAILED]))
    assert bars["lib"]["fill"] == "rgb({}, {}, {})".format(*rgb(STATUS_COLOURS[Status.SUCCEEDED]))
    rows = sorted(bars.values(), key=lambda bar: bar["y"])
    assert [bar["y"] for bar in rows] == sorted({bar["y"] for bar in rows})  # a row each

    # The graph: every step a node, levels from left to right, every edge drawn.
    nodes = {node["step"]: node for node in measured["nodes"]}
    assert set(nodes) == {"fetch", "lib", "lint", "docs", "release"}
    assert nodes["fetch"]["x"] < nodes["lib"]["x"] < nodes["release"]["x"]
    assert nodes["lint"]["x"] == nodes["fetch"]["x"]
    assert nodes["release"]["status"] == "blocked"
    edges = {(edge["from"], edge["to"]): edge["length"] for edge in measured["edges"]}
    assert set(edges) == {
        ("fetch", "lib"),
        ("lib", "release"),
        ("lint", "release"),
        ("docs", "release"),
    }
    assert all(length > 10 for length in edges.values())
    assert measured["rows"] == 5


@needs_chromium
def test_screenshot_shows_status_colours(built: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    page = (built / ".parc" / "report.html").as_uri()
    completed = chromium(
        tmp_path / "profile", f"--screenshot={shot}", "--window-size=1100,900", page
    )
    assert shot.exists(), completed.stderr[-2000:]
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    counts = {colour: count for count, colour in colours}
    for status in (Status.SUCCEEDED, Status.FAILED, Status.BLOCKED):
        # A bar or node is hundreds of pixels of its colour; the legend swatch alone is 100.
        assert counts.get(rgb(STATUS_COLOURS[status]), 0) > 300, status


def test_report_to_stdout_and_missing_build(tmp_path: Path, built: Path) -> None:
    completed = parc(built, "report", "-o", "-")
    assert completed.returncode == 0
    assert completed.stdout.startswith("<!DOCTYPE html>")
    assert 'data-step="lint" data-status="failed"' in completed.stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "build.par").write_text(SPEC)
    completed = parc(empty, "report")
    assert completed.returncode == 2
    assert "no build is recorded in" in completed.stderr
    assert "run `parc build` first" in completed.stderr


def test_damaged_report_is_named(built: Path) -> None:
    (built / ".parc" / "last-build.json").write_text('{"version": 1, "steps": [')
    completed = parc(built, "report")
    assert completed.returncode == 2
    assert "is not valid JSON" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_backticks_become_code(built: Path) -> None:
    page = (built / ".parc" / "report.html").read_text()
    assert "`" not in page
    assert "<td><code>lint</code> failed</td>" in page

    # Tooltips show plain text, so there the name is quoted instead.
    step = PlanStep("gen", "track", 0, ("true",))
    verdict = Verdict(Status.NOT_STARTED, "directory `gen` does not exist")
    result = BuildResult({"gen": StepResult(step, verdict, 1, None, 0.0, 0.1)}, 0.0, 0.1)
    gantt = gantt_svg(result)
    assert "`" not in gantt
    assert "could not start, 0.10s (directory \u2018gen\u2019 does not exist)</title>" in gantt


@given(st.floats(min_value=0.0, max_value=1e7, allow_nan=False))
def test_axis_ticks_have_distinct_labels(span: float) -> None:
    ticks = axis_ticks(span)
    labels = [label for _, label in ticks]
    assert len(set(labels)) == len(labels)
    assert 1 <= len(ticks) <= MAX_TICKS + 1
    assert ticks[0] == (0.0, labels[0])
    assert ticks[-1][0] <= span + 1e-6
    if len(ticks) > 1:
        assert ticks[1][0] >= span / MAX_TICKS  # never more than MAX_TICKS intervals


def test_gantt_leaves_out_up_to_date_steps(tmp_path: Path) -> None:
    spec = 'track made {\n    reads "in.txt"\n    owns "out.txt"\n    run "cp in.txt out.txt"\n}\n'
    (tmp_path / "build.par").write_text(spec + 'track always {\n    run "sleep 0.1"\n}\n')
    (tmp_path / "in.txt").write_text("x\n")
    assert parc(tmp_path, "build").returncode == 0
    assert parc(tmp_path, "build").returncode == 0
    page = parc(tmp_path, "report", "-o", "-").stdout
    gantt = page[page.index('<svg id="gantt"') : page.index("</svg>")]
    assert 'data-step="always"' in gantt
    assert 'data-step="made"' not in gantt
    assert "1 succeeded, 1 up to date in " in page
    assert '<tr data-step="made">' in page


def test_report_numbers_match_terminal_summary(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(
        'track a { run "sleep 0.05" }\n'
        'track b { run "sleep 0.07" }\n'
        'track c { run "sleep 0.03" }\n'
        'integrate d { run "true" }\n'
    )
    built = parc(tmp_path, "build", "-j", "2", "--progress", "plain")
    assert built.returncode == 0, built.stderr
    total = re.search(r"^parc: 4 succeeded in (\S+)$", built.stdout, re.MULTILINE)
    assert total is not None, built.stdout
    saved = re.search(r"at once saved (\d+%|nothing)", built.stdout)
    assert saved is not None, built.stdout

    recorded = json.loads((tmp_path / ".parc" / "last-build.json").read_text())
    assert format_seconds(recorded["duration"]) == total.group(1)

    page = parc(tmp_path, "report", "-o", "-")
    assert page.returncode == 0, page.stderr
    assert f"<li>4 succeeded in {total.group(1)}</li>" in page.stdout
    assert f"at once saved {saved.group(1)}" in page.stdout


def test_interrupted_report_leaves_out_saving(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(
        'track a { run "sleep 0.05" }\ntrack b { run "sleep 0.05" }\n'
    )
    assert parc(tmp_path, "build", "-j", "2").returncode == 0
    path = tmp_path / ".parc" / "last-build.json"
    recorded = json.loads(path.read_text())
    assert "saved" in parc(tmp_path, "report", "-o", "-").stdout

    recorded["interrupted_by"] = "SIGINT"
    path.write_text(json.dumps(recorded))
    page = parc(tmp_path, "report", "-o", "-")
    assert page.returncode == 0, page.stderr
    assert "interrupted by SIGINT" in page.stdout
    assert "saved" not in page.stdout
    assert "critical path:" not in page.stdout
