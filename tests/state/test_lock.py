"""The project lock in one process, and how a state error inside a build is found."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from parc.cli.incremental import find_state_error
from parc.runtime.state import LockBusy, ProjectLock, StateError


def test_second_holder_is_rejected_without_wait(tmp_path: Path) -> None:
    with ProjectLock(tmp_path) as first:
        first.acquire(wait=False)
        second = ProjectLock(tmp_path)
        with pytest.raises(LockBusy) as caught:
            second.acquire(wait=False)
        assert caught.value.holder == os.getpid()
        assert "--no-wait" in str(caught.value)
        assert not second.held
    assert not first.held


def test_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    first = ProjectLock(tmp_path)
    first.acquire(wait=False)
    first.release()
    second = ProjectLock(tmp_path)
    second.acquire(wait=False)
    assert second.held
    assert (tmp_path / "lock").read_text() == f"{os.getpid()}\n"
    second.release()


def test_state_error_is_found_inside_groups() -> None:
    error = StateError("the build state cannot be written")
    nested = BaseExceptionGroup("outer", [ValueError("other"), ExceptionGroup("inner", [error])])
    assert find_state_error(nested) is error
    assert find_state_error(error) is error
    assert find_state_error(ValueError("unrelated")) is None


def test_state_directory_gets_gitignore(tmp_path: Path) -> None:
    directory = tmp_path / ".parc"
    lock = ProjectLock(directory)
    lock.acquire(wait=False)
    lock.release()
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    assert sorted(path.name for path in directory.iterdir()) == [".gitignore", "lock"]


def test_edited_gitignore_is_kept(tmp_path: Path) -> None:
    directory = tmp_path / ".parc"
    directory.mkdir()
    (directory / ".gitignore").write_text("*\n!last-build.json\n")
    lock = ProjectLock(directory)
    lock.acquire(wait=False)
    lock.release()
    assert (directory / ".gitignore").read_text() == "*\n!last-build.json\n"
