"""Variables and interpolation: `let`, `{{name}}`, `{{step}}` and overrides.

A variable's value is a template: text with `{{step}}` left open, because
`{{step}}` means the step that finally uses the string. Templates are
expanded where a step uses them, so `let out = "build/{{step}}"` gives each
step its own directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from parc.diagnostics import Codes, Diagnostic, Label
from parc.grammar import syntax as s
from parc.source import Source
from parc.suggest import closest_name

STEP_VARIABLE = "step"
"""The variable that every string can use for the name of its step."""


@attrs.frozen
class StepName:
    """The place in a template where `{{step}}` goes."""


TemplatePart = str | StepName
Template = tuple[TemplatePart, ...]


def expand(template: Template, step: str) -> str:
    """Return the template's text for the step named `step`."""
    return "".join(step if isinstance(part, StepName) else part for part in template)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """Return the closest candidate to a misspelled name, if one is close enough."""
    return closest_name(name, candidates)


def did_you_mean(name: str, candidates: Iterable[str], fallback: str) -> str:
    found = suggest(name, candidates)
    return f"did you mean `{found}`?" if found is not None else fallback


@attrs.frozen
class Resolved:
    """A string with its interpolations resolved.

    `complete` is False when an interpolation failed, directly or through a
    variable whose own value failed: the template then lacks those parts,
    and the string deserves no further checks, because the error is
    already reported. `overrides` names the overridden variables whose
    command-line values the template contains.
    """

    template: Template
    complete: bool = True
    overrides: frozenset[str] = frozenset()


class Variables:
    """The `let` variables of a document, resolved in order, with overrides applied.

    Problems go to `diagnostics`; a variable with a problem still gets a value,
    so later checks can go on.
    """

    def __init__(self, source: Source, lets: list[s.Let], overrides: Mapping[str, str]) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.values: dict[str, Template] = {}
        self.definitions: dict[str, s.Let] = {}
        self.used: set[str] = set(overrides)
        # The variables whose value misses a failed interpolation, and the
        # overridden variables that each variable's value contains.
        self.incomplete: set[str] = set()
        self.contains: dict[str, frozenset[str]] = {}
        all_lets = {let.name.text: let for let in reversed(lets)}

        for let in lets:
            name = let.name.text
            if name == STEP_VARIABLE:
                self.diagnostics.append(
                    Diagnostic(
                        Codes.RESERVED_NAME,
                        "`step` is reserved for the name of the current step",
                        source,
                        let.name.span,
                        help="choose another name for this variable",
                    )
                )
                continue
            first = self.definitions.get(name)
            if first is not None:
                self.diagnostics.append(
                    Diagnostic(
                        Codes.DUPLICATE_VARIABLE,
                        f"variable `{name}` is defined twice",
                        source,
                        let.name.span,
                        primary_label="defined again here",
                        labels=(Label(source, first.name.span, "first defined here"),),
                        help="remove one definition, or rename one of the variables",
                    )
                )
                continue
            if name in overrides:
                self.values[name] = (overrides[name],)
                self.contains[name] = frozenset([name])
            else:
                resolved = self.resolve(let.value, later=all_lets, defining=name)
                self.values[name] = resolved.template
                self.contains[name] = resolved.overrides
                if not resolved.complete:
                    self.incomplete.add(name)
            self.definitions[name] = let

        for name in sorted(overrides):
            if name not in self.definitions:
                self.diagnostics.append(
                    Diagnostic(
                        Codes.UNKNOWN_OVERRIDE,
                        f"`{name}={overrides[name]}` overrides `{name}`, which no `let` defines",
                        help=did_you_mean(
                            name,
                            self.definitions,
                            "overrides set variables that the spec defines with `let`",
                        ),
                    )
                )

    def resolve(
        self,
        string: s.String,
        later: Mapping[str, s.Let] | None = None,
        defining: str | None = None,
    ) -> Resolved:
        """Resolve a string's interpolations to a template.

        `later` holds the variables that are defined further down; while a
        `let` is resolved, only the variables above it are visible, and
        `defining` is the name that `let` defines.
        """
        parts: list[TemplatePart] = []
        complete = True
        overrides: frozenset[str] = frozenset()
        for part in string.parts:
            if isinstance(part, s.Text):
                parts.append(part.value)
                continue
            name = part.name
            if name == STEP_VARIABLE:
                parts.append(StepName())
                continue
            value = self.values.get(name)
            if value is not None:
                self.used.add(name)
                parts.extend(value)
                if name in self.incomplete:
                    complete = False
                overrides |= self.contains[name]
                continue
            complete = False
            self.diagnostics.append(self._undefined(part, later, defining))
        return Resolved(_merge(parts), complete, overrides)

    def _undefined(
        self, part: s.Interpolation, later: Mapping[str, s.Let] | None, defining: str | None
    ) -> Diagnostic:
        name = part.name
        if name == defining:
            # The variable is defined, so it is not reported as unused too.
            self.used.add(name)
            return Diagnostic(
                Codes.UNDEFINED_VARIABLE,
                f"variable `{name}` is used in its own definition",
                self.source,
                part.span,
                help="a `let` sees only the variables above it, so write the value out here",
            )
        if later is not None and name in later and name not in self.definitions:
            self.used.add(name)
            let = later[name]
            line = self.source.position(let.span.start).line
            return Diagnostic(
                Codes.UNDEFINED_VARIABLE,
                f"variable `{name}` is used before its definition on line {line}",
                self.source,
                part.span,
                labels=(Label(self.source, let.name.span, "defined here"),),
                help=f"move `let {name}` above this line",
            )
        candidates = [*self.values, STEP_VARIABLE]
        # A variable that the misspelling was probably meant for is not
        # reported as unused as well.
        meant = suggest(name, candidates)
        if meant is not None:
            self.used.add(meant)
        return Diagnostic(
            Codes.UNDEFINED_VARIABLE,
            f"undefined variable `{name}`",
            self.source,
            part.span,
            help=did_you_mean(
                name,
                candidates,
                f'define it with `let {name} = "..."`, or write `{{{{{{{{` for a literal `{{{{`',
            ),
        )


def _merge(parts: list[TemplatePart]) -> Template:
    merged: list[TemplatePart] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + part
        elif part != "":
            merged.append(part)
    return tuple(merged)
