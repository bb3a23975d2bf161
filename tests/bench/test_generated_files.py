"""The generated build.par, Makefile and build.ninja describe the same graph.

Each tool reads its own file and reports the graph it sees: parc through
`parc plan --format json`, make through its database (`make -pn`), ninja
through `ninja -t targets`, `-t query` and `-t commands`. Every view must
equal the graph the generator meant, step for step: the same targets, the
same prerequisites and the same command.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import shapes
from bench.graph import Graph, Step
from bench.writers import MAKE_GOAL, materialize

# A target's prerequisites (source files and the targets it runs after) and its command.
View = dict[str, tuple[frozenset[str], str]]

needs_ninja = pytest.mark.skipif(
    shutil.which("ninja") is None, reason="ninja is not installed: apt-get install ninja-build"
)


def _output(argv: list[str], cwd: Path) -> str:
    completed = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, f"{argv} failed:\n{completed.stdout}{completed.stderr}"
    return completed.stdout


def intended_view(graph: Graph) -> View:
    by_name = graph.by_name
    return {
        step.target: (
            frozenset(step.inputs) | {by_name[name].target for name in step.after},
            step.command,
        )
        for step in graph.steps
    }


def parc_view(directory: Path) -> View:
    plan = json.loads(
        _output([sys.executable, "-m", "parc", "plan", "--format", "json"], directory)
    )
    target_of = {
        step["name"]: step["owns"][0] if step["owns"] else step["name"] for step in plan["steps"]
    }
    view: View = {}
    for step in plan["steps"]:
        assert len(step["owns"]) <= 1, step
        assert len(step["commands"]) == 1, step
        prerequisites = frozenset(step["reads"]) | {target_of[name] for name in step["after"]}
        view[target_of[step["name"]]] = (prerequisites, step["commands"][0])
    return view


def make_view(directory: Path) -> View:
    """Read the explicit rules with a recipe from make's database."""
    database = _output(["make", "-pn"], directory)
    files = database.split("\n# Files\n", 1)[1].split("\n# files hash-table stats", 1)[0]
    view: View = {}
    for block in files.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if not lines or lines[0] == "# Not a target:":
            continue
        header = next(line for line in lines if not line.startswith("#"))
        recipe = [line[1:] for line in lines if line.startswith("\t")]
        if not recipe:
            continue
        target, _, prerequisites = header.partition(":")
        assert len(recipe) == 1, block
        view[target] = (frozenset(prerequisites.split()), recipe[0].replace("$$", "$"))
    return view


def ninja_view(directory: Path) -> View:
    listing = _output(["ninja", "-t", "targets", "all"], directory)
    targets = [line.rsplit(": ", 1)[0] for line in listing.splitlines()]
    query = _output(["ninja", "-t", "query", *targets], directory)
    commands = _output(["ninja", "-t", "commands", "-s", *targets], directory).splitlines()
    assert len(commands) == len(targets), commands

    inputs: dict[str, set[str]] = {}
    current: str | None = None
    section = ""
    for line in query.splitlines():
        if not line.startswith(" "):
            current = line.rstrip(":")
            inputs[current] = set()
        elif line.startswith("  ") and not line.startswith("    "):
            section = line.strip()
        elif section.startswith("input:") and current is not None:
            inputs[current].add(line.strip())
    return {
        target: (frozenset(inputs[target]), command)
        for target, command in zip(targets, commands, strict=True)
    }


SHAPES = {
    "wide": lambda: shapes.wide(6),
    "chain": lambda: shapes.chain(5),
    "dag seed 1": lambda: shapes.dag(4, 5, seed=1),
    "dag seed 2": lambda: shapes.dag(3, 7, seed=2),
    "noop": lambda: shapes.noop(4),
    "big": lambda: shapes.big(4, 5, seed=3),
}


@pytest.fixture(params=sorted(SHAPES))
def generated(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Graph, Path]:
    graph = SHAPES[request.param]()
    materialize(graph, tmp_path / "graph")
    return graph, tmp_path / "graph"


def test_parc_sees_intended_graph(generated: tuple[Graph, Path]) -> None:
    graph, directory = generated
    assert parc_view(directory) == intended_view(graph)


def test_make_sees_intended_graph(generated: tuple[Graph, Path]) -> None:
    graph, directory = generated
    assert make_view(directory) == intended_view(graph)


@needs_ninja
def test_ninja_sees_intended_graph(generated: tuple[Graph, Path]) -> None:
    graph, directory = generated
    assert ninja_view(directory) == intended_view(graph)


@needs_ninja
def test_each_tool_builds_whole_graph(generated: tuple[Graph, Path]) -> None:
    """With no target named, every tool plans every step exactly once."""
    graph, directory = generated
    expected = sorted(step.command for step in graph.steps)

    make_commands = _output(["make", "-n", MAKE_GOAL], directory).splitlines()
    ninja_commands = _output(["ninja", "-t", "commands"], directory).splitlines()
    parc_lines = _output([sys.executable, "-m", "parc", "build", "-n"], directory).splitlines()
    parc_commands = [line for line in parc_lines if not line.startswith("# ")]

    assert sorted(make_commands) == expected
    assert sorted(ninja_commands) == expected
    assert sorted(parc_commands) == expected


@needs_ninja
def test_commands_keep_special_characters(tmp_path: Path) -> None:
    """Quotes, backslashes, `$` and `{{` reach every tool's command unchanged."""
    command = """printf '%s\\n' "a \\"b\\" c" '$HOME' '{{x}}' 'tab\tend'"""
    graph = Graph("special", (Step("s", command, output="out.txt"),))
    materialize(graph, tmp_path / "graph")
    directory = tmp_path / "graph"

    expected = intended_view(graph)
    assert parc_view(directory) == expected
    assert make_view(directory) == expected
    assert ninja_view(directory) == expected


def test_noop_graph_is_up_to_date_after_one_build(tmp_path: Path) -> None:
    materialize(shapes.noop(3), tmp_path)
    _output(["make"], tmp_path)

    question = subprocess.run(["make", "-q"], cwd=tmp_path, capture_output=True, timeout=60)

    assert question.returncode == 0
    for index in range(3):
        assert (tmp_path / "out" / f"s{index}.txt").read_text() == f"src/s{index}.txt\n"
