"""The build state: an SQLite database at `.parc/state.db` under the project root.

Per step it keeps the status of the last run, the fingerprint and serial of
the last success, and the durations of recent successful runs. It also keeps
the digest cache of files. Every change is one transaction, so a parc killed
at any moment leaves either the state before a change or the state after it.
Changes are committed before parc goes on, except the ends of steps recorded
with `commit=False`: those wait for `flush`, which the build calls once per
group of steps that ended together, after it has started their successors.

The database runs in WAL mode with `synchronous=NORMAL`: a commit survives
the death of the process, and a power loss can lose only the last commits,
which makes parc run those steps again. `PRAGMA user_version` contains the
schema version, and `MIGRATIONS` upgrades older databases in one transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs

from parc.dotparc import make_state_directory
from parc.runtime.state.files import CachedDigest, FileKey

logger = logging.getLogger("parc.state")

DATABASE_NAME = "state.db"
BUSY_TIMEOUT_SECONDS = 30.0
RECENT_DURATIONS = 5
SERIAL_BLOCK = 256
"""How many success serials one write to the counter reserves.

A success then writes its step's row in one statement, without a
transaction around the counter: 17 us against 35 us here. A parc that is
killed leaves the rest of its block unused, which keeps the order.
"""

SUCCEEDED = "succeeded"
RUNNING = "running"

Migration = tuple[str, ...]

MIGRATIONS: tuple[Migration, ...] = (
    # 0 -> 1: the first schema.
    (
        """
        CREATE TABLE steps (
            name TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            started_ns INTEGER,
            ended_ns INTEGER,
            success_serial INTEGER,
            fingerprint TEXT,
            durations TEXT NOT NULL DEFAULT '[]'
        ) STRICT
        """,
        """
        CREATE TABLE file_digests (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            ctime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            device INTEGER NOT NULL,
            digest TEXT NOT NULL,
            hashed_ns INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID
        """,
        """
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT
        """,
        "INSERT INTO counters (name, value) VALUES ('success_serial', 0)",
    ),
)
"""`MIGRATIONS[n]` contains the statements that upgrade the schema from version n to n + 1."""

SCHEMA_VERSION = len(MIGRATIONS)


class StateError(Exception):
    """The state database cannot be opened, read or written; the message says what to do."""


@attrs.define
class StepRecord:
    """What the state knows about one step.

    `status` is the status of its last run, or `running` while it runs (and
    after a crash during it). `success_serial` orders successes across the
    whole project: a larger number succeeded later. `fingerprint` is the JSON
    text of the fingerprint of its last success, when it had one.
    """

    name: str
    status: str
    started_ns: int | None = None
    ended_ns: int | None = None
    success_serial: int | None = None
    fingerprint: str | None = None
    durations: list[float] = attrs.Factory(list)


class StateStore:
    """An open state database; the records of every step are loaded at open.

    Use it from one thread. Callers hold the project lock, so no other parc
    writes at the same time.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        self.steps: dict[str, StepRecord] = {}
        self._next_serial = 0
        self._reserved_to = 0
        """The serials from `_next_serial` to `_reserved_to` are reserved for this store."""
        self._queued: dict[str, StepRecord] = {}
        """Records of ended steps that `flush` has not written yet, in the order they ended."""

    @classmethod
    def open(cls, path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> StateStore:
        """Open or create the database at `path`, upgraded to the newest schema.

        Raises:
            StateError: the database cannot be created, is damaged, or was
                written by a newer parc.
        """
        try:
            make_state_directory(path.parent)
            connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=True
            )
        except (OSError, sqlite3.Error) as error:
            raise _state_error(path, "cannot be opened", error) from None

        def prepare(store: StateStore) -> None:
            connection.execute("PRAGMA journal_mode = WAL").fetchone()
            connection.execute("PRAGMA synchronous = NORMAL")
            store._migrate(migrations)

        return cls._loaded(connection, path, prepare)

    @classmethod
    def open_snapshot(cls, path: Path) -> StateStore:
        """Open the database at `path` for reading only, or an empty one if there is none.

        For predictions (`parc build -n`): it changes no record, takes no
        lock and creates no file.

        A WAL database opened with `mode=ro` makes SQLite create the `-wal`
        and `-shm` files, and a read-only connection cannot remove them when
        it closes. So the connection is opened for writing with
        `PRAGMA query_only`, which rejects every write, and its close removes
        both files like any last connection does. In a directory where SQLite
        cannot create them, the database is read with `mode=ro` instead.

        Raises:
            StateError: the database is damaged or has another schema version.
        """
        exists = path.exists()
        try:
            if exists:
                connection = _connect_read_only(path)
            else:
                connection = sqlite3.connect(":memory:", isolation_level=None)
        except sqlite3.Error as error:
            raise _state_error(path, "cannot be opened", error) from None

        def prepare(store: StateStore) -> None:
            if not exists:
                store._migrate(MIGRATIONS)
            version = store._version()
            if version != SCHEMA_VERSION:
                raise StateError(
                    f"the build state `{path}` has schema version {version}, but this parc "
                    f"uses version {SCHEMA_VERSION}; run `parc build` to upgrade it first"
                )

        return cls._loaded(connection, path, prepare)

    @classmethod
    def _loaded(
        cls,
        connection: sqlite3.Connection,
        path: Path,
        prepare: Callable[[StateStore], None],
    ) -> StateStore:
        """Run `prepare` on a new store, then load its steps; close the connection on failure."""
        store = cls(connection, path)
        try:
            prepare(store)
            store._load_steps()
        except sqlite3.Error as error:
            connection.close()
            raise _state_error(path, "is unreadable", error) from None
        except StateError:
            connection.close()
            raise
        return store

    def close(self) -> None:
        """Write what is queued, then close the database; a failed write is logged, not raised."""
        try:
            self.flush()
        except StateError as error:
            logger.warning("%s", error)
        self.connection.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction, committed at its end."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:  # roll back on any failure, then let it propagate
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        newest = len(migrations)
        version = self._version()
        if version > newest:
            raise StateError(
                f"the build state `{self.path}` has schema version {version}, but this parc "
                f"reads versions up to {newest}; upgrade parc, or forget the state with "
                f"`parc clean --state`"
            )
        if version == newest:
            return
        with self._transaction() as connection:
            version = self._version()  # another parc may have upgraded it meanwhile
            for number in range(version, newest):
                logger.info("upgrading %s from schema version %d", self.path, number)
                for statement in migrations[number]:
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {newest:d}")

    def _version(self) -> int:
        row = self.connection.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    @property
    def version(self) -> int:
        return self._version()

    def _load_steps(self) -> None:
        rows = self.connection.execute(
            "SELECT name, status, started_ns, ended_ns, success_serial, fingerprint, durations "
            "FROM steps"
        )
        for name, status, started_ns, ended_ns, serial, fingerprint, durations in rows:
            self.steps[name] = StepRecord(
                name, status, started_ns, ended_ns, serial, fingerprint, _durations(durations)
            )

    # Steps.

    def durations(self) -> dict[str, float]:
        """Map each step to the mean duration, in seconds, of its recent successful runs."""
        return {
            name: sum(record.durations) / len(record.durations)
            for name, record in self.steps.items()
            if record.durations
        }

    def mark_started(self, name: str) -> None:
        """Record that a step starts, so it is not up to date until it succeeds.

        Raises:
            StateError: the database cannot be written.
        """
        record = self.steps.get(name) or StepRecord(name, RUNNING)
        record.status = RUNNING
        record.started_ns = time.time_ns()
        record.ended_ns = None
        # One statement is a transaction of its own. An upsert changes the
        # row in place, where INSERT OR REPLACE would delete it and insert it
        # again, in the table and in the index of names: twice the work.
        try:
            self.connection.execute(
                "INSERT INTO steps (name, status, started_ns) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET status = excluded.status, "
                "started_ns = excluded.started_ns, ended_ns = NULL",
                (name, RUNNING, record.started_ns),
            )
        except sqlite3.Error as error:
            raise _state_error(self.path, "cannot be written", error) from None
        self.steps[name] = record

    def record_end(
        self,
        name: str,
        status: str,
        duration: float,
        fingerprint: str | None = None,
        started_ns: int | None = None,
        commit: bool = True,
    ) -> None:
        """Record how a started step ended; a success also stores its fingerprint.

        A success gets the next success serial, and `fingerprint` (None when
        the step cannot be up to date). Any other status keeps the last
        success's fingerprint for `--explain`, but the step is no longer up to
        date. `duration` is in seconds. `started_ns` is the start in
        nanoseconds since the epoch, for a step that was not marked as
        started. Without `commit`, the record is queued for `flush`; the
        records in memory change at once either way.

        Raises:
            StateError: the database cannot be written.
        """
        record = self.steps.get(name) or StepRecord(name, status)
        record.status = status
        record.ended_ns = time.time_ns()
        if started_ns is not None:
            record.started_ns = started_ns
        success = status == SUCCEEDED
        if success:
            record.fingerprint = fingerprint
            record.durations = [*record.durations, duration][-RECENT_DURATIONS:]
        try:
            if success:
                # Taken now, so that serials follow the order of the ends.
                record.success_serial = self._take_serial()
            self.steps[name] = record
            if commit:
                self.connection.execute(_UPSERT_STEP, _row(record))
            else:
                self._queued[name] = record
        except sqlite3.Error as error:
            raise _state_error(self.path, "cannot be written", error) from None

    def flush(self) -> None:
        """Write the queued records of ended steps in one transaction.

        Raises:
            StateError: the database cannot be written; the records stay queued.
        """
        if not self._queued:
            return
        rows = [_row(record) for record in self._queued.values()]
        try:
            if len(rows) == 1:
                self.connection.execute(_UPSERT_STEP, rows[0])  # a transaction of its own
            else:
                with self._transaction() as connection:
                    connection.executemany(_UPSERT_STEP, rows)
        except sqlite3.Error as error:
            raise _state_error(self.path, "cannot be written", error) from None
        self._queued.clear()

    def _take_serial(self) -> int:
        """Return the next success serial, reserving a block of them when none is left.

        Raises:
            sqlite3.Error: the counter cannot be written.
        """
        if self._next_serial >= self._reserved_to:
            (last,) = self.connection.execute(
                "UPDATE counters SET value = value + ? WHERE name = 'success_serial' "
                "RETURNING value",
                (SERIAL_BLOCK,),
            ).fetchone()
            self._next_serial = last - SERIAL_BLOCK
            self._reserved_to = last
        self._next_serial += 1
        return self._next_serial

    def forget(self, names: Sequence[str] | None = None) -> int:
        """Forget the named steps, or every step and cached digest; return how many steps.

        Raises:
            StateError: the database cannot be written.
        """
        self.flush()
        try:
            with self._transaction() as connection:
                if names is None:
                    count = connection.execute("DELETE FROM steps").rowcount
                    connection.execute("DELETE FROM file_digests")
                else:
                    count = 0
                    for name in names:
                        cursor = connection.execute("DELETE FROM steps WHERE name = ?", (name,))
                        count += cursor.rowcount
        except sqlite3.Error as error:
            raise _state_error(self.path, "cannot be written", error) from None
        for name in list(self.steps) if names is None else names:
            self.steps.pop(name, None)
        return count

    # The digest cache.

    def load_digests(self) -> dict[str, CachedDigest]:
        """Return every cached file digest.

        Raises:
            StateError: the database cannot be read.
        """
        try:
            rows = self.connection.execute(
                "SELECT path, size, mtime_ns, ctime_ns, inode, device, digest, hashed_ns "
                "FROM file_digests"
            ).fetchall()
        except sqlite3.Error as error:
            raise _state_error(self.path, "is unreadable", error) from None
        return {
            path: CachedDigest(
                FileKey(size, mtime_ns, ctime_ns, _unsigned(inode), _unsigned(device)),
                digest,
                hashed_ns,
            )
            for path, size, mtime_ns, ctime_ns, inode, device, digest, hashed_ns in rows
        }

    def save_digests(self, changed: Mapping[str, CachedDigest], removed: Sequence[str]) -> None:
        """Store new digests and drop the forgotten ones, in one transaction.

        Raises:
            StateError: the database cannot be written.
        """
        self.flush()
        if not changed and not removed:
            return
        rows = [
            (
                path,
                entry.key.size,
                entry.key.mtime_ns,
                entry.key.ctime_ns,
                _signed(entry.key.inode),
                _signed(entry.key.device),
                entry.digest,
                entry.hashed_ns,
            )
            for path, entry in changed.items()
        ]
        try:
            with self._transaction() as connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO file_digests (path, size, mtime_ns, ctime_ns, "
                    "inode, device, digest, hashed_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                connection.executemany(
                    "DELETE FROM file_digests WHERE path = ?", [(path,) for path in removed]
                )
        except sqlite3.Error as error:
            raise _state_error(self.path, "cannot be written", error) from None


_UPSERT_STEP = (
    "INSERT INTO steps (name, status, started_ns, ended_ns, success_serial, fingerprint, "
    "durations) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
    "status = excluded.status, started_ns = excluded.started_ns, ended_ns = excluded.ended_ns, "
    "success_serial = excluded.success_serial, fingerprint = excluded.fingerprint, "
    "durations = excluded.durations"
)
"""Write every column of a step's row, changing an existing row in place."""


_StepRow = tuple[str, str, int | None, int | None, int | None, str | None, str]


def _row(record: StepRecord) -> _StepRow:
    """Return the values of `_UPSERT_STEP` for `record`."""
    return (
        record.name,
        record.status,
        record.started_ns,
        record.ended_ns,
        record.success_serial,
        record.fingerprint,
        # The JSON of a few finite floats, without the encoder's cost per call.
        "[" + ", ".join(map(repr, record.durations)) + "]",
    )


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Connect to an existing database so that the connection cannot change it.

    Raises:
        sqlite3.Error: the database cannot be opened at all.
    """
    uri = path.resolve().as_uri()
    # `mode=rw` never creates the database, unlike a plain connect.
    connection = sqlite3.connect(f"{uri}?mode=rw", uri=True, isolation_level=None)
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.execute("PRAGMA schema_version").fetchone()  # reads the file now
    except sqlite3.OperationalError:
        # A directory where SQLite cannot create the `-wal` and `-shm` files. Without
        # a `-wal` no connection is open, so the file is read as it is on disk.
        connection.close()
        wal = path.with_name(path.name + "-wal")
        options = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
        return sqlite3.connect(f"{uri}?{options}", uri=True, isolation_level=None)
    except sqlite3.Error:
        connection.close()
        raise
    return connection


def _durations(text: str) -> list[float]:
    try:
        values = json.loads(text)
    except ValueError:
        return []
    if not isinstance(values, list):
        return []
    return [float(value) for value in values if isinstance(value, int | float)]


# SQLite integers are signed 64-bit; inode and device numbers are unsigned.
_WRAP = 1 << 64
_HALF = 1 << 63


def _signed(value: int) -> int:
    return value - _WRAP if value >= _HALF else value


def _unsigned(value: int) -> int:
    return value + _WRAP if value < 0 else value


def _state_error(path: Path, problem: str, error: BaseException) -> StateError:
    return StateError(
        f"the build state `{path}` {problem}: {error}; fix the cause, or forget the "
        f"state with `parc clean --state` (the next build then runs every step)"
    )
