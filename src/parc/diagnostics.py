"""Diagnostics: the errors and warnings that parc reports about a spec.

Every kind of problem has a stable code. Codes never change meaning, so users
and scripts can search for them; `docs/diagnostics.md` explains each one.
"""

from __future__ import annotations

import enum

import attrs

from parc.source import Source, Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Code:
    """A diagnostic code with a short title that names the rule."""

    id: str
    title: str

    @property
    def severity(self) -> Severity:
        return Severity.WARNING if self.id.startswith("W") else Severity.ERROR


class Codes:
    """Every diagnostic code parc emits, grouped by hundreds."""

    # Syntax.
    SYNTAX = Code("E0101", "syntax error")
    UNTERMINATED_STRING = Code("E0102", "unterminated string")
    UNCLOSED_BRACE = Code("E0103", "unclosed brace")
    INVALID_CHARACTER = Code("E0104", "invalid character")
    UNKNOWN_ESCAPE = Code("E0105", "unknown escape sequence")
    INVALID_INTERPOLATION = Code("E0106", "invalid interpolation")
    KEYWORD_AS_NAME = Code("E0107", "keyword used as a name")

    # Names.
    UNDEFINED_STEP = Code("E0201", "undefined step")
    DUPLICATE_STEP = Code("E0202", "duplicate step")
    DUPLICATE_VARIABLE = Code("E0203", "duplicate variable")
    DUPLICATE_POOL = Code("E0204", "duplicate pool")
    UNDEFINED_VARIABLE = Code("E0205", "undefined variable")
    UNDEFINED_POOL = Code("E0206", "undefined pool")
    DUPLICATE_ENV = Code("E0207", "duplicate environment variable")
    DUPLICATE_SETTING = Code("E0208", "setting given twice in one step")
    RESERVED_NAME = Code("E0209", "reserved name")
    UNKNOWN_OVERRIDE = Code("E0210", "override of an undefined variable")
    UNKNOWN_TARGET = Code("E0211", "unknown target")
    INVALID_OVERRIDE = Code("E0212", "invalid override")

    # The dependency graph.
    CYCLE = Code("E0301", "dependency cycle")
    SELF_DEPENDENCY = Code("E0302", "step runs after itself")

    # Files and paths.
    WRITE_CONFLICT = Code("E0401", "write-write conflict")
    RACE = Code("E0402", "read-write race")
    ABSOLUTE_PATH = Code("E0403", "absolute path")
    PATH_OUTSIDE_ROOT = Code("E0404", "path leaves the project root")
    INVALID_GLOB = Code("E0405", "invalid glob")
    SPEC_OWNED = Code("E0406", "step owns the spec file")

    # Values.
    INVALID_RETRIES = Code("E0501", "invalid retries")
    INVALID_TIMEOUT = Code("E0502", "invalid timeout")
    INVALID_POOL_SIZE = Code("E0503", "invalid pool size")
    INVALID_ENV_NAME = Code("E0504", "invalid environment variable name")
    MULTI_LINE_DESC = Code("E0505", "multi-line description")

    # Warnings.
    NO_RUN = Code("W0101", "step without commands")
    UNUSED_VARIABLE = Code("W0102", "unused variable")
    UNUSED_POOL = Code("W0103", "unused pool")
    UNMATCHED_READS = Code("W0104", "reads glob matches nothing")
    QUOTED_ESCAPE = Code("W0105", "escape inside shell single quotes")

    @classmethod
    def all(cls) -> list[Code]:
        """Return every code, sorted by id."""
        found = [value for value in vars(cls).values() if isinstance(value, Code)]
        return sorted(found, key=lambda code: code.id)


@attrs.frozen
class Label:
    """A secondary location with a short note, such as a first definition."""

    source: Source
    span: Span
    message: str


@attrs.frozen
class Diagnostic:
    """One problem in a spec: a code, a message, where it is and how to fix it.

    `primary_label` is the short text printed next to the carets. `source` and
    `span` are None for problems that have no place in a file,
    such as an override given on the command line.
    """

    code: Code
    message: str
    source: Source | None = None
    span: Span | None = None
    primary_label: str = ""
    labels: tuple[Label, ...] = ()
    help: str = ""

    @property
    def severity(self) -> Severity:
        return self.code.severity

    def sort_key(self) -> tuple[str, int, str]:
        name = self.source.name if self.source is not None else ""
        start = self.span.start if self.span is not None else -1
        return (name, start, self.code.id)


class CompileError(Exception):
    """A spec that cannot be compiled, with every error found in it.

    `skipped` names the checks that did not run, for the line that counts the
    errors: after a syntax error, some checks wait until it is fixed.
    """

    def __init__(self, diagnostics: list[Diagnostic], skipped: str = "") -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.skipped = skipped
        first = self.diagnostics[0].message if self.diagnostics else "invalid spec"
        super().__init__(first)


class InternalError(Exception):
    """A broken invariant inside parc: a bug, not a problem in the spec."""

    def __init__(self, message: str) -> None:
        super().__init__(
            f"{message}\nThis is a bug in parc. Please report it with the spec that triggered it."
        )
