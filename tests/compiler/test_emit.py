"""The text form of `parc plan`: counts read in the singular when they are 1."""

from __future__ import annotations

from parc.compiler import compile_source
from parc.compiler.emit import format_text
from parc.source import Source


def plan_lines(text: str) -> list[str]:
    return format_text(compile_source(Source("build.par", text)).plan).splitlines()


def test_one_step_in_singular() -> None:
    lines = plan_lines('track slow {\n    run "sleep 1"\n}\n')
    assert lines[0] == "plan for build.par: 1 step in 1 level"
    assert "critical path: slow (1 step)" in lines


def test_several_steps_in_plural() -> None:
    lines = plan_lines('track a {\n    run "a"\n}\ntrack b after a {\n    run "b"\n}\n')
    assert lines[0] == "plan for build.par: 2 steps in 2 levels"
    assert "critical path: a -> b (2 steps)" in lines
