"""The runner, timing, reports and command line, run with real tools on tiny graphs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import shapes
from bench.graph import Graph
from bench.report import BEGIN_MARKER, END_MARKER, markdown, to_json, update_document
from bench.suite import (
    CRITICAL_PATH,
    Benchmark,
    Comparison,
    ComparisonResult,
    MemoryTarget,
    Target,
    Tool,
    run_benchmark,
)
from bench.timing import GNU_TIME, BenchError, peak_memory, require_tools, time_once

MEGABYTE = 1024 * 1024

needs_hyperfine = pytest.mark.skipif(
    shutil.which("hyperfine") is None or shutil.which("ninja") is None,
    reason="hyperfine and ninja are not installed: apt-get install hyperfine ninja-build",
)


def _count_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _tiny_benchmark(verified: list[Path]) -> Benchmark:
    """Three sleeps in a chain, timed with make and ninja, with a prepare step that counts."""
    record = ("sh", "-c", "echo run >> make-prepared.log")
    comparison = Comparison(
        "tiny",
        (
            Tool("make", ("make", "-j", "2"), prepare=record),
            Tool("ninja", ("ninja", "-j", "2")),
        ),
        targets=(Target("make", "ninja", 1000.0), Target("ninja", CRITICAL_PATH, 0.001)),
        memory_targets=(MemoryTarget("ninja", 1024 * MEGABYTE),),
        warmups=2,
        verify=verified.append,
    )

    def generate() -> Graph:
        return shapes.dag(3, 1, seed=5)

    return Benchmark("tiny", "Three sleeps in a row", generate, (comparison,), runs=3)


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[ComparisonResult, Path]:
    if shutil.which("hyperfine") is None or shutil.which("ninja") is None:
        pytest.skip("hyperfine and ninja are not installed: apt-get install hyperfine ninja-build")
    workdir = tmp_path_factory.mktemp("bench")
    verified: list[Path] = []
    (result,) = run_benchmark(_tiny_benchmark(verified), workdir)
    assert verified == [workdir / "tiny"]
    return result, workdir / "tiny"


@needs_hyperfine
def test_runner_times_each_round(tiny_result: tuple[ComparisonResult, Path]) -> None:
    result, _ = tiny_result

    assert result.runs == 3
    assert [tool.label for tool in result.tools] == ["make", "ninja"]
    for tool in result.tools:
        assert len(tool.timings) == 3
        assert all(timing.wall > 0 for timing in tool.timings)
        assert tool.peak_rss > 0


@needs_hyperfine
def test_runner_prepares_every_run(tiny_result: tuple[ComparisonResult, Path]) -> None:
    _, directory = tiny_result
    warmups, rounds = 2, 3
    assert _count_lines(directory / "make-prepared.log") == warmups + rounds


@needs_hyperfine
def test_ratios_are_per_round(tiny_result: tuple[ComparisonResult, Path]) -> None:
    result, _ = tiny_result
    make, ninja = result.tools
    assert result.critical_path is not None

    between = result.ratio("make", "ninja")
    expected = [a.wall / b.wall for a, b in zip(make.timings, ninja.timings, strict=True)]
    assert list(between.ratios) == pytest.approx(expected)
    assert between.limit == 1000.0
    assert between.met is True

    against_path = result.ratio("ninja", CRITICAL_PATH)
    assert list(against_path.ratios) == pytest.approx(
        [timing.wall / result.critical_path for timing in ninja.timings]
    )
    assert against_path.met is False
    assert result.ratio("make", CRITICAL_PATH).limit is None


@needs_hyperfine
def test_markdown_lists_targets(tiny_result: tuple[ComparisonResult, Path]) -> None:
    result, _ = tiny_result
    machine = {key: key for key in ("date", "cpu", "cores", "memory", "system", "python")}
    machine |= {key: key for key in ("parc", "make", "ninja", "hyperfine")}

    text = markdown([result], {"tiny": "Three sleeps in a row"}, machine, "python -m bench run")

    assert "| tiny, tiny | make / ninja <= 1000.00 |" in text
    assert "| tiny, tiny | ninja / critical path <= 0.00 |" in text
    assert "| tiny, tiny | peak memory of ninja <= 1024 MB |" in text
    assert text.count("| yes |") == 2
    assert text.count("| **no** |") == 1
    assert f"Critical path of the designed durations: {result.critical_path:.3f} s." in text
    data = json.loads(to_json([result], machine, "python -m bench run"))
    assert len(data["results"][0]["tools"][0]["timings"]) == 3


def test_update_document_replaces_between_markers(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# Before\n{BEGIN_MARKER}\nold\n{END_MARKER}\n## After\n")

    update_document(page, "new results\n")

    assert page.read_text() == f"# Before\n{BEGIN_MARKER}\nnew results\n{END_MARKER}\n## After\n"


def test_update_document_needs_markers(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n")
    with pytest.raises(BenchError, match="has no `<!-- bench:results:begin -->` line"):
        update_document(page, "new results\n")
    assert page.read_text() == "# Benchmarks\n"


@pytest.mark.skipif(shutil.which("hyperfine") is None, reason="hyperfine is not installed")
def test_time_once_reports_failed_command(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"`sh -c 'echo broken; exit 3'` failed") as caught:
        time_once(["sh", "-c", "echo broken; exit 3"], tmp_path)
    assert "broken" in str(caught.value)


@pytest.mark.skipif(shutil.which(GNU_TIME) is None, reason="GNU time is not installed")
def test_peak_memory_sees_large_allocation(tmp_path: Path) -> None:
    allocate = "import sys; block = bytearray(96 * 1024 * 1024); sys.exit(0)"
    small = peak_memory([sys.executable, "-c", "pass"], tmp_path)
    large = peak_memory([sys.executable, "-c", allocate], tmp_path)
    assert large >= 96 * MEGABYTE
    assert small < large


def test_require_tools_names_packages(tmp_path: Path) -> None:
    missing = str(tmp_path / "ninja")
    with pytest.raises(BenchError, match=r"`apt-get install -y ninja-build time`$") as caught:
        require_tools({"/bin/sh": "dash", missing: "ninja-build", "/nonexistent/time": "time"})
    assert f"`{missing}`, `/nonexistent/time`" in str(caught.value)
    assert "/bin/sh" not in str(caught.value)


def _bench(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    repository = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "bench", *arguments],
        cwd=cwd,
        env={"PYTHONPATH": str(repository), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_lists_every_benchmark(tmp_path: Path) -> None:
    completed = _bench("list", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    names = [
        line.split(":")[0] for line in completed.stdout.splitlines() if not line.startswith(" ")
    ]
    assert names == ["wide", "chain", "dag", "noop", "big"]


def test_cli_rejects_unknown_benchmark(tmp_path: Path) -> None:
    completed = _bench("run", "--only", "wid", cwd=tmp_path)
    assert completed.returncode == 2
    assert "no benchmark named `wid`; choose from wide, chain, dag, noop, big" in completed.stderr


def test_cli_generate_keeps_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me\n")

    completed = _bench("generate", "wide", "mine", cwd=tmp_path)

    assert completed.returncode == 1
    assert "is not empty and was not generated by the benchmarks" in completed.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me\n"


def test_cli_generate_replaces_own_directory(tmp_path: Path) -> None:
    first = _bench("generate", "chain", "graph", cwd=tmp_path)
    (tmp_path / "graph" / "stale.txt").write_text("from an earlier run\n")
    second = _bench("generate", "chain", "graph", cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "wrote 500 steps of shape chain" in second.stdout
    assert not (tmp_path / "graph" / "stale.txt").exists()
    assert (tmp_path / "graph" / "build.par").is_file()
