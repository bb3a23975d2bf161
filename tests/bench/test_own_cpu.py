"""`python -m bench.own_cpu` reports parc's own CPU time from a real build."""

from __future__ import annotations

from pathlib import Path

from bench.own_cpu import measure


def test_own_cpu_of_small_build(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text('track a { run "echo done > a.txt" }\n')

    cpu, wall = measure(tmp_path, ["build"])

    assert (tmp_path / "a.txt").read_text() == "done\n"
    assert cpu > 0
    assert wall > 0
