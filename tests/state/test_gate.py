"""The incremental gate on its own: decisions, fingerprints and the digest cache."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import trio

from parc.plan import PlanStep
from parc.runtime.executor import StepResult
from parc.runtime.scheduler import Status, Verdict
from parc.runtime.state.files import RACY_WINDOW_NS
from parc.runtime.state.fingerprint import Fingerprint, definition_changes, glob_change
from parc.runtime.state.gate import IncrementalGate
from parc.runtime.state.store import StateStore

STEP = PlanStep(
    name="copy",
    kind="track",
    index=0,
    commands=("cp src/in.txt out/out.txt",),
    reads=("src/*.txt",),
    owns=("out/out.txt",),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(tmp_path / ".parc" / "state.db") as opened:
        yield opened


def _write_old(path: Path, text: str) -> None:
    """Write a file whose mtime lies far enough back for its digest to be trusted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    old = time.time_ns() - 10 * RACY_WINDOW_NS
    os.utime(path, ns=(old, old))


async def _build_once(store: StateStore, root: Path) -> tuple[IncrementalGate, str | None]:
    """Check the step; if it must run, do its work and record a success."""
    gate = IncrementalGate(store, root)
    reason = await gate.check(STEP, dependencies_ran=False)
    if reason is None:
        _write_old(root / "out" / "out.txt", (root / "src" / "in.txt").read_text())
        now = trio.current_time()
        await gate.record(StepResult(STEP, Verdict(Status.SUCCEEDED), 1, None, now, now))
    gate.close()
    return gate, reason


@pytest.mark.trio
async def test_unchanged_files_are_not_read_again(store: StateStore, tmp_path: Path) -> None:
    _write_old(tmp_path / "src" / "in.txt", "hello")
    first, reason = await _build_once(store, tmp_path)
    assert reason is None
    assert first.cache.hashed == 2  # the input before the run, the output after

    second, reason = await _build_once(store, tmp_path)
    assert reason == "unchanged since its last success (1 input, 1 output)"
    assert second.cache.hashed == 0


@pytest.mark.trio
async def test_older_timestamp_new_content_is_read(store: StateStore, tmp_path: Path) -> None:
    source = tmp_path / "src" / "in.txt"
    _write_old(source, "hello")
    await _build_once(store, tmp_path)

    before = source.stat()
    source.write_text("HELLO")
    earlier = before.st_mtime_ns - 3600 * 10**9
    os.utime(source, ns=(earlier, earlier))
    gate = IncrementalGate(store, tmp_path)
    assert await gate.check(STEP, dependencies_ran=False) is None
    assert gate.cache.hashed == 1
    assert gate.decisions["copy"].reason == "input `src/in.txt` changed"


@pytest.mark.trio
async def test_started_step_is_marked_before_it_runs(store: StateStore, tmp_path: Path) -> None:
    _write_old(tmp_path / "src" / "in.txt", "hello")
    await _build_once(store, tmp_path)
    gate = IncrementalGate(store, tmp_path, force=True)
    assert await gate.check(STEP, dependencies_ran=False) is None
    assert store.steps["copy"].status == "running"
    # Without a recorded end (parc was killed), the next build runs it.
    again = IncrementalGate(store, tmp_path)
    assert await again.check(STEP, dependencies_ran=False) is None
    assert again.decisions["copy"].reason == (
        "its last run did not finish (parc stopped during it)"
    )


@pytest.mark.trio
async def test_dependency_that_ran_forces_a_run(store: StateStore, tmp_path: Path) -> None:
    _write_old(tmp_path / "src" / "in.txt", "hello")
    await _build_once(store, tmp_path)
    gate = IncrementalGate(store, tmp_path)
    assert await gate.check(STEP, dependencies_ran=True) is None
    assert gate.decisions["copy"].reason == "a dependency ran in this build"


@pytest.mark.trio
async def test_fifo_input_is_not_read(store: StateStore, tmp_path: Path) -> None:
    _write_old(tmp_path / "src" / "in.txt", "hello")
    await _build_once(store, tmp_path)
    fifo = tmp_path / "src" / "pipe.txt"
    os.mkfifo(fifo)  # never read: reading a FIFO would block
    gate = IncrementalGate(store, tmp_path)
    assert await gate.check(STEP, dependencies_ran=False) is None
    assert gate.decisions["copy"].reason == "input `src/pipe.txt` is new"


@pytest.mark.trio
async def test_many_files_are_hashed_in_a_thread(store: StateStore, tmp_path: Path) -> None:
    for number in range(50):
        _write_old(tmp_path / "src" / f"{number}.txt", "x" * 4096)
    gate = IncrementalGate(store, tmp_path)
    assert await gate.check(STEP, dependencies_ran=False) is None
    assert gate.cache.hashed == 50
    assert len(gate._inputs["copy"]) == 50


def test_fingerprint_without_globs_still_reads() -> None:
    step = PlanStep("copy", "track", 0, ("cp b.txt copy.txt",), reads=("b.txt",), owns=("c",))
    current = Fingerprint(step.commands, {}, ".", {"b.txt": "d1"}, {}, step.reads, step.owns)
    assert Fingerprint.from_json(current.to_json()) == current

    # A fingerprint written before globs were recorded names no glob change.
    older = current.to_json().replace(',"read_globs":["b.txt"],"own_globs":["c"]', "")
    parsed = Fingerprint.from_json(older)
    assert parsed is not None
    assert parsed.read_globs is None
    assert glob_change(parsed, attrs.evolve(step, reads=("a.txt",)), "reads") == []
    assert glob_change(current, attrs.evolve(step, reads=("a.txt",)), "reads") == [
        "`reads` changed from `b.txt` to `a.txt`"
    ]
    # The globs name a cause; they are not a definition change by themselves.
    assert definition_changes(current, attrs.evolve(step, reads=("a.txt",))) == []
