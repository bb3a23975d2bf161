"""The SQLite state store: schema, migrations, records and the digest cache."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parc.runtime.state.files import CachedDigest, FileKey
from parc.runtime.state.store import (
    MIGRATIONS,
    RECENT_DURATIONS,
    RUNNING,
    SCHEMA_VERSION,
    StateError,
    StateStore,
    StepRecord,
    _row,
)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / ".parc" / "state.db"


def test_open_creates_wal_database(database: Path) -> None:
    with StateStore.open(database) as store:
        assert store.version == SCHEMA_VERSION
        mode = store.connection.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        assert store.steps == {}
    assert database.is_file()


def test_reopen_keeps_records(database: Path) -> None:
    with StateStore.open(database) as store:
        store.mark_started("lib")
        store.record_end("lib", "succeeded", 1.5, '{"x": 1}')
    with StateStore.open(database) as store:
        record = store.steps["lib"]
        assert record.status == "succeeded"
        assert record.fingerprint == '{"x": 1}'
        assert record.durations == [1.5]
        assert record.success_serial == 1


def test_migration_path_upgrades_and_keeps_data(database: Path) -> None:
    with StateStore.open(database, MIGRATIONS) as store:
        store.record_end("lib", "succeeded", 2.0, "fp")
    upgraded = (*MIGRATIONS, ("ALTER TABLE steps ADD COLUMN note TEXT",))
    with StateStore.open(database, upgraded) as store:
        assert store.version == SCHEMA_VERSION + 1
        assert store.steps["lib"].fingerprint == "fp"
        columns = [row[1] for row in store.connection.execute("PRAGMA table_info(steps)")]
        assert "note" in columns


def test_failed_migration_changes_nothing(database: Path) -> None:
    with StateStore.open(database) as store:
        store.record_end("lib", "succeeded", 2.0, "fp")
    broken = (*MIGRATIONS, ("ALTER TABLE steps ADD COLUMN note TEXT", "NOT SQL AT ALL"))
    with pytest.raises(StateError, match="parc clean --state"):
        StateStore.open(database, broken)
    with StateStore.open(database) as store:
        assert store.version == SCHEMA_VERSION
        columns = [row[1] for row in store.connection.execute("PRAGMA table_info(steps)")]
        assert "note" not in columns
        assert store.steps["lib"].fingerprint == "fp"


def test_newer_schema_is_rejected(database: Path) -> None:
    with StateStore.open(database) as store:
        store.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StateError) as caught:
        StateStore.open(database)
    message = str(caught.value)
    assert f"schema version {SCHEMA_VERSION + 5}" in message
    assert "upgrade parc" in message
    assert "parc clean --state" in message


def test_damaged_file_is_reported(database: Path) -> None:
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is not an SQLite database, just some text" * 100)
    with pytest.raises(StateError) as caught:
        StateStore.open(database)
    assert "is unreadable" in str(caught.value)
    assert "parc clean --state" in str(caught.value)


def test_unwritable_location_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StateError, match="cannot be opened"):
        StateStore.open(blocker / "state.db")


def test_started_step_is_running_until_it_ends(database: Path) -> None:
    with StateStore.open(database) as store:
        store.record_end("lib", "succeeded", 1.0, "fp")
        store.mark_started("lib")
    with StateStore.open(database) as store:
        record = store.steps["lib"]
        assert record.status == RUNNING
        assert record.fingerprint == "fp"  # kept for explanations
        assert record.success_serial == 1


def test_failure_keeps_last_success_fingerprint(database: Path) -> None:
    with StateStore.open(database) as store:
        store.record_end("lib", "succeeded", 1.0, "fp")
        store.mark_started("lib")
        store.record_end("lib", "failed", 3.0)
        record = store.steps["lib"]
        assert record.status == "failed"
        assert record.fingerprint == "fp"
        assert record.durations == [1.0]


def test_success_serials_increase_across_steps(database: Path) -> None:
    with StateStore.open(database) as store:
        for name in ("a", "b", "a", "c"):
            store.record_end(name, "succeeded", 0.1, "fp")
        serials = {name: record.success_serial for name, record in store.steps.items()}
    assert serials == {"a": 3, "b": 2, "c": 4}


def test_durations_keep_recent_runs(database: Path) -> None:
    with StateStore.open(database) as store:
        for seconds in range(1, 9):
            store.record_end("lib", "succeeded", float(seconds), "fp")
        assert len(store.steps["lib"].durations) == RECENT_DURATIONS
        assert store.durations() == {"lib": sum(range(4, 9)) / RECENT_DURATIONS}


def test_forget_named_and_all(database: Path) -> None:
    with StateStore.open(database) as store:
        for name in ("a", "b", "c"):
            store.record_end(name, "succeeded", 0.1, "fp")
        assert store.forget(["a", "missing"]) == 1
        assert sorted(store.steps) == ["b", "c"]
        assert store.forget() == 2
    with StateStore.open(database) as store:
        assert store.steps == {}


def test_digests_round_trip_with_large_inodes(database: Path) -> None:
    huge = (1 << 64) - 5
    entries = {
        "src/a.c": CachedDigest(FileKey(10, 1, 2, huge, 7), "d1", 99),
        "src/b.c": CachedDigest(FileKey(0, 5, 6, 42, huge), "d2", 100),
    }
    with StateStore.open(database) as store:
        store.save_digests(entries, [])
    with StateStore.open(database) as store:
        assert store.load_digests() == entries
        store.save_digests({}, ["src/a.c"])
        assert list(store.load_digests()) == ["src/b.c"]


def test_database_passes_integrity_check(database: Path) -> None:
    with StateStore.open(database) as store:
        store.record_end("lib", "succeeded", 0.1, "fp")
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()


def test_snapshot_leaves_no_wal_files(database: Path) -> None:
    with StateStore.open(database) as store:
        store.mark_started("lib")
        store.record_end("lib", "succeeded", 1.5, '{"x": 1}')
    before = sorted(path.name for path in database.parent.iterdir())
    assert "state.db-wal" not in before
    with StateStore.open_snapshot(database) as snapshot:
        assert snapshot.steps["lib"].fingerprint == '{"x": 1}'
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            snapshot.connection.execute("DELETE FROM steps")
    assert sorted(path.name for path in database.parent.iterdir()) == before


def test_snapshot_sees_a_running_build(database: Path) -> None:
    with StateStore.open(database) as writer:
        writer.mark_started("lib")
        with StateStore.open_snapshot(database) as snapshot:
            assert snapshot.steps["lib"].status == RUNNING
        writer.record_end("lib", "succeeded", 1.0, "{}")
        assert (database.parent / "state.db-wal").exists()  # the writer still has it open
    assert not (database.parent / "state.db-wal").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_snapshot_in_read_only_directory(database: Path) -> None:
    with StateStore.open(database) as store:
        store.mark_started("lib")
    database.parent.chmod(0o555)
    try:
        with StateStore.open_snapshot(database) as snapshot:
            assert snapshot.steps["lib"].status == RUNNING
    finally:
        database.parent.chmod(0o755)


def _committed_status(database: Path) -> dict[str, str]:
    """Read the step statuses that another process would see now."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT name, status FROM steps").fetchall())
    finally:
        connection.close()


def test_queued_ends_wait_for_flush(database: Path) -> None:
    with StateStore.open(database) as store:
        store.mark_started("lib")
        store.record_end("lib", "succeeded", 1.0, "fp", commit=False)
        store.record_end("cli", "failed", 2.0, commit=False)

        assert store.steps["lib"].status == "succeeded"
        assert store.steps["cli"].status == "failed"
        assert _committed_status(database) == {"lib": RUNNING}

        store.flush()
        assert _committed_status(database) == {"lib": "succeeded", "cli": "failed"}


def test_queued_ends_keep_serial_order(database: Path) -> None:
    with StateStore.open(database) as store:
        for name in ("c", "a", "b"):
            store.record_end(name, "succeeded", 0.1, "fp", commit=False)
        store.flush()
    with StateStore.open(database) as store:
        serials = {name: record.success_serial for name, record in store.steps.items()}
    assert serials == {"c": 1, "a": 2, "b": 3}


def test_close_writes_queued_ends(database: Path) -> None:
    with StateStore.open(database) as store:
        store.record_end("lib", "succeeded", 1.0, "fp", commit=False)
    assert _committed_status(database) == {"lib": "succeeded"}


@given(st.lists(st.floats(min_value=0, allow_nan=False, allow_infinity=False), max_size=5))
def test_row_durations_are_json(durations: list[float]) -> None:
    row = _row(StepRecord("lib", "succeeded", durations=durations))
    assert row[-1] == json.dumps(durations)
