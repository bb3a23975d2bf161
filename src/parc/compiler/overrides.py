"""Path problems that a command-line override causes, reported once per override.

`parc build out=/tmp/x` can make every string that uses `{{out}}` an
invalid path. One error per use would point at spec lines that are fine as
written, and tell the user to edit them. So a path problem counts as the
override's fault when the spec's own values make a valid path of the same
string; such problems are grouped by the overrides involved and the kind of
problem, and each group is one error that names the override.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from parc.compiler.names import Resolved, Variables, expand
from parc.diagnostics import Code, Codes, Diagnostic, Label
from parc.globs import GlobError
from parc.grammar import syntax as s
from parc.source import Source

MAX_LABELS = 4
"""The most other uses that one report marks; the help counts the rest."""


@attrs.frozen
class _Use:
    string: s.String
    value: str
    problem: GlobError


class OverrideProblems:
    """The path problems caused by overrides, grouped until they are reported."""

    def __init__(self, source: Source, lets: list[s.Let], overrides: Mapping[str, str]) -> None:
        self.source = source
        self.lets = lets
        self.overrides = overrides
        self._spec_values: Variables | None = None
        self.groups: dict[tuple[tuple[str, ...], Code], list[_Use]] = {}

    def add(
        self,
        step: str,
        string: s.String,
        value: str,
        resolved: Resolved,
        code: Code,
        problem: GlobError,
        check: Callable[[str], object],
    ) -> bool:
        """Record a path problem if the overrides in `resolved` cause it.

        `check` is the validation that failed on `value`, the string's
        value for `step`. Returns False when the spec's own values fail too:
        then the spec is at fault, and the caller reports the problem.
        """
        own = self._spec_variables().resolve(string)
        if not own.complete:
            return False
        try:
            check(expand(own.template, step))
        except GlobError:
            return False
        key = (tuple(sorted(resolved.overrides)), code)
        self.groups.setdefault(key, []).append(_Use(string, value, problem))
        return True

    def _spec_variables(self) -> Variables:
        """Return the variables as the spec defines them, without overrides."""
        if self._spec_values is None:
            self._spec_values = Variables(self.source, self.lets, {})
        return self._spec_values

    def diagnostics(self) -> list[Diagnostic]:
        """Return one error for each group of problems."""
        return [self._report(names, code, uses) for (names, code), uses in self.groups.items()]

    def _report(self, names: tuple[str, ...], code: Code, uses: list[_Use]) -> Diagnostic:
        first = uses[0]
        labels = tuple(
            Label(self.source, use.string.span, f"and here: `{use.value}`")
            for use in uses[1 : 1 + MAX_LABELS]
        )
        help = _reason(code) + ": " + self._fix(names)
        unshown = len(uses) - 1 - len(labels)
        if unshown:
            strings = "string with the same problem is" if unshown == 1 else "strings with it are"
            help += f"; {unshown} more {strings} not shown"
        return Diagnostic(
            code,
            f"{first.problem.message}, because of the {self._overrides(names)}",
            self.source,
            first.string.span,
            primary_label=self.describe(names),
            labels=labels,
            help=help,
        )

    def describe(self, names: tuple[str, ...]) -> str:
        """Say which values come from the command line, such as "`out` is `x` from ..."."""
        values = _join(
            [
                f"`{name}` is `{self.overrides[name]}`"
                if self.overrides[name]
                else f"`{name}` is empty"
                for name in names
            ]
        )
        return f"{values} from the command line {self._overrides(names)}"

    def _overrides(self, names: tuple[str, ...]) -> str:
        words = _join([f"`{name}={self.overrides[name]}`" for name in names])
        return f"override {words}" if len(names) == 1 else f"overrides {words}"

    def _fix(self, names: tuple[str, ...]) -> str:
        """Say how to fix the override: another value, or the spec's own `let`."""
        if len(names) > 1:
            return "pass other values, or leave out the overrides to use the spec's values"
        name = names[0]
        let = next(let for let in self.lets if let.name.text == name)
        written = self.source.text[let.span.start : let.span.end]
        if "\n" in written:
            written = f"let {name}"
        return f"pass `{name}` another value, or leave out the override to use `{written}`"


def _reason(code: Code) -> str:
    if code is Codes.ABSOLUTE_PATH:
        return "paths are relative to the directory of the spec file"
    if code is Codes.PATH_OUTSIDE_ROOT:
        return "paths must stay inside the directory of the spec file"
    return "the value must make a valid glob"


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
