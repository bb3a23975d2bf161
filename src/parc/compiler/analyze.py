"""The semantic checks that turn a syntax tree into a plan.

Design note: the analyzer never stops at the first problem. Each check records
diagnostics and gives the later checks the best value it can (a step with an
undefined dependency keeps its other dependencies), so one run reports every
independent error. Cycles are looked for among the dependencies that
resolved: an undefined name in `after` adds no edge, and defining it later
can add a cycle but not break one. Conflicts between `owns` globs do not
depend on the graph at all. Races do, so they are checked only on a graph
without cycles and without undefined names in `after`, where a missing
dependency cannot pass for a race.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from parc.compiled import Compiled, GlobSite
from parc.compiler.conflicts import check_conflicts, check_races, check_spec_owned
from parc.compiler.cycles import find_cycles
from parc.compiler.names import (
    STEP_VARIABLE,
    Resolved,
    Variables,
    did_you_mean,
    expand,
    suggest,
)
from parc.compiler.overrides import OverrideProblems
from parc.compiler.shell import single_quoted
from parc.diagnostics import Codes, CompileError, Diagnostic, Label, Severity
from parc.globs import AbsolutePath, Glob, GlobError, PathEscape, normalize_path, parse_glob
from parc.grammar import syntax as s
from parc.plan import Plan, PlanStep
from parc.source import Source, Span

MAX_RETRIES = 100
MAX_TIMEOUT = 7 * 24 * 3600.0
MAX_POOL_SIZE = 100_000

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@attrs.frozen
class Edge:
    """A dependency of `step` on `target`, with the place that declares it."""

    step: str
    target: str
    span: Span
    implicit: bool = False


def analyze(
    document: s.Document,
    overrides: Mapping[str, str] | None = None,
    root: Path | None = None,
    *,
    check_files: bool = True,
) -> Compiled:
    """Check a document and build its plan.

    Without `check_files`, conflicts and races between the steps' files are
    not looked for, and the plan's `unowned_reads` is empty.

    Raises:
        CompileError: the spec has errors; warnings are included with them.
    """
    return _Analyzer(document, overrides or {}, root, check_files).run()


@attrs.define
class _StepInfo:
    decl: s.Step
    desc: s.Desc | None = None
    cwd: s.Cwd | None = None
    timeout: s.Timeout | None = None
    retries: s.Retries | None = None
    pool: s.PoolRef | None = None
    after: list[s.Name] = attrs.Factory(list)
    reads: list[s.String] = attrs.Factory(list)
    owns: list[s.String] = attrs.Factory(list)
    runs: list[s.String] = attrs.Factory(list)
    env: dict[str, s.Env] = attrs.Factory(dict)


class _Analyzer:
    def __init__(
        self,
        document: s.Document,
        overrides: Mapping[str, str],
        root: Path | None,
        check_files: bool,
    ):
        self.document = document
        self.check_files = check_files
        self.source: Source = document.source
        self.root = root if root is not None else Path(self.source.name).resolve().parent
        self.overrides = overrides
        self.diagnostics: list[Diagnostic] = []
        self.unresolved_after = False

    def error(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    def run(self) -> Compiled:
        # Phases: variables, pools, environment and steps; then dependencies,
        # targets and per-step values; then cycles; then file conflicts.
        statements = self.document.statements
        lets = [statement for statement in statements if isinstance(statement, s.Let)]
        self.variables = Variables(self.source, lets, self.overrides)

        self.pools = self._collect_pools(statements)
        self.top_env = self._collect_env(
            [statement for statement in statements if isinstance(statement, s.Env)]
        )
        # Top-level values are resolved once; each step only expands `{{step}}`.
        self.top_env_values = {
            key: (statement.value, self._resolve(statement.value))
            for key, statement in self.top_env.items()
        }
        self.steps = self._collect_steps(statements)
        self.override_problems = OverrideProblems(self.source, lets, self.overrides)
        self.used_pools: set[str] = set()
        self.read_sites: list[GlobSite] = []
        self.own_sites: list[GlobSite] = []
        self.owns_from_overrides: dict[Span, frozenset[str]] = {}

        edges = self._resolve_dependencies()
        defaults = self._resolve_defaults(statements)
        after: dict[str, list[str]] = {name: [] for name in self.steps}
        for edge in edges:
            after[edge.step].append(edge.target)
        plan_steps = [
            self._build_step(index, info, tuple(after[name]))
            for index, (name, info) in enumerate(self.steps.items())
        ]
        self.diagnostics.extend(self.variables.diagnostics)
        self.diagnostics.extend(self.override_problems.diagnostics())
        self._warn_unused(lets, statements)

        cycles = find_cycles(self.source, list(self.steps), edges)
        self.diagnostics.extend(cycles)
        unowned_reads: tuple[GlobSite, ...] = ()
        races_wait_for = self._races_wait_for(bool(cycles))
        if self.check_files:
            self.diagnostics.extend(check_conflicts(self.source, self.own_sites))
        if self.check_files and not races_wait_for:
            implicit = frozenset((edge.step, edge.target) for edge in edges if edge.implicit)
            races = check_races(self.source, plan_steps, self.read_sites, self.own_sites, implicit)
            self.diagnostics.extend(races.diagnostics)
            unowned_reads = races.unowned_reads
        spec_owned = check_spec_owned(self.source, self.own_sites, self._spec_name())
        self.diagnostics.extend(self._name_overrides(spec_owned))

        if self.has_errors:
            skipped = ""
            if self.check_files and races_wait_for:
                skipped = f"races are checked once the {races_wait_for} are fixed"
            raise CompileError(self.diagnostics, skipped=skipped)

        plan = Plan(
            spec=self.source.name,
            root=str(self.root),
            steps=tuple(plan_steps),
            pools={name: pool.size.value for name, pool in self.pools.items()},
            defaults=defaults,
        )
        warnings = tuple(sorted(self.diagnostics, key=Diagnostic.sort_key))
        return Compiled(plan, warnings, self.source, unowned_reads)

    def _races_wait_for(self, cycles: bool) -> str:
        """Name the errors that keep races from being checked, or return "" when none do."""
        if not self.read_sites or not self.own_sites:
            return ""  # no race is possible, so none is left unchecked
        causes = []
        if cycles:
            causes.append("dependency cycles")
        if self.unresolved_after:
            causes.append("undefined steps in `after`")
        return " and ".join(causes)

    def _name_overrides(self, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        """Add to each diagnostic about an `owns` glob the overrides that its value contains."""
        named = []
        for diagnostic in diagnostics:
            overrides = self.owns_from_overrides.get(diagnostic.span) if diagnostic.span else None
            if overrides:
                described = self.override_problems.describe(tuple(sorted(overrides)))
                diagnostic = attrs.evolve(diagnostic, help=f"{described}; {diagnostic.help}")
            named.append(diagnostic)
        return named

    def _spec_name(self) -> str:
        """Return the spec file's path relative to the root, its directory: the file's name."""
        spec = Path(self.source.name)
        resolved = spec.resolve()
        return resolved.name if resolved.parent == self.root else spec.name

    # Definitions.

    def _collect_pools(self, statements: tuple[s.TopStatement, ...]) -> dict[str, s.PoolDef]:
        pools: dict[str, s.PoolDef] = {}
        for statement in statements:
            if not isinstance(statement, s.PoolDef):
                continue
            name = statement.name.text
            if name in pools:
                self.error(
                    Diagnostic(
                        Codes.DUPLICATE_POOL,
                        f"pool `{name}` is defined twice",
                        self.source,
                        statement.name.span,
                        primary_label="defined again here",
                        labels=(Label(self.source, pools[name].name.span, "first defined here"),),
                        help="remove one definition, or rename one of the pools",
                    )
                )
                continue
            size = statement.size.value
            if size < 1 or size > MAX_POOL_SIZE:
                self.error(
                    Diagnostic(
                        Codes.INVALID_POOL_SIZE,
                        f"pool `{name}` has size {size}; it must be between 1 and {MAX_POOL_SIZE}",
                        self.source,
                        statement.size.span,
                        help="a pool of size 1 runs its steps one at a time",
                    )
                )
            pools[name] = statement
        return pools

    def _collect_env(self, statements: list[s.Env]) -> dict[str, s.Env]:
        env: dict[str, s.Env] = {}
        for statement in statements:
            name = statement.name.text
            if not _ENV_NAME.match(name):
                self.error(
                    Diagnostic(
                        Codes.INVALID_ENV_NAME,
                        f"`{name}` is not a valid environment variable name",
                        self.source,
                        statement.name.span,
                        help="use letters, digits and `_`, such as `"
                        + name.replace("-", "_")
                        + "`",
                    )
                )
            first = env.get(name)
            if first is not None:
                self.error(
                    Diagnostic(
                        Codes.DUPLICATE_ENV,
                        f"environment variable `{name}` is set twice",
                        self.source,
                        statement.name.span,
                        primary_label="set again here",
                        labels=(Label(self.source, first.name.span, "first set here"),),
                        help="remove one of the two lines",
                    )
                )
                continue
            env[name] = statement
        return env

    def _collect_steps(self, statements: tuple[s.TopStatement, ...]) -> dict[str, _StepInfo]:
        steps: dict[str, _StepInfo] = {}
        for statement in statements:
            if not isinstance(statement, s.Step):
                continue
            name = statement.name.text
            if name in steps:
                first = steps[name].decl
                self.error(
                    Diagnostic(
                        Codes.DUPLICATE_STEP,
                        f"step `{name}` is defined twice",
                        self.source,
                        statement.name.span,
                        primary_label="defined again here",
                        labels=(Label(self.source, first.name.span, "first defined here"),),
                        help="rename one of the two steps",
                    )
                )
                continue
            steps[name] = self._collect_body(statement)
        return steps

    def _collect_body(self, decl: s.Step) -> _StepInfo:
        info = _StepInfo(decl)
        if decl.header_after is not None:
            info.after.extend(decl.header_after.names)
        env_statements: list[s.Env] = []
        for statement in decl.body:
            if isinstance(statement, s.After):
                info.after.extend(statement.names)
            elif isinstance(statement, s.Reads):
                info.reads.extend(statement.globs)
            elif isinstance(statement, s.Owns):
                info.owns.extend(statement.globs)
            elif isinstance(statement, s.Run):
                info.runs.append(statement.command)
            elif isinstance(statement, s.Env):
                env_statements.append(statement)
            else:
                self._set_once(info, statement)
        info.env = self._collect_env(env_statements)
        return info

    def _set_once(self, info: _StepInfo, statement: s.BodyStatement) -> None:
        """Record a setting that a step may give only once, such as `timeout`."""
        field = {
            s.Desc: "desc",
            s.Cwd: "cwd",
            s.Timeout: "timeout",
            s.Retries: "retries",
            s.PoolRef: "pool",
        }[type(statement)]
        first = getattr(info, field)
        if first is not None:
            self.error(
                Diagnostic(
                    Codes.DUPLICATE_SETTING,
                    f"step `{info.decl.name.text}` sets `{field}` twice",
                    self.source,
                    statement.span,
                    primary_label="set again here",
                    labels=(Label(self.source, first.span, "first set here"),),
                    help=f"keep one `{field}` line",
                )
            )
            return
        setattr(info, field, statement)

    # Dependencies and targets.

    def _resolve_dependencies(self) -> list[Edge]:
        tracks = [name for name, info in self.steps.items() if info.decl.kind == "track"]
        edges: list[Edge] = []
        for name, info in self.steps.items():
            if info.decl.kind == "integrate" and not info.after:
                # An integration step without `after` runs after every track.
                edges.extend(
                    Edge(name, track, info.decl.name.span, implicit=True) for track in tracks
                )
                continue
            seen: set[str] = set()
            for reference in info.after:
                target = reference.text
                if target in seen:
                    continue  # a repeated name counts, and is reported, once
                seen.add(target)
                if target == name:
                    self.error(
                        Diagnostic(
                            Codes.SELF_DEPENDENCY,
                            f"step `{name}` runs after itself",
                            self.source,
                            reference.span,
                            help=f"remove `{name}` from its own `after` list",
                        )
                    )
                    continue
                if target not in self.steps:
                    self.error(self._undefined_step(reference, "after"))
                    self.unresolved_after = True
                    continue
                edges.append(Edge(name, target, reference.span))
        return edges

    def _undefined_step(self, reference: s.Name, where: str) -> Diagnostic:
        return Diagnostic(
            Codes.UNDEFINED_STEP,
            f"undefined step `{reference.text}` in `{where}`",
            self.source,
            reference.span,
            help=did_you_mean(
                reference.text,
                self.steps,
                "define it with `track " + reference.text + " { ... }`, or remove it",
            ),
        )

    def _resolve_defaults(self, statements: tuple[s.TopStatement, ...]) -> tuple[str, ...]:
        defaults: list[str] = []
        seen: set[str] = set()
        for statement in statements:
            if not isinstance(statement, s.Default):
                continue
            for reference in statement.names:
                if reference.text in seen:
                    continue
                seen.add(reference.text)
                if reference.text not in self.steps:
                    self.error(self._undefined_step(reference, "default"))
                else:
                    defaults.append(reference.text)
        return tuple(defaults)

    # Per-step values.

    def _build_step(self, index: int, info: _StepInfo, after: tuple[str, ...]) -> PlanStep:
        decl = info.decl
        name = decl.name.text

        def value(string: s.String) -> tuple[str, Resolved | None]:
            parts = string.parts
            if len(parts) == 1 and type(parts[0]) is s.Text:
                return parts[0].value, None  # most strings are plain text
            resolved = self.variables.resolve(string)
            return expand(resolved.template, name), resolved

        def text(string: s.String) -> str:
            return value(string)[0]

        env = {
            key: _text(string, resolved, name)
            for key, (string, resolved) in self.top_env_values.items()
        }
        env.update({key: text(statement.value) for key, statement in info.env.items()})

        reads = [self._glob(name, string, *value(string)) for string in info.reads]
        owns = []
        for string in info.owns:
            text_value, resolved = value(string)
            owns.append(self._glob(name, string, text_value, resolved))
            if resolved is not None and resolved.overrides:
                self.owns_from_overrides[string.span] = resolved.overrides
        for string, glob in zip(info.reads, reads, strict=True):
            if glob is not None:
                self.read_sites.append(GlobSite(name, glob, string.span))
        for string, glob in zip(info.owns, owns, strict=True):
            if glob is not None:
                self.own_sites.append(GlobSite(name, glob, string.span))
        cwd = "."
        if info.cwd is not None:
            cwd = self._cwd(name, info.cwd, *value(info.cwd.path))
        commands = tuple(text(string) for string in info.runs)
        for string in info.runs:
            if any(type(part) is s.Text and part.escapes for part in string.parts):
                self._warn_quoted_escapes(name, string)

        if not info.runs:
            self.error(
                Diagnostic(
                    Codes.NO_RUN,
                    f"step `{name}` has no `run` command",
                    self.source,
                    decl.name.span,
                    help='add `run "..."`; a step without commands only groups its dependencies',
                )
            )

        pool = None
        if info.pool is not None:
            pool = info.pool.name.text
            if pool not in self.pools:
                meant = suggest(pool, self.pools)
                if meant is not None:
                    self.used_pools.add(meant)  # no unused warning for the pool meant
                self.error(
                    Diagnostic(
                        Codes.UNDEFINED_POOL,
                        f"undefined pool `{pool}`",
                        self.source,
                        info.pool.name.span,
                        help=did_you_mean(pool, self.pools, f"define it with `pool {pool} = 1`"),
                    )
                )
            self.used_pools.add(pool)

        position = self.source.position(decl.span.start)
        return PlanStep(
            name=name,
            kind=decl.kind,
            index=index,
            commands=commands,
            after=after,
            desc=self._desc(info.desc, *value(info.desc.value)) if info.desc is not None else "",
            env=tuple(env.items()),
            cwd=cwd,
            reads=tuple(glob.text for glob in reads if glob is not None),
            owns=tuple(glob.text for glob in owns if glob is not None),
            timeout=self._timeout(info.timeout),
            retries=self._retries(info.retries),
            pool=pool,
            location=f"{self.source.name}:{position.line}:{position.column}",
        )

    def _resolve(self, string: s.String) -> Resolved | None:
        """Resolve a string's interpolations; None for plain text, which needs no resolving."""
        parts = string.parts
        if len(parts) == 1 and type(parts[0]) is s.Text:
            return None
        return self.variables.resolve(string)

    def _glob(
        self, step: str, string: s.String, value: str, resolved: Resolved | None
    ) -> Glob | None:
        if resolved is not None and not resolved.complete:
            return None  # a failed interpolation is reported already
        try:
            return parse_glob(value)
        except GlobError as problem:
            self._path_problem(step, string, value, resolved, problem, parse_glob)
            return None

    def _cwd(self, step: str, statement: s.Cwd, value: str, resolved: Resolved | None) -> str:
        if resolved is not None and not resolved.complete:
            return "."
        try:
            return normalize_path(value)
        except GlobError as problem:
            self._path_problem(step, statement.path, value, resolved, problem, normalize_path)
            return "."

    def _path_problem(
        self,
        step: str,
        string: s.String,
        value: str,
        resolved: Resolved | None,
        problem: GlobError,
        check: Callable[[str], object],
    ) -> None:
        """Report an invalid path, or record it as the fault of a command-line override."""
        code = Codes.INVALID_GLOB
        if isinstance(problem, AbsolutePath):
            code = Codes.ABSOLUTE_PATH
        elif isinstance(problem, PathEscape):
            code = Codes.PATH_OUTSIDE_ROOT
        caused_by_override = (
            resolved is not None
            and resolved.overrides
            and self.override_problems.add(step, string, value, resolved, code, problem, check)
        )
        if caused_by_override:
            return
        span = string.span
        raw = self.source.text[span.start : span.end]
        # Point at the offending character when the literal is written plainly.
        if not string.long and raw[1:-1] == value and problem.offset < len(value):
            start = span.start + 1 + problem.offset
            span = Span(start, start + problem.width)
        self.error(Diagnostic(code, problem.message, self.source, span, help=problem.help))

    def _warn_quoted_escapes(self, step: str, string: s.String) -> None:
        """Warn about `\\n` and `\\t` escapes that end up inside the command's single quotes."""
        pieces: list[str] = []
        escapes: list[tuple[int, s.Escape]] = []  # (index in the command, escape)
        length = 0
        for part in string.parts:
            if isinstance(part, s.Text):
                escapes.extend((length + escape.index, escape) for escape in part.escapes)
                piece = part.value
            elif part.name == STEP_VARIABLE:
                piece = step
            elif part.name in self.variables.values and part.name not in self.variables.incomplete:
                piece = expand(self.variables.values[part.name], step)
            else:
                return  # a failed interpolation, reported already
            pieces.append(piece)
            length += len(piece)

        ranges = single_quoted("".join(pieces))
        quoted = [
            escape
            for index, escape in escapes
            if any(start <= index < end for start, end in ranges)
        ]
        if quoted:
            self.error(_quoted_escapes(self.source, quoted))

    def _desc(self, statement: s.Desc, value: str, resolved: Resolved | None) -> str:
        """Check that a description is one line: `parc list` shows it in a table."""
        if "\n" not in value and "\r" not in value:
            return value
        if resolved is not None and not resolved.complete:
            return value
        string = statement.value
        span = string.span
        label = "this string spans lines" if string.long else "its value has a line break"
        escape = next(
            (
                escape
                for part in string.parts
                if isinstance(part, s.Text)
                for escape in part.escapes
                if part.value[escape.index] == "\n"
            ),
            None,
        )
        if escape is not None:
            span, label = escape.span, "a line break"
        elif string.long:
            span = Span(span.start, span.start + 3)  # the opening quotes
        self.error(
            Diagnostic(
                Codes.MULTI_LINE_DESC,
                "a `desc` must be one line",
                self.source,
                span,
                primary_label=label,
                help="`parc list` shows it as one row of a table; "
                "put the details in a comment above the step",
            )
        )
        return value

    def _timeout(self, statement: s.Timeout | None) -> float | None:
        if statement is None:
            return None
        seconds = statement.duration.seconds
        if seconds <= 0 or seconds > MAX_TIMEOUT or not math.isfinite(seconds):
            self.error(
                Diagnostic(
                    Codes.INVALID_TIMEOUT,
                    f"timeout `{statement.duration.text}` is out of range",
                    self.source,
                    statement.duration.span,
                    help="a timeout is more than 0 and at most 168h (7 days)",
                )
            )
            return None
        return seconds

    def _retries(self, statement: s.Retries | None) -> int:
        if statement is None:
            return 0
        count = statement.count.value
        if count > MAX_RETRIES:
            self.error(
                Diagnostic(
                    Codes.INVALID_RETRIES,
                    f"`retries {count}` is more than the limit of {MAX_RETRIES}",
                    self.source,
                    statement.count.span,
                    help="a flaky step rarely needs more than 3 retries",
                )
            )
            return MAX_RETRIES
        return count

    # Warnings and files.

    def _warn_unused(self, lets: list[s.Let], statements: tuple[s.TopStatement, ...]) -> None:
        for name, let in self.variables.definitions.items():
            if name not in self.variables.used:
                self.error(
                    Diagnostic(
                        Codes.UNUSED_VARIABLE,
                        f"variable `{name}` is never used",
                        self.source,
                        let.name.span,
                        help="remove it, or use it as `{{" + name + "}}`",
                    )
                )
        for name, pool in self.pools.items():
            if name not in self.used_pools:
                self.error(
                    Diagnostic(
                        Codes.UNUSED_POOL,
                        f"pool `{name}` is never used",
                        self.source,
                        pool.name.span,
                        help=f"remove it, or add `pool {name}` to the steps it should limit",
                    )
                )


def _text(string: s.String, resolved: Resolved | None, step: str) -> str:
    """Return the value of a string for `step`; `resolved` is None for plain text."""
    if resolved is None:
        text = string.parts[0]
        assert isinstance(text, s.Text)
        return text.value
    return expand(resolved.template, step)


def _quoted_escapes(source: Source, escapes: list[s.Escape]) -> Diagnostic:
    """Warn about escapes that put a newline or a tab inside shell single quotes."""
    written = [source.text[escape.span.start : escape.span.end] for escape in escapes]
    first = written[0]
    meaning = "a newline" if first == "\\n" else "a tab"
    kinds = list(dict.fromkeys(written))  # in the order they appear
    letters = " or ".join(f"`{kind[1]}`" for kind in kinds)
    doubled = " and ".join(f"`\\{kind}`" for kind in kinds)
    return Diagnostic(
        Codes.QUOTED_ESCAPE,
        f"`{first}` puts {meaning} inside single quotes in the command",
        source,
        escapes[0].span,
        primary_label=f"parc turns this into {meaning}",
        labels=tuple(
            Label(source, escape.span, f"and `{kind}` here")
            for escape, kind in zip(escapes[1:], written[1:], strict=True)
        ),
        help=f"write {doubled} to pass a backslash and {letters} to the command",
    )
