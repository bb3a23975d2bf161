"""`parc plan` in every format, run as the installed command would be."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pydot
import pytest

from parc.plan import Plan

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "specs" / "c-calc" / "build.par"


DIAMOND = """\
track base {
    desc "the \\"base\\" library"
    run "b"
}
track left after base {
    run "l"
}
track right after base {
    run "r"
}
track deep after left {
    run "d"
}
integrate ship {
    run "s"
}
"""


def run_plan(*arguments: str, cwd: Path = REPOSITORY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parc", "plan", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def diamond(tmp_path: Path) -> Path:
    spec = tmp_path / "build.par"
    spec.write_text(DIAMOND, encoding="utf-8")
    return spec


def test_json_plan_of_example_follows_schema() -> None:
    completed = run_plan("-f", str(EXAMPLE), "--format", "json")
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    jsonschema.validate(data, Plan.json_schema())
    assert data["version"] == 1
    assert [step["name"] for step in data["steps"]] == ["lib", "cli", "tests", "docs", "release"]


def test_json_plan_of_targets_keeps_their_dependencies() -> None:
    completed = run_plan("-f", str(EXAMPLE), "--format", "json", "cli")
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    jsonschema.validate(data, Plan.json_schema())
    assert [step["name"] for step in data["steps"]] == ["lib", "cli"]


def test_text_plan_shows_width_and_speedup(diamond: Path) -> None:
    completed = run_plan(cwd=diamond.parent)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "plan for build.par: 5 steps in 4 levels"
    assert "critical path: base -> left -> deep -> ship (4 steps)" in lines
    assert "max parallelism: 2" in lines
    assert (
        "estimated speedup: 1.2x over running every step serially "
        "(with unlimited jobs, if all steps take equal time)"
    ) in lines


def _dot_graph(spec: Path) -> pydot.Dot:
    completed = run_plan("--format", "dot", cwd=spec.parent)
    assert completed.returncode == 0, completed.stderr
    graphs = pydot.graph_from_dot_data(completed.stdout)
    assert graphs is not None, completed.stdout
    [graph] = graphs
    return graph


def _unquote(value: object) -> str:
    return str(value).strip('"')


# pydot 4.0 calls pyparsing names that pyparsing 3.3 deprecates.
@pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning")
def test_dot_plan_draws_integrate_and_critical_path(diamond: Path) -> None:
    graph = _dot_graph(diamond)
    nodes = {_unquote(node.get_name()): node for node in graph.get_nodes()}
    assert {"base", "left", "right", "deep", "ship"} <= set(nodes)
    assert nodes["ship"].get("shape") == "hexagon"
    assert nodes["left"].get("shape") is None  # the default box
    critical = {name for name, node in nodes.items() if node.get("penwidth") is not None}
    assert critical == {"base", "left", "deep", "ship"}
    assert _unquote(nodes["base"].get("label")) == 'base\\nthe \\"base\\" library'

    edges = {
        (_unquote(edge.get_source()), _unquote(edge.get_destination())): edge
        for edge in graph.get_edges()
    }
    assert set(edges) == {
        ("base", "left"),
        ("base", "right"),
        ("left", "deep"),
        ("base", "ship"),
        ("left", "ship"),
        ("right", "ship"),
        ("deep", "ship"),
    }
    bold = {pair for pair, edge in edges.items() if edge.get("penwidth") is not None}
    assert bold == {("base", "left"), ("left", "deep"), ("deep", "ship")}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_dot_plan_renders_with_graphviz(diamond: Path) -> None:
    completed = run_plan("--format", "dot", cwd=diamond.parent)
    rendered = subprocess.run(
        ["dot", "-Tjson"], input=completed.stdout, capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stderr == ""
    layout = json.loads(rendered.stdout)
    shapes = {item["name"]: item["shape"] for item in layout["objects"]}
    assert shapes["ship"] == "hexagon"
    assert shapes["base"] == "box"


def test_mermaid_plan_draws_integrate_and_critical_path(diamond: Path) -> None:
    completed = run_plan("--format", "mermaid", cwd=diamond.parent)
    assert completed.returncode == 0, completed.stderr
    lines = [line.strip() for line in completed.stdout.splitlines()]
    assert lines[0] == "flowchart LR"
    assert 's0("base")' in lines
    assert 's4{{"ship"}}' in lines

    links = [line for line in lines if "-->" in line]
    assert links == [
        "s0 --> s1",
        "s0 --> s2",
        "s1 --> s3",
        "s0 --> s4",
        "s1 --> s4",
        "s2 --> s4",
        "s3 --> s4",
    ]
    assert "class s0,s1,s3,s4 critical" in lines
    [style] = [line for line in lines if line.startswith("linkStyle")]
    numbers = re.match(r"linkStyle ([\d,]+) ", style)
    assert numbers is not None
    assert [links[int(n)] for n in numbers.group(1).split(",")] == [
        "s0 --> s1",
        "s1 --> s3",
        "s3 --> s4",
    ]


def test_plan_rejects_unknown_format(diamond: Path) -> None:
    completed = run_plan("--format", "svg", cwd=diamond.parent)
    assert completed.returncode == 2
    assert "'svg' is not one of 'text', 'json', 'dot', 'mermaid'" in completed.stderr
