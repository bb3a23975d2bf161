"""The compiler's semantic rules, each with the message and location it reports."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path

import pytest

from parc.compiler import Compiled, compile_file, compile_source
from parc.diagnostics import Code, Codes, CompileError, Diagnostic
from parc.plan import PlanStep
from parc.source import Source


def compile_text(text: str, overrides: Mapping[str, str] | None = None) -> Compiled:
    return compile_source(Source("build.par", text), overrides)


def step(text: str, name: str) -> PlanStep:
    return compile_text(text).plan.by_name[name]


def errors(text: str, overrides: Mapping[str, str] | None = None) -> list[Diagnostic]:
    with pytest.raises(CompileError) as raised:
        compile_text(text, overrides)
    return [d for d in raised.value.diagnostics if d.severity.value == "error"]


def assert_diagnostic(
    diagnostic: Diagnostic, code: Code, message: str, line: int, column: int, width: int
) -> None:
    """Check a diagnostic's code, message, and the line, column and width of its caret."""
    assert diagnostic.code is code
    assert diagnostic.message == message
    assert diagnostic.source is not None
    assert diagnostic.span is not None
    where = diagnostic.source.position(diagnostic.span.start)
    assert (where.line, where.column) == (line, column)
    assert diagnostic.span.end - diagnostic.span.start == width


# Variables and interpolation.


def test_let_interpolates_earlier_variables() -> None:
    text = 'let cc = "gcc"\nlet compile = "{{cc}} -c"\ntrack a {\n    run "{{compile}} a.c"\n}\n'
    assert step(text, "a").commands == ("gcc -c a.c",)


def test_step_in_let_resolves_to_using_step() -> None:
    text = (
        'let out = "build/{{step}}"\n'
        'env OUT = "{{out}}"\n'
        'track a {\n    owns "{{out}}/**"\n    run "make {{out}}"\n}\n'
        'track b {\n    owns "{{out}}/**"\n    run "make {{out}}"\n}\n'
    )
    plan = compile_text(text).plan
    assert plan.by_name["a"].commands == ("make build/a",)
    assert plan.by_name["b"].owns == ("build/b/**",)
    assert plan.by_name["b"].env == (("OUT", "build/b"),)


def test_let_cannot_use_later_variable() -> None:
    [error] = errors('let a = "{{b}}"\nlet b = "x"\ntrack t {\n    run "{{a}}"\n}\n')
    assert_diagnostic(
        error,
        Codes.UNDEFINED_VARIABLE,
        "variable `b` is used before its definition on line 2",
        1,
        10,
        5,
    )
    assert error.help == "move `let b` above this line"


def test_let_used_before_definition_is_not_unused() -> None:
    with pytest.raises(CompileError) as raised:
        compile_text('let a = "{{b}}"\nlet b = "x"\ntrack t {\n    run "{{a}}"\n}\n')
    assert [d.code for d in raised.value.diagnostics] == [Codes.UNDEFINED_VARIABLE]


def test_let_using_itself_reports_only_the_use() -> None:
    with pytest.raises(CompileError) as raised:
        compile_text('let a = "{{a}}"\ntrack t {\n    run "x"\n}\n')
    [error] = raised.value.diagnostics
    assert_diagnostic(
        error, Codes.UNDEFINED_VARIABLE, "variable `a` is used in its own definition", 1, 10, 5
    )


def test_failed_interpolation_is_not_checked_further() -> None:
    # Each string with the typo is reported once, as an undefined variable,
    # and not as the absolute path or invalid glob that the rest makes.
    text = (
        'let outdir = "out"\n'
        "track a {\n"
        '    owns "{{out_dir}}/**"\n'
        '    reads "{{out_dir}}/../../x", "{{out_dir}}/[z-a]"\n'
        '    cwd "{{out_dir}}/.."\n'
        '    run "x"\n'
        "}\n"
    )
    found = errors(text)
    assert [error.code for error in found] == [Codes.UNDEFINED_VARIABLE] * 4
    assert {error.message for error in found} == {"undefined variable `out_dir`"}


def test_variable_with_failed_value_is_not_checked_further() -> None:
    text = 'let out = "{{nope}}"\ntrack a {\n    owns "{{out}}/**"\n    run "x"\n}\n'
    [error] = errors(text)
    assert_diagnostic(error, Codes.UNDEFINED_VARIABLE, "undefined variable `nope`", 1, 12, 8)


def test_failed_interpolation_owns_nothing() -> None:
    # `{{typo}}**` would be `**`, which matches the spec file.
    [error] = errors('let out = "o"\ntrack a {\n    owns "{{typo}}**"\n    run "x"\n}\n')
    assert error.code is Codes.UNDEFINED_VARIABLE


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_top_level_env_error_reported_once(steps: int) -> None:
    text = 'env OUT = "{{nope}}"\n' + "".join(
        f'track t{index} {{\n    run "x"\n}}\n' for index in range(steps)
    )
    [error] = errors(text)
    assert error.code is Codes.UNDEFINED_VARIABLE


def test_step_is_reserved() -> None:
    [error] = errors('let step = "x"\ntrack t {\n    run "y"\n}\n')
    assert_diagnostic(
        error, Codes.RESERVED_NAME, "`step` is reserved for the name of the current step", 1, 5, 4
    )


def test_overrides_are_literal() -> None:
    text = 'let cc = "gcc"\nlet cmd = "{{cc}} -c"\ntrack t {\n    run "{{cmd}}"\n}\n'
    compiled = compile_text(text, {"cc": "{{cmd}} clang"})
    assert compiled.plan.by_name["t"].commands == ("{{cmd}} clang -c",)


def test_override_of_unknown_variable() -> None:
    [error] = errors('let cc = "gcc"\ntrack t {\n    run "{{cc}}"\n}\n', {"ccc": "x"})
    assert error.code is Codes.UNKNOWN_OVERRIDE
    assert error.message == "`ccc=x` overrides `ccc`, which no `let` defines"
    assert error.span is None
    assert error.help == "did you mean `cc`?"


OVERRIDDEN = (
    'let out = "build"\n'
    'track a {\n    owns "{{out}}/a/**"\n    run "x"\n}\n'
    'track b after a {\n    reads "{{out}}/a/*.o"\n    owns "{{out}}/b/**"\n    run "x"\n}\n'
)


def test_override_path_problem_reported_once() -> None:
    [error] = errors(OVERRIDDEN, {"out": "/tmp/abs"})
    assert_diagnostic(
        error,
        Codes.ABSOLUTE_PATH,
        "absolute path `/tmp/abs/a/**`, because of the override `out=/tmp/abs`",
        3,
        10,
        14,
    )
    assert error.primary_label == (
        "`out` is `/tmp/abs` from the command line override `out=/tmp/abs`"
    )
    assert [label.message for label in error.labels] == [
        "and here: `/tmp/abs/a/*.o`",
        "and here: `/tmp/abs/b/**`",
    ]
    assert error.help == (
        "paths are relative to the directory of the spec file: pass `out` another value, "
        'or leave out the override to use `let out = "build"`'
    )


def test_empty_override_named_as_empty() -> None:
    [error] = errors(OVERRIDDEN, {"out": ""})
    assert error.code is Codes.ABSOLUTE_PATH
    assert error.message == "absolute path `/a/**`, because of the override `out=`"
    assert error.primary_label == "`out` is empty from the command line override `out=`"


def test_override_problems_grouped_by_kind() -> None:
    text = OVERRIDDEN + 'track c {\n    cwd "{{out}}/.."\n    run "x"\n}\n'
    found = errors(text, {"out": "../x"})
    assert [error.code for error in found] == [Codes.PATH_OUTSIDE_ROOT]
    [error] = found
    assert len(error.labels) == 3

    found = errors(text, {"out": "/x"})
    assert [error.code for error in found] == [Codes.ABSOLUTE_PATH]


def test_override_uses_beyond_label_limit_are_counted() -> None:
    text = (
        'let out = "build"\ntrack a {\n'
        + "".join(f'    owns "{{{{out}}}}/{index}"\n' for index in range(7))
        + '    run "x"\n}\n'
    )
    [error] = errors(text, {"out": "/abs"})
    assert len(error.labels) == 4
    assert error.help.endswith("; 2 more strings with it are not shown")


def test_path_problem_of_spec_not_blamed_on_override() -> None:
    # The leading `/` is the spec's, so each use is the spec's error.
    text = 'let out = "build"\ntrack a {\n    owns "/{{out}}/a", "/{{out}}/b"\n    run "x"\n}\n'
    found = errors(text, {"out": "o"})
    assert [error.message for error in found] == ["absolute path `/o/a`", "absolute path `/o/b`"]
    assert all("override" not in error.help for error in found)


def test_override_owning_the_spec_is_named() -> None:
    text = 'let out = "build"\ntrack a {\n    owns "{{out}}/**"\n    run "x"\n}\n'
    [error] = errors(text, {"out": "."})
    assert error.code is Codes.SPEC_OWNED
    assert error.help.startswith("`out` is `.` from the command line override `out=.`; ")


def test_four_braces_are_a_literal() -> None:
    assert step('track t {\n    run "echo {{{{x}}"\n}\n', "t").commands == ("echo {{x}}",)


# Dependencies.


def test_integrate_without_after_runs_after_every_track_only() -> None:
    text = (
        'track a {\n    run "a"\n}\n'
        'integrate first {\n    run "f"\n}\n'
        'track b {\n    run "b"\n}\n'
        'integrate second {\n    run "s"\n}\n'
    )
    plan = compile_text(text).plan
    assert plan.by_name["first"].after == ("a", "b")
    assert plan.by_name["second"].after == ("a", "b")


def test_integrate_with_after_runs_after_those_only() -> None:
    text = (
        'track a {\n    run "a"\n}\n'
        'track b {\n    run "b"\n}\n'
        'integrate i {\n    after a\n    run "i"\n}\n'
    )
    assert step(text, "i").after == ("a",)


def test_body_after_adds_to_header_and_merges_repeats() -> None:
    text = (
        'track a {\n    run "a"\n}\ntrack b {\n    run "b"\n}\n'
        'track c after a, b {\n    after b, a\n    after a\n    run "c"\n}\n'
    )
    assert step(text, "c").after == ("a", "b")


def test_undefined_step_suggests_closest() -> None:
    [error] = errors('track library {\n    run "x"\n}\ntrack b after librar {\n    run "y"\n}\n')
    assert_diagnostic(error, Codes.UNDEFINED_STEP, "undefined step `librar` in `after`", 4, 15, 6)
    assert error.help == "did you mean `library`?"


def test_undefined_default() -> None:
    [error] = errors('default x\ntrack a {\n    run "a"\n}\n')
    assert_diagnostic(error, Codes.UNDEFINED_STEP, "undefined step `x` in `default`", 1, 9, 1)


def test_defaults_keep_order_without_repeats() -> None:
    text = 'default b, a\ndefault b\ntrack a {\n    run "a"\n}\ntrack b {\n    run "b"\n}\n'
    assert compile_text(text).plan.defaults == ("b", "a")


def test_duplicate_step_across_kinds() -> None:
    [error] = errors('track a {\n    run "a"\n}\nintegrate a {\n    run "b"\n}\n')
    assert_diagnostic(error, Codes.DUPLICATE_STEP, "step `a` is defined twice", 4, 11, 1)
    [label] = error.labels
    assert label.message == "first defined here"


def test_cycle_reported_once_starting_at_first_step() -> None:
    text = (
        'track c after b {\n    run "c"\n}\n'
        'track a after c {\n    run "a"\n}\n'
        'track b after a {\n    run "b"\n}\n'
    )
    [error] = errors(text)
    assert error.message == "dependency cycle: c -> a -> b -> c"
    assert_diagnostic(error, Codes.CYCLE, error.message, 4, 15, 1)
    assert [label.message for label in error.labels] == [
        "`c` runs after `b`",
        "`b` runs after `a`",
    ]


def test_cycle_message_does_not_depend_on_other_steps() -> None:
    cycle = 'track x after y {\n    run "x"\n}\ntrack y after x {\n    run "y"\n}\n'
    [alone] = errors(cycle)
    [with_others] = errors(
        'track z {\n    run "z"\n}\n' + cycle + 'track w after z {\n    run "w"\n}\n'
    )
    assert alone.message == with_others.message == "dependency cycle: x -> y -> x"


def test_cycle_reads_in_execution_order() -> None:
    after = {"a": "b", "b": "c", "c": "a"}
    text = "".join(
        f'track {name} after {target} {{\n    run "x"\n}}\n' for name, target in after.items()
    )
    [error] = errors(text)
    names = error.message.removeprefix("dependency cycle: ").split(" -> ")
    assert names[0] == names[-1] == "a"
    assert sorted(names[:-1]) == ["a", "b", "c"]
    # `x -> y` means that `x` runs before `y`: `y` lists `x` in its `after`.
    for before, later in itertools.pairwise(names):
        assert after[later] == before, error.message


def test_cycle_through_implicit_integrate() -> None:
    [error] = errors('track a after i {\n    run "a"\n}\nintegrate i {\n    run "i"\n}\n')
    assert error.message == "dependency cycle: a -> i -> a"
    assert any("runs after every track" in label.message for label in error.labels) or (
        "runs after every track" in error.primary_label
    )
    assert error.help == (
        "each step has to run before the next one, so none of them can start; "
        "remove one of these `after` entries, "
        "or give `i` an `after` list that leaves out `a`"
    )


def test_cycle_of_after_entries_only() -> None:
    [error] = errors('track a after b {\n    run "a"\n}\ntrack b after a {\n    run "b"\n}\n')
    assert error.help == (
        "each step has to run before the next one, so none of them can start; "
        "remove one of these `after` entries"
    )


CYCLE_OF_TWO = 'track a after b {\n    run "a"\n}\ntrack b after a {\n    run "b"\n}\n'


@pytest.mark.parametrize(
    ("mistake", "code"),
    [
        ('track c {\n    run "{{ccc}} y"\n}\n', Codes.UNDEFINED_VARIABLE),
        ('track c after zz {\n    run "c"\n}\n', Codes.UNDEFINED_STEP),
        ('track c after c {\n    run "c"\n}\n', Codes.SELF_DEPENDENCY),
        ('track a {\n    run "again"\n}\n', Codes.DUPLICATE_STEP),
    ],
)
def test_cycle_reported_with_other_errors(mistake: str, code: Code) -> None:
    codes = [error.code for error in errors(CYCLE_OF_TWO + mistake)]
    assert codes == [Codes.CYCLE, code]


def test_undefined_after_name_adds_no_edge() -> None:
    text = 'track a after b, zz {\n    run "a"\n}\ntrack b after a, yy {\n    run "b"\n}\n'
    found = errors(text)
    assert [error.code for error in found] == [
        Codes.UNDEFINED_STEP,
        Codes.CYCLE,
        Codes.UNDEFINED_STEP,
    ]
    assert found[1].message == "dependency cycle: a -> b -> a"


def test_races_wait_for_cycles_and_undefined_steps() -> None:
    text = (
        'track gen after test, zz {\n    owns "gen/**"\n    run "g"\n}\n'
        'track test after gen {\n    reads "gen/x"\n    run "t"\n}\n'
    )
    with pytest.raises(CompileError) as raised:
        compile_text(text)
    codes = [error.code for error in raised.value.diagnostics]
    assert codes == [Codes.UNDEFINED_STEP, Codes.CYCLE]
    assert raised.value.skipped == (
        "races are checked once the dependency cycles and undefined steps in `after` are fixed"
    )


def test_race_not_guessed_from_undefined_step() -> None:
    # `test` was meant to run after `gen`: without that edge the read would be a race.
    text = (
        'track gen {\n    owns "gen/**"\n    run "g"\n}\n'
        'track test after gne {\n    reads "gen/x"\n    run "t"\n}\n'
    )
    with pytest.raises(CompileError) as raised:
        compile_text(text)
    assert [error.code for error in raised.value.diagnostics] == [Codes.UNDEFINED_STEP]
    assert raised.value.skipped == "races are checked once the undefined steps in `after` are fixed"


def test_no_races_skipped_without_reads() -> None:
    with pytest.raises(CompileError) as raised:
        compile_text('track a after zz {\n    owns "out/**"\n    run "a"\n}\n')
    assert raised.value.skipped == ""


def test_conflict_reported_with_cycle() -> None:
    text = (
        'track a after b {\n    owns "out/**"\n    run "a"\n}\n'
        'track b after a, zz {\n    owns "out/b"\n    run "b"\n}\n'
    )
    codes = [error.code for error in errors(text)]
    assert codes == [Codes.CYCLE, Codes.UNDEFINED_STEP, Codes.WRITE_CONFLICT]


def test_self_dependency() -> None:
    [error] = errors('track a after a {\n    run "a"\n}\n')
    assert_diagnostic(error, Codes.SELF_DEPENDENCY, "step `a` runs after itself", 1, 15, 1)


def test_repeated_names_reported_once() -> None:
    text = 'track a after a, a {\n    after a, b\n    after b\n    run "a"\n}\ndefault c, c\n'
    assert [error.code for error in errors(text)] == [
        Codes.SELF_DEPENDENCY,
        Codes.UNDEFINED_STEP,
        Codes.UNDEFINED_STEP,
    ]


# Settings and limits.


@pytest.mark.parametrize("setting", ['desc "x"', 'cwd "x"', "timeout 1s", "retries 1", "pool p"])
def test_setting_given_twice(setting: str) -> None:
    text = f'pool p = 1\ntrack a {{\n    {setting}\n    run "a"\n    {setting}\n}}\n'
    [error] = errors(text)
    keyword = setting.split(" ")[0]
    assert_diagnostic(
        error, Codes.DUPLICATE_SETTING, f"step `a` sets `{keyword}` twice", 5, 5, len(setting)
    )


def test_step_env_overrides_top_level_env() -> None:
    text = 'env CC = "gcc"\nenv LC_ALL = "C"\ntrack a {\n    env CC = "clang"\n    run "a"\n}\n'
    assert dict(step(text, "a").env) == {"CC": "clang", "LC_ALL": "C"}


@pytest.mark.parametrize(
    ("timeout", "valid"),
    [("1ms", True), ("168h", True), ("604800s", True), ("168.001h", False), ("0ms", False)],
)
def test_timeout_limits(timeout: str, valid: bool) -> None:
    text = f'track a {{\n    timeout {timeout}\n    run "a"\n}}\n'
    if valid:
        assert step(text, "a").timeout is not None
    else:
        [error] = errors(text)
        assert_diagnostic(
            error,
            Codes.INVALID_TIMEOUT,
            f"timeout `{timeout}` is out of range",
            2,
            13,
            len(timeout),
        )


@pytest.mark.parametrize(("retries", "valid"), [(0, True), (100, True), (101, False)])
def test_retries_limits(retries: int, valid: bool) -> None:
    text = f'track a {{\n    retries {retries}\n    run "a"\n}}\n'
    if valid:
        assert step(text, "a").retries == retries
    else:
        [error] = errors(text)
        assert_diagnostic(
            error, Codes.INVALID_RETRIES, "`retries 101` is more than the limit of 100", 2, 13, 3
        )


@pytest.mark.parametrize(
    ("size", "valid"), [(1, True), (100000, True), (0, False), (100001, False)]
)
def test_pool_size_limits(size: int, valid: bool) -> None:
    text = f'pool p = {size}\ntrack a {{\n    pool p\n    run "a"\n}}\n'
    if valid:
        assert compile_text(text).plan.pools == {"p": size}
    else:
        [error] = errors(text)
        assert error.code is Codes.INVALID_POOL_SIZE


def test_undefined_pool_suggests_and_silences_unused_warning() -> None:
    with pytest.raises(CompileError) as raised:
        compile_text('pool link = 1\ntrack a {\n    pool lnk\n    run "a"\n}\n')
    [error] = raised.value.diagnostics
    assert_diagnostic(error, Codes.UNDEFINED_POOL, "undefined pool `lnk`", 3, 10, 3)
    assert error.help == "did you mean `link`?"


# Paths.


def test_globs_and_cwd_are_normalised() -> None:
    text = (
        "track a {\n"
        '    reads "./src//x/../*.c"\n'
        '    owns "out/./**"\n'
        '    cwd "sub/./dir/.."\n'
        '    run "a"\n'
        "}\n"
    )
    compiled = step(text, "a")
    assert compiled.reads == ("src/*.c",)
    assert compiled.owns == ("out/**",)
    assert compiled.cwd == "sub"


@pytest.mark.parametrize(
    ("literal", "code", "message", "column", "width"),
    [
        ('"/etc/passwd"', Codes.ABSOLUTE_PATH, "absolute path `/etc/passwd`", 12, 1),
        ('"a/../../b"', Codes.PATH_OUTSIDE_ROOT, "`a/../../b` leaves the project root", 17, 2),
        ('"a/**/../b"', Codes.INVALID_GLOB, "`..` after `**` is ambiguous", 17, 2),
        ('"src/[z-a].c"', Codes.INVALID_GLOB, "invalid range `z-a` in glob", 17, 3),
        ('"src/[abc"', Codes.INVALID_GLOB, "unclosed `[` in glob", 16, 1),
        ('"a/.."', Codes.INVALID_GLOB, "`a/..` names the project root itself, not a file", 12, 4),
    ],
)
def test_path_errors(literal: str, code: Code, message: str, column: int, width: int) -> None:
    [error] = errors(f'track a {{\n    reads {literal}\n    run "a"\n}}\n')
    assert_diagnostic(error, code, message, 2, column, width)


def test_path_error_in_interpolated_glob_marks_whole_string() -> None:
    [error] = errors('let root = "/abs"\ntrack a {\n    reads "{{root}}/x"\n    run "a"\n}\n')
    assert_diagnostic(error, Codes.ABSOLUTE_PATH, "absolute path `/abs/x`", 3, 11, 12)


def test_cwd_outside_root() -> None:
    [error] = errors('track a {\n    cwd ".."\n    run "a"\n}\n')
    assert_diagnostic(error, Codes.PATH_OUTSIDE_ROOT, "`..` leaves the project root", 2, 10, 2)


@pytest.mark.parametrize(
    ("desc", "column", "width", "label"),
    [
        ('"one\\ntwo"', 14, 2, "a line break"),
        ('"""\n        one\n        two\n    """', 10, 3, "this string spans lines"),
        ('"{{text}}"', 10, 10, "its value has a line break"),
        ('"one\r"', 10, 6, "its value has a line break"),
    ],
)
def test_desc_must_be_one_line(desc: str, column: int, width: int, label: str) -> None:
    text = f'let text = "a\\nb"\ntrack a {{\n    desc {desc}\n    run "{{{{text}}}}"\n}}\n'
    [error] = errors(text)
    assert_diagnostic(error, Codes.MULTI_LINE_DESC, "a `desc` must be one line", 3, column, width)
    assert error.primary_label == label
    assert error.help == (
        "`parc list` shows it as one row of a table; put the details in a comment above the step"
    )


def test_desc_with_tab_or_failed_interpolation_not_multi_line() -> None:
    assert step('track a {\n    desc "a\\tb"\n    run "x"\n}\n', "a").desc == "a\tb"
    [error] = errors('track a {\n    desc "{{nope}}\\n"\n    run "x"\n}\n')
    assert error.code is Codes.UNDEFINED_VARIABLE


# Escapes in shell single quotes.


def quoted_escapes(text: str, overrides: Mapping[str, str] | None = None) -> list[Diagnostic]:
    compiled = compile_text(text, overrides)
    return [warning for warning in compiled.warnings if warning.code is Codes.QUOTED_ESCAPE]


def test_escape_in_single_quotes_warns() -> None:
    text = "track a {\n    run \"echo 'x,y' | sed 's/,/\\n/'\"\n}\n"
    [warning] = quoted_escapes(text)
    assert_diagnostic(
        warning,
        Codes.QUOTED_ESCAPE,
        "`\\n` puts a newline inside single quotes in the command",
        2,
        32,
        2,
    )
    assert warning.primary_label == "parc turns this into a newline"
    assert warning.help == "write `\\\\n` to pass a backslash and `n` to the command"


def test_several_quoted_escapes_one_warning() -> None:
    text = "track a {\n    run \"printf 'a\\tb\\n' '\\t'\"\n}\n"
    [warning] = quoted_escapes(text)
    assert warning.message == "`\\t` puts a tab inside single quotes in the command"
    assert [label.message for label in warning.labels] == ["and `\\n` here", "and `\\t` here"]
    assert warning.help == (
        "write `\\\\t` and `\\\\n` to pass a backslash and `t` or `n` to the command"
    )


def test_quoted_escape_in_long_string_points_into_file() -> None:
    text = 'track a {\n    run """\n        tr \'\\t\' \',\'\n    """\n}\n'
    [warning] = quoted_escapes(text)
    assert warning.message == "`\\t` puts a tab inside single quotes in the command"
    assert warning.source is not None
    assert warning.span is not None
    where = warning.source.position(warning.span.start)
    assert (where.line, where.column) == (3, 13)


def test_quotes_from_variables_count() -> None:
    text = 'let q = "\'"\ntrack a {\n    run "echo {{q}}a\\nb{{q}}"\n}\n'
    [warning] = quoted_escapes(text)
    assert warning.message == "`\\n` puts a newline inside single quotes in the command"
    assert quoted_escapes(text, {"q": '"'}) == []


@pytest.mark.parametrize(
    "command",
    [
        'printf \\"a\\tb\\n\\"',  # double quotes
        "echo a\\necho b",  # a line break between two commands
        "cat <<'EOF'\\nit's\\tfine\\nEOF",  # a here-document
        "echo $'a\\nb'",  # ANSI-C quotes
        "echo x # it's\\necho \\t",  # a comment
        "sed 's/,/\\\\n/'",  # an escaped backslash and `n`
        "echo \\\\'\\n\\\\'",  # escaped quotes are no quotes
    ],
)
def test_escape_outside_single_quotes_no_warning(command: str) -> None:
    assert quoted_escapes(f'track a {{\n    run "{command}"\n}}\n') == []


def test_failed_interpolation_no_quoted_escape_warning() -> None:
    text = 'let q = "\'{{nope}}"\ntrack a {\n    run "echo {{q}}a\\nb\'"\n}\n'
    with pytest.raises(CompileError) as raised:
        compile_text(text)
    assert [d.code for d in raised.value.diagnostics] == [Codes.UNDEFINED_VARIABLE]


def test_escape_outside_run_no_warning() -> None:
    text = (
        'let sep = "\\n"\nenv SEP = "\'\\t\'"\n'
        "track a {\n    desc \"'a\\tb'\"\n    run \"echo '{{sep}}'\"\n}\n"
    )
    assert quoted_escapes(text) == []


# Reporting.


@pytest.mark.parametrize("glob", ["**", "*", "*/**", "*.par", "build.par", "[b]uild.*"])
def test_owns_matching_spec_is_an_error(glob: str) -> None:
    [error] = errors(f'track gen {{\n    owns "{glob}"\n    run "x"\n}}\n')
    assert_diagnostic(
        error,
        Codes.SPEC_OWNED,
        f"`gen` owns `{glob}`, which matches the spec file `build.par`",
        2,
        10,
        len(glob) + 2,
    )


def test_owns_beside_spec_is_allowed() -> None:
    compiled = compile_text(
        'track gen {\n    owns "docs/*.par", "build.parc", "*/*"\n    run "x"\n}\n'
    )
    assert compiled.plan.by_name["gen"].owns == ("docs/*.par", "build.parc", "*/*")


def test_spec_name_comes_from_the_resolved_file(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    spec = tmp_path / "real" / "project.par"
    spec.write_text('track gen {\n    owns "project.par"\n    run "x"\n}\n')
    (tmp_path / "link.par").symlink_to(spec)
    with pytest.raises(CompileError) as raised:
        compile_file(tmp_path / "link.par")
    [error] = raised.value.diagnostics
    assert error.code is Codes.SPEC_OWNED


def test_every_independent_error_in_one_run() -> None:
    text = (
        'let x = "{{nope}}"\n'
        'track a after missing {\n    retries 500\n    run "{{x}}"\n}\n'
        'track a {\n    run "again"\n}\n'
        'env bad-name = "v"\n'
    )
    codes = [error.code for error in errors(text)]
    assert codes == [
        Codes.UNDEFINED_VARIABLE,
        Codes.UNDEFINED_STEP,
        Codes.INVALID_RETRIES,
        Codes.DUPLICATE_STEP,
        Codes.INVALID_ENV_NAME,
    ]


def test_warnings_come_with_a_valid_plan() -> None:
    compiled = compile_text('let unused = "x"\npool idle = 1\ntrack a {\n    desc "no run"\n}\n')
    assert [warning.code for warning in compiled.warnings] == [
        Codes.UNUSED_VARIABLE,
        Codes.UNUSED_POOL,
        Codes.NO_RUN,
    ]
    assert compiled.plan.by_name["a"].commands == ()


def test_plan_records_locations_and_desc() -> None:
    text = '\n\ntrack a {\n    desc "the {{step}} step"\n    run "a"\n}\n'
    compiled = step(text, "a")
    assert compiled.location == "build.par:3:1"
    assert compiled.desc == "the a step"
