"""The compiled-plan cache: `.parc/plan-cache`, so that an unchanged spec is not compiled again.

A compile depends on the spec's bytes, the overrides, the name the spec is
shown under (messages and each step's `location` carry it), the project root,
and the code of parc and Python. The cache key is a BLAKE2b digest of all of
them. The one input a compile does not see, the files in the project, is left
to the caller: `unowned_reads` are cached, and whether files match them is
checked again on every run.

Only a compile without errors is stored, with its warnings, so a hit prints
the same warnings and can never hide an error. The file contains the key, a
digest of the payload and the payload, in `marshal` format. Unlike `pickle`,
reading it runs no code, and a plan of 10,000 steps is rebuilt from it in
about 50 ms (Python 3.11 on a 2-core machine). A file that cannot be read,
or whose key or digest differs, is a miss. The file is written under a
temporary name and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import operator
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import parc
from parc.cli import logs
from parc.dotparc import make_state_directory

if TYPE_CHECKING:
    from parc.compiled import Compiled
    from parc.diagnostics import Diagnostic
    from parc.source import Source

_LOGGER = __name__

STATE_DIR = ".parc"
"""The directory of parc's files in a project; the runtime keeps its state there too."""

CACHE_NAME = "plan-cache"
"""The cache file in `STATE_DIR`.

NOTE: it holds one compile, the last one. Two specs in one directory, or
two sets of overrides, used in turn, are compiled on every run.
"""

FORMAT = 1
"""The version of the file layout and of the payload's tuples."""

_MAGIC = b"parc plan cache\n"
_DIGEST_SIZE = 32

_last_read: tuple[Path, tuple[int, int, int], bytes, Any] | None = None
"""The last payload read: the file, its size, modification time and inode, the key."""


def cache_path(root: Path) -> Path:
    return root / STATE_DIR / CACHE_NAME


def cache_key(spec: bytes, name: str, root: Path, overrides: Mapping[str, str]) -> bytes:
    """Return the digest of everything a compile of `spec` depends on."""
    context = (
        FORMAT,
        parc.__version__,
        sys.version,
        _code_fingerprint(),
        name,
        str(root),
        tuple(sorted(overrides.items())),
    )
    # `repr` of strings and numbers is canonical, unlike `marshal`, whose
    # output depends on which objects happen to be shared.
    digest = hashlib.blake2b(repr(context).encode(), digest_size=_DIGEST_SIZE)
    digest.update(spec)
    return digest.digest()


def _code_fingerprint() -> tuple[tuple[str, int, int], ...]:
    """Return the path, size and modification time of each source file of parc.

    The version number does not change while parc is developed, but an edit
    to any of these files changes its size or time. A directory that cannot
    be listed, as in an installed zip archive, adds nothing.
    """
    found: list[tuple[str, int, int]] = []
    directories = [os.path.dirname(parc.__file__)]
    while directories:
        directory = directories.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__":
                            directories.append(entry.path)
                    elif entry.name.endswith((".py", ".lark")):
                        info = entry.stat()
                        found.append((entry.path, info.st_size, info.st_mtime_ns))
        except OSError as error:
            logs.debug(_LOGGER, "plan cache: cannot list %s: %s", directory, error)
    return tuple(sorted(found))


def load(root: Path, key: bytes, source: Source) -> Compiled | None:
    """Return the cached compile for `key`, or None on a miss.

    `source` is the spec the key was computed from; the diagnostics and the
    result point at it.
    """
    payload = read_payload(root, key)
    if payload is None:
        return None
    try:
        compiled = _decode(payload, source)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        logs.debug(_LOGGER, "plan cache: unreadable payload: %s", error)
        return None
    logs.debug(_LOGGER, "plan cache: hit, %d steps", len(compiled.plan.steps))
    return compiled


def read_payload(root: Path, key: bytes) -> Any | None:
    """Return the cached payload for `key` as `marshal` decoded it, or None on a miss.

    The no-op build reads the plan's rows from it without building a `Plan`.
    A payload read before is returned again while the file keeps its size,
    modification time and inode, so a build that falls back from the no-op
    path does not read and check the file twice.
    """
    global _last_read
    path = cache_path(root)
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            identity = (info.st_size, info.st_mtime_ns, info.st_ino)
            if _last_read is not None and _last_read[:3] == (path, identity, key):
                return _last_read[3]
            data = file.read()
    except OSError as error:
        logs.debug(_LOGGER, "plan cache: miss: %s", error)
        return None
    header = len(_MAGIC) + 2 * _DIGEST_SIZE
    if not data.startswith(_MAGIC) or len(data) < header:
        logs.debug(_LOGGER, "plan cache: not a cache file")
        return None
    stored_key = data[len(_MAGIC) : len(_MAGIC) + _DIGEST_SIZE]
    if stored_key != key:
        logs.debug(_LOGGER, "plan cache: stored for another spec or version")
        return None
    payload = data[header:]
    digest = hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest()
    if digest != data[len(_MAGIC) + _DIGEST_SIZE : header]:
        logs.debug(_LOGGER, "plan cache: damaged")
        return None
    try:
        decoded = marshal.loads(payload)
    except (ValueError, TypeError, EOFError) as error:
        logs.debug(_LOGGER, "plan cache: unreadable payload: %s", error)
        return None
    _last_read = (path, identity, key, decoded)
    return decoded


def store(root: Path, key: bytes, compiled: Compiled) -> None:
    """Write `compiled` as the cached compile for `key`; failing to write is not an error."""
    payload = _encode(compiled)
    if payload is None:
        return
    digest = hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest()
    path = cache_path(root)
    temporary = path.with_name(f"{CACHE_NAME}.{os.getpid()}.tmp")
    try:
        make_state_directory(path.parent)
        with open(temporary, "wb") as file:
            file.write(_MAGIC + key + digest)
            file.write(payload)
        os.replace(temporary, path)
    except OSError as error:
        logs.debug(_LOGGER, "plan cache: cannot write %s: %s", path, error)
        with contextlib.suppress(OSError):
            temporary.unlink()


# The payload: nested tuples of strings, numbers and None, which `marshal` reads fast.


def _encode(compiled: Compiled) -> bytes | None:
    """Return the payload for `compiled`, or None if it cannot be cached."""
    import attrs

    from parc.plan import PlanStep

    plan_step_row = operator.attrgetter(*(field.name for field in attrs.fields(PlanStep)))
    source = compiled.source
    plan = compiled.plan
    warnings = []
    for diagnostic in compiled.warnings:
        encoded = _encode_diagnostic(diagnostic, source)
        if encoded is None:
            return None
        warnings.append(encoded)
    steps = tuple(map(plan_step_row, plan.steps))
    reads = tuple(
        (site.step, site.glob.text, site.span.start, site.span.end)
        for site in compiled.unowned_reads
    )
    data = (
        (plan.spec, plan.root, dict(plan.pools), plan.defaults, plan.version, steps),
        tuple(warnings),
        reads,
    )
    return marshal.dumps(data)


def _encode_diagnostic(diagnostic: Diagnostic, source: Source | None) -> tuple[Any, ...] | None:
    """Return a diagnostic as a tuple, or None if it points into another source than the spec."""
    if diagnostic.source not in (None, source):
        return None
    if any(label.source is not source for label in diagnostic.labels):
        return None
    span = diagnostic.span
    return (
        diagnostic.code.id,
        diagnostic.message,
        diagnostic.source is not None,
        None if span is None else (span.start, span.end),
        diagnostic.primary_label,
        tuple((label.span.start, label.span.end, label.message) for label in diagnostic.labels),
        diagnostic.help,
    )


def _decode(data: Any, source: Source) -> Compiled:
    """Rebuild a compile from its payload.

    Raises:
        ValueError, TypeError, KeyError, IndexError: the payload is not one
            that `_encode` wrote.
    """
    from parc.compiled import Compiled, GlobSite
    from parc.globs import parse_glob
    from parc.plan import Plan, PlanStep
    from parc.source import Span

    plan_data, warning_data, read_data = data
    spec, root, pools, defaults, version, rows = plan_data
    plan = Plan(
        spec=spec,
        root=root,
        steps=tuple(PlanStep(*row) for row in rows),
        pools=pools,
        defaults=defaults,
        version=version,
    )
    warnings = tuple(_decode_diagnostic(item, source) for item in warning_data)
    reads = tuple(
        GlobSite(step, parse_glob(text), Span(start, end)) for step, text, start, end in read_data
    )
    return Compiled(plan, warnings, source, reads)


def _decode_diagnostic(data: Any, source: Source) -> Diagnostic:
    from parc.diagnostics import Codes, Diagnostic, Label
    from parc.source import Span

    code_id, message, located, span, primary_label, labels, help = data
    code = {code.id: code for code in Codes.all()}[code_id]
    return Diagnostic(
        code,
        message,
        source if located else None,
        None if span is None else Span(*span),
        primary_label=primary_label,
        labels=tuple(Label(source, Span(start, end), note) for start, end, note in labels),
        help=help,
    )
