"""The semantic checks on a spec with syntax errors, limited to what they can tell for sure.

The parser goes on after a syntax error by leaving out the lines it spoils
(see `parc.grammar.parse`), so the checks see a document with gaps. A gap
can only remove definitions, dependencies and uses, which makes three kinds
of finding unreliable, and these are dropped:

- a finding whose place, or one of its labels, lies in a gap;
- an undefined or unused step, variable or pool whose name appears in a gap,
  where its definition or its use may have been (overrides of such a
  variable are left out for the same reason);
- a step without `run`, and any dependency cycle, when the step contains a
  gap: a lost `after` line makes an `integrate` step run after every track,
  which can close a cycle that the spec does not have.

Conflicts and races between files are not checked at all, because a lost
`after` or `cwd` line changes them. Every other finding stands.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from parc.compiler.analyze import analyze
from parc.diagnostics import Codes, CompileError, Diagnostic
from parc.grammar import syntax as s
from parc.grammar.parse import Parsed
from parc.source import Span

SKIPPED_ALL = "the other checks run once the syntax errors are fixed"
SKIPPED_FILES = "file conflicts and races are checked once the syntax errors are fixed"
SKIPPED_CYCLES = "cycles, file conflicts and races are checked once the syntax errors are fixed"

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

# The findings that report a name as missing or unused, and their span covers
# that name (or, for variables, `{{name}}`).
_ABOUT_A_NAME = frozenset(
    [
        Codes.UNDEFINED_STEP,
        Codes.UNDEFINED_VARIABLE,
        Codes.UNDEFINED_POOL,
        Codes.UNUSED_VARIABLE,
        Codes.UNUSED_POOL,
    ]
)


def check_recovered(
    parsed: Parsed, overrides: Mapping[str, str] | None, root: Path | None
) -> CompileError:
    """Return the error for a spec with syntax errors: those, and every reliable other finding."""
    syntax = list(parsed.diagnostics)
    document = parsed.document
    if document is None:
        return CompileError(syntax, skipped=SKIPPED_ALL)

    text = document.source.text
    uncertain = {
        word for span in parsed.damaged for word in _WORD.findall(text[span.start : span.end])
    }
    kept_overrides = {
        name: value for name, value in (overrides or {}).items() if name not in uncertain
    }
    try:
        compiled = analyze(document, kept_overrides, root, check_files=False)
    except CompileError as error:
        findings = error.diagnostics
    else:
        findings = list(compiled.warnings)

    damaged_steps = {
        statement.name.span
        for statement in document.statements
        if isinstance(statement, s.Step) and _touches_any(statement.span, parsed.damaged)
    }
    kept = [
        finding
        for finding in findings
        if _reliable(finding, text, parsed.damaged, uncertain, damaged_steps)
    ]
    skipped = SKIPPED_CYCLES if damaged_steps else SKIPPED_FILES
    return CompileError([*syntax, *kept], skipped=skipped)


def _reliable(
    finding: Diagnostic,
    text: str,
    damaged: tuple[Span, ...],
    uncertain: set[str],
    damaged_steps: set[Span],
) -> bool:
    """Tell whether a finding is true whatever the lines left out contained."""
    spans = [label.span for label in finding.labels]
    if finding.span is not None:
        spans.append(finding.span)
    if any(_touches_any(span, damaged) for span in spans):
        return False
    if finding.code in _ABOUT_A_NAME and finding.span is not None:
        name = text[finding.span.start : finding.span.end].strip("{}")
        if name in uncertain:
            return False
    if finding.code is Codes.NO_RUN and finding.span in damaged_steps:
        return False
    return not (finding.code is Codes.CYCLE and damaged_steps)


def _touches_any(span: Span, damaged: tuple[Span, ...]) -> bool:
    return any(span.start < gap.end and gap.start < span.end for gap in damaged)
