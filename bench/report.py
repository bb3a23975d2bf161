"""The results as Markdown and JSON, and the machine they were measured on."""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from bench.suite import CRITICAL_PATH, ComparisonResult, RatioResult
from bench.timing import BenchError

BEGIN_MARKER = "<!-- bench:results:begin -->"
END_MARKER = "<!-- bench:results:end -->"
MEGABYTE = 1024 * 1024


def _first_line(argv: Sequence[str], cwd: Path | None = None) -> str:
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (completed.stdout or completed.stderr).strip()
    return text.splitlines()[0] if completed.returncode == 0 and text else "unknown"


def _proc_field(path: str, field: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError:
        return "unknown"
    match = re.search(rf"^{re.escape(field)}\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def describe_machine(parc: Sequence[str], repository: Path) -> dict[str, str]:
    """Return the facts that make a run reproducible: hardware, versions, parc's commit."""
    memory = _proc_field("/proc/meminfo", "MemTotal")
    if memory.endswith(" kB") and memory[:-3].isdigit():
        memory = f"{int(memory[:-3]) / MEGABYTE:.0f} GiB"
    commit = _first_line(["git", "rev-parse", "--short", "HEAD"], repository)
    # `_first_line` returns "unknown" for empty output, which here means a clean tree.
    changed = _first_line(["git", "status", "--porcelain", "--untracked-files=no"], repository)
    if commit != "unknown" and changed != "unknown":
        commit += " with uncommitted changes"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _proc_field("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "memory": memory,
        "system": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "parc": f"{_first_line([*parc, '--version'])} at commit {commit}",
        "make": _first_line(["/usr/bin/make", "--version"]),
        "ninja": f"ninja {_first_line(['/usr/bin/ninja', '--version'])}",
        "hyperfine": _first_line(["hyperfine", "--version"]),
    }


# Markdown.


def _ratio_text(result: RatioResult) -> str:
    low, high = min(result.ratios), max(result.ratios)
    return f"{result.median:.2f} ({low:.2f}-{high:.2f})"


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: ""}[met]


def _targets_table(results: Sequence[ComparisonResult]) -> list[str]:
    lines = [
        "| benchmark | target | measured: median of rounds (min-max) | met |",
        "| --- | --- | --- | --- |",
    ]
    for result in results:
        where = f"{result.benchmark}, {result.name}"
        for ratio in result.ratios:
            if ratio.limit is None:
                continue
            goal = f"{ratio.numerator} / {ratio.denominator} <= {ratio.limit:.2f}"
            lines.append(f"| {where} | {goal} | {_ratio_text(ratio)} | {_verdict(ratio.met)} |")
        for memory in result.memory:
            goal = f"peak memory of {memory.tool} <= {memory.limit / MEGABYTE:.0f} MB"
            measured = f"{memory.peak_rss / MEGABYTE:.0f} MB"
            lines.append(f"| {where} | {goal} | {measured} | {_verdict(memory.met)} |")
    return lines


def _comparison_section(result: ComparisonResult, description: str) -> list[str]:
    subject = result.tools[0].label
    load = f"{result.load_before[0]:.2f} before, {result.load_after[0]:.2f} after"
    lines = [
        f"### {result.benchmark}, {result.name}",
        "",
        f"{description}. {result.steps:,} steps, {result.runs} "
        f"round{'s' if result.runs != 1 else ''}; 1-minute load average {load}.",
    ]
    if result.note:
        lines += ["", result.note[0].upper() + result.note[1:] + "."]
    if result.critical_path is not None:
        lines += ["", f"Critical path of the designed durations: {result.critical_path:.3f} s."]
    ratio_header = f"{subject} / tool"
    lines += [
        "",
        f"| tool | command | wall s: median (min-max) | CPU s | peak RSS MB | {ratio_header} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for tool in result.tools:
        walls = tool.walls
        ratio = "" if tool.label == subject else _ratio_text(result.ratio(subject, tool.label))
        lines.append(
            f"| {tool.label} | `{tool.command}` | {tool.median:.3f} "
            f"({min(walls):.3f}-{max(walls):.3f}) | {tool.cpu_median:.2f} "
            f"| {tool.peak_rss / MEGABYTE:.1f} | {ratio} |"
        )
    if result.critical_path is not None:
        parts = [
            f"{tool.label} {_ratio_text(result.ratio(tool.label, CRITICAL_PATH))}"
            for tool in result.tools
        ]
        lines += ["", f"Wall time / critical path: {'; '.join(parts)}."]
    return lines


def markdown(
    results: Sequence[ComparisonResult],
    descriptions: dict[str, str],
    machine: dict[str, str],
    command: str,
) -> str:
    """Render one run: the machine, the targets with their measured ratios, then each comparison.

    `descriptions` maps each benchmark name to a sentence about its graph.
    """
    lines = [
        f"Measured on {machine['date']} with `{command}`.",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, "
        f"{machine['system']}, Python {machine['python']}.",
        f"- Tools: {machine['parc']}; {machine['make']}; {machine['ninja']}; "
        f"{machine['hyperfine']}.",
        "",
        "Ratios are taken within a round (one run of each tool, back to back) and "
        "summarised by their median. CPU is the median user plus system time of the "
        "tool and its children. Peak RSS is the largest process of the tree, from "
        "the last warm-up run.",
        "",
        "### Targets",
        "",
        *_targets_table(results),
    ]
    for result in results:
        lines += ["", *_comparison_section(result, descriptions.get(result.benchmark, ""))]
    return "\n".join(lines) + "\n"


def update_document(path: Path, text: str) -> None:
    """Replace the text between the result markers of the page at `path`.

    Raises:
        BenchError: the page cannot be read or has no pair of markers.
    """
    try:
        page = path.read_text()
    except OSError as error:
        raise BenchError(f"cannot read {path}: {error.strerror}") from None
    begin = page.find(BEGIN_MARKER)
    end = page.find(END_MARKER)
    if begin < 0 or end < begin:
        raise BenchError(
            f"{path} has no `{BEGIN_MARKER}` line followed by an `{END_MARKER}` line; "
            "add both where the results belong"
        )
    start = begin + len(BEGIN_MARKER)
    path.write_text(page[:start] + "\n" + text + page[end:])


def to_json(results: Sequence[ComparisonResult], machine: dict[str, str], command: str) -> str:
    def convert(value: Any) -> Any:
        return attrs.asdict(value) if attrs.has(type(value)) else value

    data = {
        "command": command,
        "machine": machine,
        "results": [convert(result) for result in results],
    }
    return json.dumps(data, indent=2) + "\n"
