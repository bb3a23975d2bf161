"""The no-op build: `parc build` when every requested step is up to date.

`parc.cli.main()` tries this path before it imports click, and it imports
neither the compiler, trio, rich nor the executor. It reads the cached
plan's rows as `marshal` returns them, the state in two queries, and each
file's `lstat` once. It decides each step as `IncrementalGate` would: the
last run succeeded, no dependency succeeded after it, and the fingerprint
taken now has the same canonical JSON text as the stored one. Then it
writes `.parc/last-build.json` and prints the line the plain display
prints, under the project lock.

On a terminal it prints the bytes of the display that `parc build` would
choose there: the line in bold unless colour is off, and under the live
display inside the final frame, which erases a region that was never
drawn. A build this short draws no other frame.

It returns None, and the normal path runs, when anything is outside that
case: an argument it does not recognise (`-B`, `-n`, `--explain`,
`--trace`, `--progress live`, `--help`, ...), a spec that is not cached, a
warning to print, a step to run, or a file whose cached digest it cannot
trust. Only reads happen before that decision, so nothing is left to undo.
`PARC_FAST_NOOP=0` turns the path off, which tests use to compare the two.

SIGINT, SIGTERM and SIGHUP raise `Interrupted` here, which `parc.cli.main`
reports as the normal path does, exit code 128 + the signal. The report's
temporary file is removed on the way out, and a signal that was ignored
when parc started stays ignored.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import signal
import sqlite3
import sys
import time
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, NamedTuple

from parc.cli import logs, plan_cache
from parc.cli.errors import EXIT_OK, UserError
from parc.cli.spec import OVERRIDE, display_name, find_spec, read_spec
from parc.runtime import STATE_DIR
from parc.runtime.seconds import format_seconds
from parc.runtime.state import state_directory
from parc.runtime.state.files import (
    DIRECTORY,
    FileKey,
    Found,
    Scanner,
    drop_covered,
    is_literal,
    is_trusted,
    is_unreadable,
)
from parc.runtime.state.fingerprint import fingerprint_matches, up_to_date_reason
from parc.runtime.state.last_build import (
    REPORT_ENCODER,
    REPORT_VERSION,
    format_report,
    iso_time,
    write_report_text,
)
from parc.runtime.state.lock import LockBusy, ProjectLock

_LOGGER = "parc.state"

# The state's names, from `parc.runtime.state.store`, which imports attrs
# (a test checks them).
DATABASE_NAME = "state.db"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 30.0
SUCCEEDED = "succeeded"

SWITCH = "PARC_FAST_NOOP"
"""The environment variable that turns the no-op path off when set to `0`."""

# The fields of a cached plan row, in `PlanStep`'s order (a test checks them).
NAME, COMMANDS, AFTER, ENV, CWD, READS, OWNS = 0, 3, 4, 6, 7, 8, 9

UP_TO_DATE = "up to date"
NOT_REQUESTED = "not requested"
"""The values of `Status.UP_TO_DATE` and `Status.NOT_REQUESTED` (a test checks them)."""

# The bytes of the displays, from `parc.runtime.report` and
# `parc.runtime.live`, which import attrs, trio and rich (a test checks them).
BOLD = "\x1b[1m"
RESET = "\x1b[0m"
SYNC_BEGIN = "\x1b[?2026h"
SYNC_END = "\x1b[?2026l"
ERASE_REGION = "\r \x1b[J\r\x1b[2K"

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Row = tuple[Any, ...]
# A step's row in the state: name, status, success serial and fingerprint.
_STATUS, _SERIAL, _FINGERPRINT = 1, 2, 3
_UINT64 = (1 << 64) - 1


class Request(NamedTuple):
    """What `parc build` was asked to do, as far as a no-op build depends on it."""

    targets: tuple[str, ...]
    overrides: dict[str, str]
    file: str | None
    wait: bool
    progress: str
    output: str | None


_NUMBER = re.compile(r"-?[0-9]")
_PROGRESS = ("auto", "plain", "quiet")
_OUTPUT = ("grouped", "prefixed", "raw", "none")
_FLAGS = {"-k": None, "--keep-going": None, "--no-wait": "wait"}
_VALUED = {"-f": "file", "--file": "file", "--progress": "progress", "--output": "output"}


def parse_arguments(arguments: Sequence[str]) -> Request | None:
    """Read the arguments of `parc build` that a no-op build accepts; None for any other.

    The accepted forms mean the same to click: targets, `NAME=VALUE`,
    `-j`, `-j N`, `-jN`, `--jobs N`, `--jobs=N`, `-k`, `--keep-going`,
    `--no-wait`, and `-f`, `--file`, `--progress` and `--output` with a
    value that does not start with `-`, as a separate word or after `=`.
    The number of jobs does not change a no-op build, so it is only checked.
    """
    targets: list[str] = []
    overrides: dict[str, str] = {}
    values: dict[str, str] = {}
    wait = True
    index = 0
    while index < len(arguments):
        word = arguments[index]
        index += 1
        if not word.startswith("-"):
            if "=" in word:
                match = OVERRIDE.match(word)
                if match is None:
                    return None
                overrides[match.group(1)] = match.group(2)
            else:
                targets.append(word)
            continue

        option, equals, attached = word.partition("=")
        if word.startswith("-j") and word[2:].isascii() and word[2:].isdigit():
            continue  # `-jN`, which click reads as `-j N`
        if option == "-j" and not equals:
            # As `_attach_jobs` reads it: the next word is the count if it
            # starts like a number, else `-j` alone means no limit.
            following = arguments[index] if index < len(arguments) else ""
            if _NUMBER.match(following):
                if not following.isascii() or not following.isdigit():
                    return None
                index += 1
            continue
        if option == "--jobs":
            if not equals:
                attached = arguments[index] if index < len(arguments) else ""
                index += 1
            if not attached.isascii() or not attached.isdigit():
                return None
            continue
        if word in _FLAGS:
            if _FLAGS[word] == "wait":
                wait = False
            continue
        name = _VALUED.get(option)
        if name is None or (equals and not option.startswith("--")):
            return None
        if not equals:
            if index >= len(arguments):
                return None
            attached = arguments[index]
            index += 1
        if attached.startswith("-") or (name == "file" and not attached):
            return None
        values[name] = attached

    progress = values.get("progress", "auto")
    output = values.get("output")
    if progress not in _PROGRESS or (output is not None and output not in _OUTPUT):
        return None
    return Request(tuple(targets), overrides, values.get("file"), wait, progress, output)


class Interrupted(KeyboardInterrupt):
    """A signal arrived during the no-op build; parc exits with 128 + `signum`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Display(NamedTuple):
    """The display the normal path would choose: live or lines, with colour or not."""

    live: bool
    color: bool


def try_build(arguments: Sequence[str]) -> int | None:
    """Run `parc build ARGUMENTS` as a no-op build; return its exit code, or None to fall back.

    Raises:
        KeyboardInterrupt, BrokenPipeError: as the normal path would let them pass.
        Interrupted: SIGINT, SIGTERM or SIGHUP arrived.
    """
    if os.environ.get(SWITCH) == "0":
        return None
    request = parse_arguments(arguments)
    if request is None:
        return None
    display = choose_display(request, sys.stdout.isatty(), os.environ)
    if display is None:
        return None
    # The path allocates many small objects and keeps them all: the
    # collector's passes over them would find nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _signals_interrupt():
            return _build(request, display)
    except (UserError, OSError, sqlite3.Error) as error:
        # The normal path meets the same problem and reports it.
        logs.debug(_LOGGER, "no-op build: falling back: %s", error)
        return None
    finally:
        if collecting:
            gc.enable()


def choose_display(request: Request, isatty: bool, environ: Mapping[str, str]) -> Display | None:
    """Decide the display as `parc build` does; None for a usage error, which it reports.

    `--progress auto` is live on a terminal whose `TERM` is set and not
    `dumb`, outside CI. Colour needs a terminal, no `NO_COLOR` and a
    `TERM` other than `dumb`; an unset `TERM` keeps it.
    """
    # Quiet progress rejects output modes that print lines as they come.
    if request.progress == "quiet" and request.output in ("prefixed", "raw"):
        return None
    if not isatty:
        return Display(live=False, color=False)
    in_ci = environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    live = request.progress == "auto" and environ.get("TERM", "dumb") != "dumb" and not in_ci
    color = not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"
    return Display(live, color)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Raise `Interrupted` at SIGINT, SIGTERM or SIGHUP in the block, once; keep ignored ones.

    A second signal while the first unwinds is only dropped, so it cannot
    cut short the removal of the report's temporary file.
    """
    received: list[int] = []

    def interrupt(signum: int, frame: types.FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            raise Interrupted(signum)

    previous: dict[int, Any] = {}
    for signum in HANDLED_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_IGN:
            continue
        try:
            signal.signal(signum, interrupt)
        except ValueError:  # not the main thread, where Python sets no handler
            break
        previous[signum] = handler
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _build(request: Request, display: Display) -> int | None:
    path = find_spec(request.file)
    data, _ = read_spec(path)
    spec_root = path.resolve().parent
    key = plan_cache.cache_key(data, display_name(path), spec_root, request.overrides)
    payload = plan_cache.read_payload(spec_root, key)
    if payload is None:
        return None
    (spec, root_text, _, defaults, _, rows), warnings, unowned_reads = payload
    if warnings:
        return None
    requested = _requested(rows, request.targets or defaults)
    if requested is None:
        return None
    # Steps without both `reads` and `owns` always run.
    if not all(row[READS] and row[OWNS] for row in rows if row[NAME] in requested):
        return None

    root = Path(root_text)
    directory = state_directory(root)
    if not (directory / DATABASE_NAME).is_file():
        return None
    lock = ProjectLock(directory)
    try:
        lock.acquire(request.wait, on_wait=_say)
    except LockBusy:
        return None
    try:
        started = time.time()
        checked = _check(root, rows, requested, unowned_reads)
        if checked is None:
            return None
        ended = time.time()
        text = _report(spec, root_text, rows, checked, started, ended)
        try:
            write_report_text(directory, text)
        except OSError as error:
            logs.warning(_LOGGER, "cannot write the build report: %s", error)
    finally:
        lock.release()

    logs.debug(_LOGGER, "no-op build: every requested step is up to date")
    counts = [f"{len(requested)} {UP_TO_DATE}"] if requested else []
    if len(rows) > len(requested):
        counts.append(f"{len(rows) - len(requested)} {NOT_REQUESTED}")
    summary = ", ".join(counts) if counts else "nothing to do"
    line = f"parc: {summary} in {format_seconds(ended - started)}"
    if display.color:
        line = f"{BOLD}{line}{RESET}"
    text = f"{line}\n"
    if display.live:
        text = f"{SYNC_BEGIN}{ERASE_REGION}{text}{SYNC_END}"
    sys.stdout.write(text)
    sys.stdout.flush()
    return EXIT_OK


def _requested(rows: Sequence[Row], wanted: Iterable[str]) -> set[str] | None:
    """Return the names of the wanted steps and all they run after; None if one is unknown."""
    by_name = {row[NAME]: row for row in rows}
    stack = list(wanted)
    if not stack:
        return set(by_name)
    if any(name not in by_name for name in stack):
        return None
    keep: set[str] = set()
    while stack:
        name = stack.pop()
        if name not in keep:
            keep.add(name)
            stack.extend(by_name[name][AFTER])
    return keep


def _check(
    root: Path, rows: Sequence[Row], requested: set[str], unowned_reads: Sequence[Row]
) -> dict[str, tuple[str, float]] | None:
    """Decide every requested step; return its reason and time if all are up to date, else None.

    Raises:
        sqlite3.Error: the state cannot be read.
    """
    connection = sqlite3.connect(
        f"{(root / STATE_DIR / DATABASE_NAME).as_uri()}?mode=rw",
        uri=True,
        timeout=BUSY_TIMEOUT_SECONDS,
        isolation_level=None,
    )
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return None
        records = {
            record[0]: record
            for record in connection.execute(
                "SELECT name, status, success_serial, fingerprint FROM steps"
            )
        }
        if not _records_allow(rows, requested, records):
            return None
        cached = {
            entry[0]: entry
            for entry in connection.execute(
                "SELECT path, size, mtime_ns, ctime_ns, inode, device, digest, hashed_ns "
                "FROM file_digests"
            )
        }
    finally:
        connection.close()

    scanner = Scanner(root)
    seen: set[str] = set()
    checked: dict[str, tuple[str, float]] = {}
    for row in rows:
        name = row[NAME]
        if name not in requested:
            continue
        reads, owns = row[READS], row[OWNS]
        found = _literal_versions(scanner, reads)
        if found is None:
            found = _versions(scanner.scan(reads))
        seen.update(found)
        if all(version == DIRECTORY for version in found.values()):
            return None  # the `reads` match no file, so the step always runs
        drop_covered(found, owns)
        inputs = _digests(found, cached, keep_directories=False)
        owned = _literal_versions(scanner, owns)
        if owned is None:
            owned = _versions(scanner.scan(owns))
        outputs = _digests(owned, cached, keep_directories=True)
        if inputs is None or outputs is None:
            return None
        stored = records[name][_FINGERPRINT]
        if not fingerprint_matches(
            stored,
            row[COMMANDS],
            dict(row[ENV]) if row[ENV] else {},
            row[CWD],
            inputs,
            outputs,
            reads,
            owns,
        ):
            return None
        checked[name] = (up_to_date_reason(inputs, outputs), time.time())

    if _warns_of_unmatched_reads(root, unowned_reads, seen):
        return None
    return checked


Version = tuple[int, ...] | os.stat_result | str
"""A matched path's file key, or its `lstat`, or its fixed digest."""


def _literal_versions(scanner: Scanner, texts: Sequence[str]) -> dict[str, Version] | None:
    """Return the version of each path that literal globs name; None if one needs a walk.

    A glob with wildcards, or one that names a directory, needs the walk
    of `Scanner.scan`.
    """
    found: dict[str, Version] = {}
    for text in texts:
        if not is_literal(text):
            return None
        version = scanner.version(text)
        if version is None:
            continue
        if version == DIRECTORY:
            return None
        found[text] = version
    return found


def _versions(found: Mapping[str, Found]) -> dict[str, Version]:
    """Return the version of each path that `Scanner.scan` found."""
    return {
        path: item.key if item.key is not None else item.digest or ""
        for path, item in found.items()
    }


def _records_allow(rows: Sequence[Row], requested: set[str], records: Mapping[str, Row]) -> bool:
    """Tell whether every requested step's record could make it up to date.

    Its last run succeeded with a fingerprint, and no dependency has a later
    success or none at all.
    """
    for row in rows:
        if row[NAME] not in requested:
            continue
        record = records.get(row[NAME])
        if record is None or record[_STATUS] != SUCCEEDED or record[_FINGERPRINT] is None:
            return False
        serial = record[_SERIAL]
        if serial is None:
            continue
        for name in row[AFTER]:
            dependency = records.get(name)
            if dependency is None or dependency[_SERIAL] is None:
                return False
            if dependency[_SERIAL] > serial:
                return False
    return True


def _digests(
    found: Mapping[str, Version], cached: Mapping[str, Row], keep_directories: bool
) -> dict[str, str] | None:
    """Return the digest of each path from the digest cache; None if one must be hashed.

    A cached digest counts only for the same file version (size, times,
    inode, device) and when it is trusted, as `HashCache.lookup` decides.
    An unreadable path is never up to date.
    """
    digests: dict[str, str] = {}
    for path, version in found.items():
        if isinstance(version, str):
            if is_unreadable(version):
                return None
            if keep_directories or version != DIRECTORY:
                digests[path] = version
            continue
        entry = cached.get(path)
        if entry is None:
            return None
        if isinstance(version, os.stat_result):
            # The fields of `FileKey`, compared one by one: no tuple to build.
            same = (
                entry[1] == version.st_size
                and entry[2] == version.st_mtime_ns
                and entry[3] == version.st_ctime_ns
                and entry[4] == version.st_ino
                and entry[5] == version.st_dev
            ) or _same_unsigned(entry[1:6], FileKey.of(version))
        else:
            same = entry[1:6] == version or _same_unsigned(entry[1:6], version)
        if not same:
            return None
        if not is_trusted(entry[2], entry[7]):
            return None
        digests[path] = entry[6]
    return digests


def _same_unsigned(stored: Row, key: tuple[int, ...]) -> bool:
    """Compare a stored key with a file's; SQLite stores inode and device numbers signed."""
    size, mtime_ns, ctime_ns, inode, device = stored
    unsigned = (size, mtime_ns, ctime_ns, inode & _UINT64, device & _UINT64)
    return unsigned == key


def _warns_of_unmatched_reads(root: Path, unowned_reads: Sequence[Row], seen: set[str]) -> bool:
    """Tell whether a `reads` glob that no step owns matches no file, which deserves a warning.

    A path that a step's scan found exists; any other plain glob costs an
    `lexists`, as `first_match` decides for it, and other globs a search.
    """
    for _, text, _, _ in unowned_reads:
        if is_literal(text):
            if text in seen:
                continue
            if text.split("/")[0] == STATE_DIR or not os.path.lexists(root / text):
                return True
            continue
        from parc.globs import first_match, parse_glob

        if first_match(root, parse_glob(text), skip=STATE_DIR) is None:
            return True
    return False


def _report(
    spec: str,
    root: str,
    rows: Sequence[Row],
    checked: Mapping[str, tuple[str, float]],
    started: float,
    ended: float,
) -> str:
    """Return the text of the build report of a build in which every checked step was up to date.

    Steps differ mostly in their name: the rest of each line is encoded
    once for each reason and moment, by the report's own encoder.
    """
    lines = []
    tails: dict[tuple[str | None, float], str] = {}
    # Steps decided within the same millisecond share one formatted time.
    last_millisecond = -1
    moment: str | None = None
    for row in rows:
        decided = checked.get(row[NAME])
        if decided is None:
            shape: tuple[str | None, float] = (None, 0.0)
        else:
            if int(decided[1] * 1000) != last_millisecond:
                last_millisecond = int(decided[1] * 1000)
                moment = iso_time(decided[1])
            shape = (decided[0], last_millisecond)
        tail = tails.get(shape)
        if tail is None:
            tail = tails[shape] = _step_tail(decided[0] if decided else None, moment)
        lines.append(f'{{"name": {encode_basestring(row[NAME])}{tail}')
    head = {
        "version": REPORT_VERSION,
        "spec": spec,
        "root": root,
        "started": iso_time(started),
        "ended": iso_time(ended),
        "duration": round(ended - started, 6),
        "exit_code": EXIT_OK,
        "interrupted_by": None,
        "complete": True,
    }
    return format_report(head, lines)


def _step_tail(reason: str | None, moment: str | None) -> str:
    """Return a step's line in the report after its name; `reason` is None if not requested."""
    step = {
        "name": "",
        "status": UP_TO_DATE if reason is not None else NOT_REQUESTED,
        "exit_code": None,
        "attempts": 0,
        "started": moment if reason is not None else None,
        "ended": moment if reason is not None else None,
        "duration": 0.0,
        "log": None,
        "run_reason": None,
        "skip_reason": reason,
        "reason": None,
    }
    return REPORT_ENCODER.encode(step)[len('{"name": ""') :]


def _say(text: str) -> None:
    """Print a line on stderr as `parc.cli.incremental.say` does."""
    try:
        sys.stderr.write(f"parc: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
