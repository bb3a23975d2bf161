"""Checks after a syntax error: every syntax error, and the findings the gaps cannot change."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parc.compiler import compile_source
from parc.compiler.recovery import SKIPPED_ALL, SKIPPED_CYCLES, SKIPPED_FILES
from parc.diagnostics import Codes, CompileError, Diagnostic
from parc.source import Source


def compile_error(text: str, overrides: Mapping[str, str] | None = None) -> CompileError:
    with pytest.raises(CompileError) as raised:
        compile_source(Source("build.par", text), overrides)
    return raised.value


def found(text: str, overrides: Mapping[str, str] | None = None) -> list[tuple[str, int]]:
    """Return each diagnostic's code and line, in the order they are reported."""
    result = []
    for diagnostic in compile_error(text, overrides).diagnostics:
        assert diagnostic.source is not None
        assert diagnostic.span is not None
        line = diagnostic.source.position(diagnostic.span.start).line
        result.append((diagnostic.code.id, line))
    return result


def test_syntax_error_keeps_other_errors() -> None:
    text = (
        'let cflags = "-O2"\n'
        "track lib {\n"
        '    read "docs/*.md"\n'
        '    run "cc {{cflags}} -c lib.c"\n'
        "}\n"
        "track app after lbi {\n"
        '    run "cc {{cflag}} app.c"\n'
        "}\n"
    )
    assert found(text) == [("E0101", 3), ("E0201", 6), ("E0205", 7)]
    assert compile_error(text).skipped == SKIPPED_CYCLES


def test_every_syntax_error_reported() -> None:
    text = 'track a {\n    rn "a"\n}\nbogus\ntrack b {\n    run b\n}\nlet = "x"\n'
    assert found(text) == [("E0101", 2), ("E0101", 4), ("E0101", 6), ("E0101", 8)]


def test_skipped_definition_is_not_reported() -> None:
    text = (
        "let cflags = -O2\n"  # a syntax error: the value is not quoted
        "pool cpu == 2\n"
        "track lib afterr x {\n"  # a broken header: the whole block goes
        '    run "make lib"\n'
        "}\n"
        "track app after lib {\n"
        '    run "cc {{cflags}}"\n'
        "    pool cpu\n"
        "}\n"
    )
    assert found(text) == [("E0104", 1), ("E0101", 2), ("E0101", 3)]


def test_skipped_use_is_not_reported() -> None:
    text = 'let flags = "-g"\npool cpu = 2\ntrack a {\n    run cc {{flags}}\n    pool cpu,\n}\n'
    # Without the broken lines, `flags` and `cpu` would be unused and `a` would have no `run`.
    assert found(text) == [("E0101", 4), ("E0101", 5)]


def test_error_outside_gap_is_reported() -> None:
    text = 'track a {\n    rn "a"\n    run "{{nothing}}"\n    pool none\n}\n'
    assert found(text) == [("E0101", 2), ("E0205", 3), ("E0206", 4)]


def test_override_of_skipped_variable_is_not_reported() -> None:
    text = 'let cc = gcc\ntrack a {\n    run "{{cc}}"\n}\n'
    assert found(text, {"cc": "clang"}) == [("E0101", 1)]


def test_unknown_override_still_reported() -> None:
    error = compile_error('let cc = gcc\ntrack a {\n    run "{{cc}}"\n}\n', {"ld": "x"})
    assert [d.code for d in error.diagnostics] == [Codes.UNKNOWN_OVERRIDE, Codes.SYNTAX]


def test_unclosed_block_skipped_to_next_statement() -> None:
    text = 'track a {\n    run "a"\n\ntrack b after a {\n    rn "b"\n}\ntrack c after zz {\n}\n'
    # `b` runs after `a`, whose block is skipped, so only `zz` is undefined.
    assert found(text) == [("E0103", 1), ("E0101", 5), ("W0101", 7), ("E0201", 7)]


def test_dangling_comma_skips_its_list() -> None:
    text = 'track a {\n    reads "x",\n        "y",\n    run "{{v}}"\n}\n'
    assert found(text) == [("E0101", 4), ("E0205", 4)]


def test_dangling_comma_before_error() -> None:
    text = 'track a {\n    reads "x",\n    rn "y"\n    run "{{v}}"\n}\n'
    assert found(text) == [("E0101", 3), ("E0101", 3), ("E0205", 4)]


def test_keyword_name_does_not_cascade() -> None:
    text = 'track run {\n    run "x"\n}\ntrack b after run {\n    run "{{v}}"\n}\n'
    assert found(text) == [("E0107", 1), ("E0107", 4), ("E0205", 5)]


def test_lost_after_does_not_make_cycle() -> None:
    text = (
        "integrate ship {\n"
        "    aftr lib\n"  # without this line, `ship` runs after every track
        '    run "ship"\n'
        "}\n"
        "track lib {\n"
        '    run "lib"\n'
        "}\n"
        "track notes after ship {\n"
        '    run "notes"\n'
        "}\n"
    )
    assert found(text) == [("E0101", 2)]
    assert compile_error(text).skipped == SKIPPED_CYCLES


def test_cycle_found_when_no_step_damaged() -> None:
    text = 'bogus\ntrack a after b {\n    run "a"\n}\ntrack b after a {\n    run "b"\n}\n'
    assert found(text) == [("E0101", 1), ("E0301", 5)]
    assert compile_error(text).skipped == SKIPPED_FILES


def test_files_not_checked_after_syntax_error() -> None:
    text = (
        'bogus\ntrack a {\n    owns "out/**"\n    run "a"\n}\n'
        'track b {\n    owns "out/x"\n    run "b"\n}\n'
    )
    assert found(text) == [("E0101", 1)]


def test_unterminated_long_string_stops() -> None:
    text = 'track a {\n    run """x\n}\ntrack b after zz {\n    run "b"\n}\n'
    error = compile_error(text)
    assert [d.code for d in error.diagnostics] == [Codes.UNTERMINATED_STRING]
    assert error.skipped == SKIPPED_ALL


def test_bad_escape_keeps_other_errors() -> None:
    text = 'let cc = "gcc"\ntrack a after zz {\n    run "\\q {{cc}}"\n}\n'
    # `cc` is used in the string with the bad escape, so it is not reported as unused.
    assert found(text) == [("E0201", 2), ("E0105", 3)]


# The property: a spec, valid or not, whose lines are kept, plus broken lines
# inserted between them. The broken lines use no name of the spec, so the
# gaps they leave change nothing but what they contain.

NAMES = ["a", "b", "c"]
VARIABLES = ["v", "w"]
# A list that ends with `,` is left out: its error is reported on the next
# token, which depends on what follows (test_dangling_comma_before_error).
BODY_JUNK = ['    rn "zzz"', "    run zzz", "    timeout 5min", "    retries 1, 2", "    'zzz'"]
TOP_JUNK = ["bogus", 'rn "zzz"', 'let = "zzz"', "env 5 = zzz", "default ,"]


@attrs.frozen
class Line:
    text: str
    in_body: bool
    """A line inserted before this one lands inside a step's body."""
    step: int | None
    """The index of the step whose header or body this line is part of."""


@st.composite
def spec_lines(draw: st.DrawFn) -> list[Line]:
    lines = [
        Line(f'let {name} = "x"', False, None)
        for name in draw(st.lists(st.sampled_from(VARIABLES), max_size=2))
    ]
    steps = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4))
    for index, name in enumerate(steps):
        kind = draw(st.sampled_from(["track", "integrate"]))
        after = draw(st.lists(st.sampled_from([*NAMES, "u"]), max_size=2))
        header = f"{kind} {name}" + (f" after {', '.join(after)}" if after else "") + " {"
        lines.append(Line(header, False, index))
        for _ in range(draw(st.integers(0, 2))):
            variable = draw(st.sampled_from([*VARIABLES, "step", "x"]))
            lines.append(Line(f'    run "echo {{{{{variable}}}}}"', True, index))
        lines.append(Line("}", True, index))
    return lines


def key(diagnostic: Diagnostic, shift: dict[int, int]) -> tuple[str, int]:
    assert diagnostic.span is not None
    return diagnostic.code.id, shift.get(diagnostic.span.start, diagnostic.span.start)


def diagnostics_of(text: str) -> list[Diagnostic]:
    try:
        compiled = compile_source(Source("build.par", text))
    except CompileError as error:
        return error.diagnostics
    return list(compiled.warnings)


@given(spec_lines(), st.data())
def test_inserted_syntax_error_keeps_other_errors(lines: list[Line], data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 3))
    places = sorted(data.draw(st.lists(st.integers(0, len(lines)), min_size=count, max_size=count)))

    original = "".join(line.text + "\n" for line in lines)
    broken_lines: list[str] = []
    junk_lines: list[int] = []
    damaged_steps: set[int] = set()
    shift: dict[int, int] = {}  # an offset in the original text to the same place in the broken one
    for index in range(len(lines) + 1):
        for _ in range(places.count(index)):
            inside = index < len(lines) and lines[index].in_body
            junk = data.draw(st.sampled_from(BODY_JUNK if inside else TOP_JUNK))
            junk_lines.append(len(broken_lines) + 1)
            broken_lines.append(junk)
            if inside:
                step = lines[index].step
                assert step is not None
                damaged_steps.add(step)
        if index == len(lines):
            break
        start = sum(len(line.text) + 1 for line in lines[:index])
        moved = sum(len(line) + 1 for line in broken_lines) - start
        for column in range(len(lines[index].text) + 1):
            shift[start + column] = start + column + moved
        broken_lines.append(lines[index].text)
    broken = "".join(line + "\n" for line in broken_lines)

    step_headers = {
        sum(len(line.text) + 1 for line in lines[:index]): line.step
        for index, line in enumerate(lines)
        if line.step is not None and not line.in_body
    }

    def still_holds(diagnostic: Diagnostic) -> bool:
        if diagnostic.code is Codes.CYCLE:
            return not damaged_steps
        if diagnostic.code is Codes.NO_RUN and diagnostic.span is not None:
            line_start = original.rfind("\n", 0, diagnostic.span.start) + 1
            return step_headers.get(line_start) not in damaged_steps
        return True

    expected = sorted(key(d, shift) for d in diagnostics_of(original) if still_holds(d))

    error = compile_error(broken)
    syntax = [d for d in error.diagnostics if d.code.id.startswith("E01")]
    other = sorted(key(d, {}) for d in error.diagnostics if not d.code.id.startswith("E01"))
    assert other == expected, broken
    reported_lines = []
    for diagnostic in syntax:
        assert diagnostic.source is not None
        assert diagnostic.span is not None
        reported_lines.append(diagnostic.source.position(diagnostic.span.start).line)
    assert reported_lines == junk_lines, broken
