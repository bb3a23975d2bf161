"""`parc report`: the last build as one self-contained HTML page.

The page reads nothing from the network: its styles are inline and its two
pictures are SVG drawn here. The Gantt chart has one row per step that
started, on a time axis from the start of the build; the graph shows the
plan's steps in levels from left to right, each coloured by how it ended,
with the critical path in bold. A table below lists every step.

The input is `.parc/last-build.json` (see `parc.runtime.state.last_build`)
and the plan compiled from the current spec, which gives the dependencies.
A step the report names but the spec no longer has is still drawn in the
Gantt chart and listed; it has no place in the graph.
"""

from __future__ import annotations

import datetime
import html
import itertools
import json
import math
import os
import re
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from parc.plan import Plan, PlanStep
from parc.runtime.executor import BuildResult, StepResult
from parc.runtime.report import format_seconds
from parc.runtime.scheduler import Status, Verdict
from parc.runtime.summary import BuildSummary, format_saving, summarize

SUPPORTED_VERSION = 1

STATUS_COLOURS = {
    Status.SUCCEEDED: "#2f9e44",
    Status.UP_TO_DATE: "#8ccf9c",
    Status.FAILED: "#e03131",
    Status.TIMED_OUT: "#f76707",
    Status.NOT_STARTED: "#ae3ec9",
    Status.CANCELLED: "#f0b400",
    Status.BLOCKED: "#868e96",
    Status.NOT_REQUESTED: "#dee2e6",
}

# Fills dark enough that a step's name reads better in white on them.
_DARK_FILLS = {Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.NOT_STARTED}
_LIGHT_TEXT = ' style="fill:#fff"'

ROW_HEIGHT = 22
BAR_HEIGHT = 14
CHART_WIDTH = 960
CHAR_WIDTH = 7.2
"""Width in pixels of one character of the 12px monospace font, to size labels and boxes."""


class ReportError(ValueError):
    """The build report cannot be read or has a form this parc does not know."""


def load_last_build(path: Path) -> dict[str, Any]:
    """Read `.parc/last-build.json`.

    Raises:
        ReportError: it is missing, is not JSON, or has an unknown version.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"no build is recorded in `{path}`; run `parc build` first") from None
    except OSError as error:
        raise ReportError(f"cannot read `{path}`: {error.strerror}") from None
    try:
        report = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(
            f"`{path}` is not valid JSON ({error.msg} at line {error.lineno}); "
            "run `parc build` to write it again"
        ) from None
    if not isinstance(report, dict) or report.get("version") != SUPPORTED_VERSION:
        version = report.get("version") if isinstance(report, dict) else None
        raise ReportError(
            f"`{path}` has report version {version!r}, and this parc reads version "
            f"{SUPPORTED_VERSION}; run `parc build` to write it again"
        )
    return report


def _seconds(stamp: str | None) -> float | None:
    if stamp is None:
        return None
    moment = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.timestamp()


def build_result(report: Mapping[str, Any], plan: Plan) -> BuildResult:
    """Rebuild the results of the recorded build, with times in seconds from its start.

    Raises:
        ReportError: a step has a status or a time this parc does not know.
    """
    by_name = plan.by_name
    try:
        origin = _seconds(report["started"]) or 0.0
        # The recorded span is what the terminal summary showed; the
        # millisecond stamps of older reports are the fallback.
        end = report.get("duration")
        if not isinstance(end, int | float):
            end = (_seconds(report["ended"]) or origin) - origin
        results: dict[str, StepResult] = {}
        for index, entry in enumerate(report["steps"]):
            name = entry["name"]
            step = by_name.get(name) or PlanStep(name, "track", len(by_name) + index, ())
            started = _seconds(entry.get("started"))
            ended = _seconds(entry.get("ended"))
            duration = entry.get("duration")
            if started is not None and ended is not None and isinstance(duration, int | float):
                ended = started + duration  # the measured duration, not rounded to stamps
            results[name] = StepResult(
                step,
                Verdict(
                    Status(entry["status"]), entry.get("reason") or entry.get("skip_reason") or ""
                ),
                int(entry.get("attempts") or 0),
                None,
                None if started is None else started - origin,
                None if ended is None else ended - origin,
            )
    except (KeyError, TypeError, ValueError) as error:
        raise ReportError(
            f"the build report has an entry this parc cannot read ({error}); "
            "run `parc build` to write it again"
        ) from None
    return BuildResult(results, 0.0, end, _signal_number(report.get("interrupted_by")))


def _signal_number(name: object) -> int | None:
    """Return the number of a signal named as the report names it, such as `SIGINT`."""
    if not isinstance(name, str) or name not in signal.Signals.__members__:
        return None
    return int(signal.Signals[name])


# The page.


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #212529; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.facts { color: #495057; margin: 0; padding: 0; list-style: none; }
.facts li { margin: 2px 0; }
svg text { font: 12px ui-monospace, monospace; fill: #212529; }
svg .axis { stroke: #ced4da; }
svg .edge { fill: none; stroke: #adb5bd; stroke-width: 1.2; }
svg .edge.critical { stroke: #212529; stroke-width: 2.4; }
svg .node rect { stroke: #495057; stroke-width: 1; }
svg .node.critical rect { stroke-width: 2.6; stroke: #212529; }
table { border-collapse: collapse; margin-top: 4px; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
td.number { text-align: right; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
.legend span { margin-right: 14px; white-space: nowrap; }
code { font: 12px ui-monospace, monospace; background: #f1f3f5; padding: 0 3px; }
"""


def render_report(report: Mapping[str, Any], plan: Plan, log_base: Path | None = None) -> str:
    """Render the page. `log_base` is the directory the page is written to, for links to logs.

    Raises:
        ReportError: the report cannot be read.
    """
    result = build_result(report, plan)
    summary = summarize(result)
    critical = [step.name for step in summary.critical_path]
    title = f"parc build of {report.get('spec', plan.spec)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_text(title)}</h1>",
        _facts(report, result, summary),
        _legend(),
        '<h2 id="timeline">Timeline</h2>',
        gantt_svg(result),
        '<h2 id="graph">Plan</h2>',
        graph_svg(plan, result, critical),
        '<h2 id="steps">Steps</h2>',
        _table(report, result, Path(str(report.get("root", plan.root))), log_base),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


# parc's messages quote names Markdown-style, in backticks: `lint` failed.
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _marked_up(message: str) -> str:
    """Escape a message for HTML text, with each `name` in backticks set as <code>."""
    return _CODE_SPAN.sub(r"<code>\1</code>", _text(message))


def _tooltip(message: str) -> str:
    """Escape a message for a tooltip, which shows plain text: each `name` in quotes."""
    return _text(_CODE_SPAN.sub("\u2018\\1\u2019", message))


def _facts(report: Mapping[str, Any], result: BuildResult, summary: BuildSummary) -> str:
    counts = [f"{result.count(status)} {status.value}" for status in Status if result.count(status)]
    facts = [
        f"started {report.get('started')}, exit code {report.get('exit_code')}",
        f"{', '.join(counts) or 'no steps'} in {format_seconds(summary.wall)}",
        f"sum of step times {format_seconds(summary.step_time)}",
    ]
    if summary.peak > 1 and not summary.interrupted:
        facts.append(format_saving(summary))
    if report.get("interrupted_by"):
        facts.append(f"interrupted by {report['interrupted_by']}")
    if summary.critical_path:
        chain = " -> ".join(
            f"{step.name} {format_seconds(step.duration)}" for step in summary.critical_path
        )
        facts.append(f"critical path: {chain}")
    items = "".join(f"<li>{_marked_up(fact)}</li>" for fact in facts)
    return f'<ul class="facts">{items}</ul>'


def _legend() -> str:
    spans = [
        f'<span><i class="swatch" style="background:{colour}"></i>{_text(status.value)}</span>'
        for status, colour in STATUS_COLOURS.items()
    ]
    return f'<p class="legend">{"".join(spans)}</p>'


MAX_TICKS = 8
# Tick spacings in seconds: 1, 2 and 5 times a power of ten below a minute,
# then the usual divisions of minutes, hours and days.
_SUBSECOND_STEPS = [factor * 10.0**power for power in range(-3, 0) for factor in (1, 2, 5)]
_TICK_STEPS = [
    *_SUBSECOND_STEPS,
    *(1, 2, 5, 10, 15, 30),
    *(60 * minutes for minutes in (1, 2, 5, 10, 15, 30)),
    *(3600 * hours for hours in (1, 2, 3, 6, 12, 24, 48, 120, 240)),
]


def axis_ticks(span: float) -> list[tuple[float, str]]:
    """Return the ticks of a time axis from 0 to `span` seconds: at most about 9, labels distinct.

    The spacing is the smallest of `_TICK_STEPS` that gives at most
    `MAX_TICKS` intervals, and each label has just the precision that the
    spacing needs (`0.05s`, `2s`, `1m30s`, `2h00m`), so no two are equal.
    """
    wanted = max(span, 0.0) / MAX_TICKS
    step = next((candidate for candidate in _TICK_STEPS if candidate >= wanted), None)
    if step is None:
        day = 86400.0
        step = day * 10 ** math.ceil(math.log10(wanted / day))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    count = int(span / step + 1e-9)
    return [(number * step, _tick_label(number * step, decimals)) for number in range(count + 1)]


def _tick_label(seconds: float, decimals: int) -> str:
    if decimals:
        return f"{seconds:.{decimals}f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def gantt_svg(result: BuildResult) -> str:
    """Draw one row per step that ran: a bar from its start to its end, coloured by status.

    Up-to-date steps ran nothing, so they have no bar; the facts count them.
    """
    rows = sorted(
        (
            r
            for r in result.results.values()
            if r.started is not None
            and r.ended is not None
            and r.verdict.status is not Status.UP_TO_DATE
        ),
        key=lambda r: (r.started, r.step.index),
    )
    label_width = min(300, max((len(r.step.name) for r in rows), default=4) * CHAR_WIDTH + 16)
    plot_left = label_width
    plot_width = CHART_WIDTH - plot_left - 70
    span = max(result.ended - result.started, max((r.ended or 0 for r in rows), default=0), 1e-3)
    scale = plot_width / span
    height = 30 + ROW_HEIGHT * max(len(rows), 1)
    out = [
        f'<svg id="gantt" xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" role="img" '
        f'aria-label="Timeline of the build">'
    ]
    for tick, label in axis_ticks(span):
        x = plot_left + tick * scale
        out.append(
            f'<line class="axis" x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{height}"/>'
            f'<text x="{x:.1f}" y="12" text-anchor="middle">{_text(label)}</text>'
        )
    for index, row in enumerate(rows):
        assert row.started is not None and row.ended is not None
        y = 24 + index * ROW_HEIGHT
        x = plot_left + row.started * scale
        width = max(row.duration * scale, 1.0)
        status = row.verdict.status
        tooltip = f"{row.step.name}: {status.value}, {format_seconds(row.duration)}"
        if row.verdict.reason:
            tooltip += f" ({row.verdict.reason})"
        out.append(
            f'<g class="bar" data-step="{_text(row.step.name)}" '
            f'data-status="{_text(status.value)}">'
            f"<title>{_tooltip(tooltip)}</title>"
            f'<text x="{plot_left - 8:.1f}" y="{y + BAR_HEIGHT - 3}" text-anchor="end">'
            f"{_text(row.step.name)}</text>"
            f'<rect x="{x:.2f}" y="{y}" width="{width:.2f}" height="{BAR_HEIGHT}" rx="2" '
            f'fill="{STATUS_COLOURS[status]}"/>'
            f'<text x="{x + width + 4:.1f}" y="{y + BAR_HEIGHT - 3}">'
            f"{_text(format_seconds(row.duration))}</text></g>"
        )
    if not rows:
        out.append('<text x="10" y="40">no step ran a command</text>')
    out.append("</svg>")
    return "".join(out)


@attrs.frozen
class _Box:
    x: float
    y: float
    width: float


NODE_HEIGHT = 26
LEVEL_GAP = 60
NODE_GAP = 14


def layout_graph(plan: Plan) -> dict[str, _Box]:
    """Place each step in the column of its level, ordered to keep edges short.

    Within a level, steps sit in the order of the mean position of the
    steps they run after (one sweep from left to right), ties in spec order.
    """
    levels = plan.levels()
    by_name = plan.by_name
    position: dict[str, float] = {}
    ordered: list[list[str]] = []
    for level in levels:

        def key(name: str) -> tuple[float, int]:
            before = [position[d] for d in by_name[name].after if d in position]
            centre = sum(before) / len(before) if before else -1.0
            return (centre, by_name[name].index)

        column = sorted(level, key=key)
        for rank, name in enumerate(column):
            position[name] = float(rank)
        ordered.append(column)

    boxes: dict[str, _Box] = {}
    x = 10.0
    for column in ordered:
        width = max((len(name) for name in column), default=1) * CHAR_WIDTH + 20
        for rank, name in enumerate(column):
            boxes[name] = _Box(x, 10 + rank * (NODE_HEIGHT + NODE_GAP), width)
        x += width + LEVEL_GAP
    return boxes


def graph_svg(plan: Plan, result: BuildResult, critical: Sequence[str]) -> str:
    """Draw the plan's steps in levels with their dependencies, coloured by how each ended."""
    boxes = layout_graph(plan)
    on_path = set(critical)
    path_edges = set(itertools.pairwise(critical))
    width = max((box.x + box.width for box in boxes.values()), default=100) + 10
    height = max((box.y + NODE_HEIGHT for box in boxes.values()), default=40) + 10
    out = [
        f'<svg id="graph-svg" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="The plan\'s steps and dependencies">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0L10,5L0,10z" fill="#495057"/></marker></defs>',
    ]
    for step in plan.steps:
        target = boxes[step.name]
        for dependency in step.after:
            source = boxes.get(dependency)
            if source is None:
                continue
            x1, y1 = source.x + source.width, source.y + NODE_HEIGHT / 2
            x2, y2 = target.x, target.y + NODE_HEIGHT / 2
            middle = (x1 + x2) / 2
            kind = "edge critical" if (dependency, step.name) in path_edges else "edge"
            out.append(
                f'<path class="{kind}" data-from="{_text(dependency)}" '
                f'data-to="{_text(step.name)}" '
                f'd="M{x1:.1f},{y1:.1f} C{middle:.1f},{y1:.1f} {middle:.1f},{y2:.1f} '
                f'{x2:.1f},{y2:.1f}" marker-end="url(#arrow)"/>'
            )
    for step in plan.steps:
        box = boxes[step.name]
        outcome = result.results.get(step.name)
        status = outcome.verdict.status if outcome is not None else Status.NOT_REQUESTED
        kind = "node critical" if step.name in on_path else "node"
        tooltip = f"{step.name}: {status.value}"
        if step.desc:
            tooltip += f", {step.desc}"
        out.append(
            f'<g class="{kind}" data-step="{_text(step.name)}" data-status="{_text(status.value)}">'
            f"<title>{_tooltip(tooltip)}</title>"
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
            f'height="{NODE_HEIGHT}" rx="5" fill="{STATUS_COLOURS[status]}"/>'
            f'<text x="{box.x + box.width / 2:.1f}" y="{box.y + 17:.1f}" text-anchor="middle"'
            f"{_LIGHT_TEXT if status in _DARK_FILLS else ''}>"
            f"{_text(step.name)}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def _table(
    report: Mapping[str, Any], result: BuildResult, root: Path, log_base: Path | None
) -> str:
    rows = [
        "<table><thead><tr><th>step</th><th>status</th><th>duration</th><th>attempts</th>"
        "<th>reason</th><th>log</th></tr></thead><tbody>"
    ]
    entries = {entry["name"]: entry for entry in report.get("steps", [])}
    for name, outcome in result.results.items():
        entry = entries.get(name, {})
        status = outcome.verdict.status
        reason = entry.get("reason") or entry.get("skip_reason") or entry.get("run_reason") or ""
        duration = format_seconds(outcome.duration) if outcome.started is not None else "-"
        log = entry.get("log")
        link = ""
        if log:
            target = root / log
            href = os.path.relpath(target, log_base) if log_base is not None else str(target)
            link = f'<a href="{_text(Path(href).as_posix())}">{_text(log)}</a>'
        rows.append(
            f'<tr data-step="{_text(name)}"><td>{_text(name)}</td>'
            f'<td><i class="swatch" style="background:{STATUS_COLOURS[status]}"></i>'
            f"{_text(status.value)}</td>"
            f'<td class="number">{_text(duration)}</td>'
            f'<td class="number">{outcome.attempts}</td><td>{_marked_up(reason)}</td>'
            f"<td>{link}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "".join(rows)
