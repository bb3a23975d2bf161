"""Syntax errors: the message in words, the position (line, column, width) and the help."""

from __future__ import annotations

import pytest

from parc.diagnostics import Codes, CompileError, Diagnostic
from parc.grammar import parse
from parc.grammar.parse import MAX_SYNTAX_ERRORS
from parc.source import Source


def errors(text: str) -> list[Diagnostic]:
    source = Source("build.par", text)
    with pytest.raises(CompileError) as raised:
        parse(source)
    return raised.value.diagnostics


def position(diagnostic: Diagnostic) -> tuple[int, int, int]:
    """Return the line, the column and the width of the caret."""
    assert diagnostic.source is not None
    assert diagnostic.span is not None
    where = diagnostic.source.position(diagnostic.span.start)
    return where.line, where.column, diagnostic.span.end - diagnostic.span.start


# Each case: the text, then the code, message, (line, column, width) and help
# of the first error it reports.
CASES = [
    (
        'track lib {\n    owns\n    run "x"\n}\n',
        Codes.SYNTAX,
        "expected a string after `owns`, found the end of the line",
        (2, 9, 1),
        'write it in double quotes, such as `owns "build/**"`',
    ),
    (
        "track a {\n    run x\n}\n",
        Codes.SYNTAX,
        "expected a string after `run`, found name `x`",
        (2, 9, 1),
        'write it in double quotes: `run "x"`',
    ),
    (
        "track a {\n    run\n}\n",
        Codes.SYNTAX,
        "expected a string after `run`, found the end of the line",
        (2, 8, 1),
        'write it in double quotes, such as `run "make all"`',
    ),
    (
        "let cc = gcc  # the compiler\n",
        Codes.SYNTAX,
        "expected a string after `=`, found name `gcc`",
        (1, 10, 3),
        'write it in double quotes: `let cc = "gcc"`',
    ),
    (
        "env LC_ALL =\n",
        Codes.SYNTAX,
        "expected a string after `=`, found the end of the line",
        (1, 13, 1),
        'write it in double quotes, such as `env LC_ALL = "value"`',
    ),
    (
        'track a {\n    reads "a",\n        src/*.c\n}\n',
        Codes.SYNTAX,
        "expected a string after `,`, found name `src`",
        (3, 9, 3),
        'write it in double quotes: `reads "a", "src/*.c"`',
    ),
    (
        'track a {\n    run "echo 1", "echo 2"\n}\n',
        Codes.SYNTAX,
        "expected `}` or the end of the line, found `,`",
        (2, 17, 1),
        "`run` takes one command; give each command its own `run` line",
    ),
    (
        'track a {\n    desc "a", "b"\n}\n',
        Codes.SYNTAX,
        "expected `}` or the end of the line, found `,`",
        (2, 13, 1),
        "`desc` takes one string; write the description as one string",
    ),
    (
        "track a {\n    timeout 30\n}\n",
        Codes.SYNTAX,
        "expected a duration such as `30s` or `2m` after `timeout`, found number `30`",
        (2, 13, 2),
        "add a unit: `30ms`, `30s`, `30m` or `30h`",
    ),
    (
        "track a {\n    timeout 90min\n}\n",
        Codes.SYNTAX,
        "expected a duration such as `30s` or `2m` after `timeout`, found `90min`",
        (2, 13, 5),
        "the units are `ms`, `s`, `m` and `h`: write `90m`",
    ),
    (
        "track a {\n    timeout 1.5\n}\n",
        Codes.SYNTAX,
        "expected a duration such as `30s` or `2m` after `timeout`, found `1.5`",
        (2, 13, 3),
        "add a unit: `1.5ms`, `1.5s`, `1.5m` or `1.5h`",
    ),
    (
        "track a {\n    timeout 2 hours\n}\n",
        Codes.SYNTAX,
        "expected a duration such as `30s` or `2m` after `timeout`, found number `2`",
        (2, 13, 1),
        "write the unit right after the number: `2h`",
    ),
    (
        "track a {\n    timeout 2d\n}\n",
        Codes.SYNTAX,
        "expected a duration such as `30s` or `2m` after `timeout`, found `2d`",
        (2, 13, 2),
        "the units are `ms`, `s`, `m` and `h`: write `48h`",
    ),
    (
        "track a {\n    timeout 5y\n}\n",
        Codes.SYNTAX,
        "expected a duration such as `30s` or `2m` after `timeout`, found `5y`",
        (2, 13, 2),
        "`y` is not a unit; the units are `ms`, `s`, `m` and `h`",
    ),
    (
        'track a {\n    timeout "30s"\n}\n',
        Codes.SYNTAX,
        "expected a duration such as `30s` or `2m` after `timeout`, found a string",
        (2, 13, 5),
        "write a number with a unit: `500ms`, `30s`, `2m` or `1h`",
    ),
    (
        "pool link = many\n",
        Codes.SYNTAX,
        "expected a whole number after `=`, found name `many`",
        (1, 13, 4),
        "write a whole number, such as `2`",
    ),
    (
        "track a after {\n}\n",
        Codes.SYNTAX,
        "expected a name after `after`, found `{`",
        (1, 15, 1),
        "a name starts with a letter or `_`, then letters, digits, `_` or `-`",
    ),
    (
        'let x "y"\n',
        Codes.SYNTAX,
        "expected `=`, found a string",
        (1, 7, 3),
        'write `let x = "y"`',
    ),
    (
        'env FOO "bar"\n',
        Codes.SYNTAX,
        "expected `=`, found a string",
        (1, 9, 5),
        'write `env FOO = "bar"`',
    ),
    (
        "pool link\n",
        Codes.SYNTAX,
        "expected `=`, found the end of the line",
        (1, 10, 1),
        "write `pool link = 1`",
    ),
    (
        'track a {\n    reeds "x"\n}\n',
        Codes.SYNTAX,
        "expected a body statement (`desc`, `after`, `reads`, `owns`, `run`, `env`, `cwd`, "
        "`timeout`, `retries` or `pool`), `}` or the end of the line, found name `reeds`",
        (2, 5, 5),
        "did you mean `reads`?",
    ),
    (
        'track a {\n    deps b\n    run "x"\n}\n',
        Codes.SYNTAX,
        "expected a body statement (`desc`, `after`, `reads`, `owns`, `run`, `env`, `cwd`, "
        "`timeout`, `retries` or `pool`), `}` or the end of the line, found name `deps`",
        (2, 5, 4),
        "did you mean `after` or `desc`?",
    ),
    (
        'track a {\n    needs b, c\n    run "x"\n}\n',
        Codes.SYNTAX,
        "expected a body statement (`desc`, `after`, `reads`, `owns`, `run`, `env`, `cwd`, "
        "`timeout`, `retries` or `pool`), `}` or the end of the line, found name `needs`",
        (2, 5, 5),
        "did you mean `after` or `reads`?",
    ),
    (
        'track a {\n    dependencies b\n    run "x"\n}\n',
        Codes.SYNTAX,
        "expected a body statement (`desc`, `after`, `reads`, `owns`, `run`, `env`, `cwd`, "
        "`timeout`, `retries` or `pool`), `}` or the end of the line, found name `dependencies`",
        (2, 5, 12),
        "did you mean `after`?",
    ),
    (
        'track a {\n    command "make"\n}\n',
        Codes.SYNTAX,
        "expected a body statement (`desc`, `after`, `reads`, `owns`, `run`, `env`, `cwd`, "
        "`timeout`, `retries` or `pool`), `}` or the end of the line, found name `command`",
        (2, 5, 7),
        "did you mean `run`?",
    ),
    (
        "task a {\n}\n",
        Codes.SYNTAX,
        "expected a statement (`let`, `env`, `pool`, `default`, `track` or `integrate`), "
        "found name `task`",
        (1, 1, 4),
        "did you mean `track`?",
    ),
    (
        "frobnicate\n",
        Codes.SYNTAX,
        "expected a statement (`let`, `env`, `pool`, `default`, `track` or `integrate`), "
        "found name `frobnicate`",
        (1, 1, 10),
        "a statement starts with one of the keywords listed",
    ),
    (
        '"x"\n',
        Codes.SYNTAX,
        "expected a statement (`let`, `env`, `pool`, `default`, `track` or `integrate`), "
        "found a string",
        (1, 1, 3),
        "each statement goes on its own line; separate list items with `,`",
    ),
    (
        'track a {\n    run "x" "y"\n}\n',
        Codes.SYNTAX,
        "expected `}` or the end of the line, found a string",
        (2, 13, 3),
        "each statement goes on its own line; separate list items with `,`",
    ),
    (
        'track a { run "x" } track b { run "y" }\n',
        Codes.SYNTAX,
        "expected the end of the line after `}`, found `track`",
        (1, 21, 5),
        "each statement goes on its own line; separate list items with `,`",
    ),
    (
        'track a\n{\n    run "x"\n}\n',
        Codes.SYNTAX,
        "expected `after` or `{`, found the end of the line",
        (1, 8, 1),
        "move the `{` from line 2 to the end of the header: `track a {`",
    ),
    (
        'track a\n    run "x"\n}\n',
        Codes.SYNTAX,
        "expected `after` or `{`, found the end of the line",
        (1, 8, 1),
        "put the `{` that opens the block on the same line as its header",
    ),
    (
        'track a {\n    reads "x",\n}\n',
        Codes.SYNTAX,
        "expected a string after `,`, found `}`",
        (3, 1, 1),
        "remove the `,` that ends the list, or continue the list after it",
    ),
    (
        "default a,\n",
        Codes.SYNTAX,
        "expected a name after `,`, found the end of the file",
        (1, 10, 1),
        "remove the `,` that ends the list, or continue the list after it",
    ),
    (
        'track a {\n    run "x"\n}\n}\n',
        Codes.SYNTAX,
        "unmatched `}`",
        (4, 1, 1),
        "remove this `}`, or check the `{` of the block above",
    ),
    (
        'track a {\n    run "make lib\n}\n',
        Codes.UNTERMINATED_STRING,
        "unterminated string",
        (2, 9, 1),
        'close it with `"` on the same line, or use `"""` for a string that spans lines',
    ),
    (
        'track a {\n    run """\n        make\n}\n',
        Codes.UNTERMINATED_STRING,
        "unterminated multi-line string",
        (2, 9, 3),
        'close it with `"""`',
    ),
    (
        'track a {\n    run "x"\n\ntrack b {\n    run "y"\n}\n',
        Codes.UNCLOSED_BRACE,
        "unclosed `{`",
        (1, 9, 1),
        "add `}` on its own line at the end of the block",
    ),
    (
        'track a {\n    run "x"\n',
        Codes.UNCLOSED_BRACE,
        "unclosed `{`",
        (1, 9, 1),
        "add `}` on its own line at the end of the block",
    ),
    (
        "track a {\n    run 'x'\n}\n",
        Codes.INVALID_CHARACTER,
        "unexpected character `'`, expected a string",
        (2, 9, 1),
        'strings, globs and commands go in double quotes: `"..."`',
    ),
    (
        'track a {\n    run "x"; run "y"\n}\n',
        Codes.INVALID_CHARACTER,
        "unexpected character `;`, expected `}` or the end of the line",
        (2, 12, 1),
        "remove it; each statement goes on a line of its own",
    ),
    (
        "track a {\n    retries -1\n}\n",
        Codes.INVALID_CHARACTER,
        "unexpected character `-`, expected a whole number",
        (2, 13, 1),
        "`retries` is a whole number of 0 or more, such as `2`",
    ),
    (
        "track a {\n    retries 1.5\n}\n",
        Codes.INVALID_CHARACTER,
        "unexpected character `.`, expected `}` or the end of the line",
        (2, 14, 1),
        "`retries` is a whole number of 0 or more, such as `2`",
    ),
    (
        "pool link = -2\n",
        Codes.INVALID_CHARACTER,
        "unexpected character `-`, expected a whole number",
        (1, 13, 1),
        "a pool size is a whole number of 1 or more, such as `2`",
    ),
    (
        'track a {\n    run "x\\qy"\n}\n',
        Codes.UNKNOWN_ESCAPE,
        "unknown escape sequence `\\q`",
        (2, 11, 2),
        'the escapes are `\\"`, `\\\\`, `\\n` and `\\t`; write `\\\\` for a backslash',
    ),
    (
        'track a {\n    run "{{ 1x }}"\n}\n',
        Codes.INVALID_INTERPOLATION,
        "`{{` must be followed by a variable name and `}}`",
        (2, 10, 2),
        "write `{{name}}` to insert a variable, or `{{{{` for a literal `{{`",
    ),
    (
        'track run {\n    run "x"\n}\n',
        Codes.KEYWORD_AS_NAME,
        "`run` is a keyword and cannot be used as a name",
        (1, 7, 3),
        "choose another name, such as `run-step`",
    ),
    (
        'track a after b, owns {\n    run "x"\n}\n',
        Codes.KEYWORD_AS_NAME,
        "`owns` is a keyword and cannot be used as a name",
        (1, 18, 4),
        "choose another name, such as `owns-step`",
    ),
    (
        'let default = "x"\n',
        Codes.KEYWORD_AS_NAME,
        "`default` is a keyword and cannot be used as a name",
        (1, 5, 7),
        "choose another name, such as `default-value`",
    ),
    (
        'env run = "x"\n',
        Codes.KEYWORD_AS_NAME,
        "`run` is a keyword and cannot be used as a name",
        (1, 5, 3),
        "choose another name, such as `RUN`",
    ),
    (
        "pool owns = 1\n",
        Codes.KEYWORD_AS_NAME,
        "`owns` is a keyword and cannot be used as a name",
        (1, 6, 4),
        "choose another name, such as `owns-pool`",
    ),
    (
        "\ufefftrack a {\n    run x\n}\n",
        Codes.SYNTAX,
        "expected a string after `run`, found name `x`",
        (2, 9, 1),
        'write it in double quotes: `run "x"`',
    ),
    (
        "\ufeff  let = 1\n",
        Codes.SYNTAX,
        "expected a name after `let`, found `=`",
        (1, 7, 1),
        "a name starts with a letter or `_`, then letters, digits, `_` or `-`",
    ),
]


@pytest.mark.parametrize(
    ("text", "code", "message", "where", "help"),
    CASES,
    ids=[f"{index}-{case[1].id}" for index, case in enumerate(CASES)],
)
def test_first_error(
    text: str, code: object, message: str, where: tuple[int, int, int], help: str
) -> None:
    first = errors(text)[0]
    assert first.code is code
    assert first.message == message
    assert position(first) == where
    assert first.help == help


def test_unclosed_brace_labels_next_statement() -> None:
    [error] = errors('track a {\n    run "x"\n\ntrack b {\n    run "y"\n}\n')
    [label] = error.labels
    assert label.message == "`}` expected before this `track`"
    assert label.source.position(label.span.start).line == 4


def test_long_string_error_points_into_string() -> None:
    # An escape in a dedented `"""` string keeps its place in the file.
    [error] = errors('let x = """\n        ok\n        bad \\q\n    """\n')
    assert error.code is Codes.UNKNOWN_ESCAPE
    assert position(error) == (3, 13, 2)


def test_several_independent_errors_in_one_run() -> None:
    found = errors(
        'track a {\n    owns\n    run "x"\n}\n'
        "track b {\n    retries many\n}\n"
        'track c {\n    run "ok"\n}\n'
        "let = 1\n"
    )
    assert [position(error)[0] for error in found] == [2, 6, 11]
    assert all(error.code is Codes.SYNTAX for error in found)


def test_broken_header_does_not_cascade() -> None:
    # The block of a broken header is skipped whole, so its body and `}`
    # give no errors of their own.
    found = errors('track 9a {\n    run "x"\n}\ntrack b {\n    rn "y"\n}\n')
    assert [position(error)[0] for error in found] == [1, 5]


def test_keyword_as_name_goes_on_parsing() -> None:
    found = errors('track run {\n    run "x"\n}\ntrack b {\n    owns\n}\n')
    assert [error.code for error in found] == [Codes.KEYWORD_AS_NAME, Codes.SYNTAX]


def test_error_count_is_capped() -> None:
    text = "".join(f"track t{index} {{\n    retries x\n}}\n" for index in range(40))
    assert len(errors(text)) == MAX_SYNTAX_ERRORS


def test_string_problems_all_reported() -> None:
    found = errors('let a = "\\q"\nlet b = "{{"\nlet c = "\\w"\n')
    assert [error.code for error in found] == [
        Codes.UNKNOWN_ESCAPE,
        Codes.INVALID_INTERPOLATION,
        Codes.UNKNOWN_ESCAPE,
    ]


def test_tab_before_error_counts_as_one_column() -> None:
    [error] = errors("track a {\n\trun x\n}\n")
    assert position(error) == (2, 6, 1)


def test_non_ascii_before_error_counts_characters() -> None:
    [error] = errors('let x = "üü" y\n')
    assert position(error) == (1, 14, 1)


def test_end_of_file_inside_header() -> None:
    [error] = errors("track")
    assert error.message == "expected a name after `track`, found the end of the line"
    assert position(error) == (1, 6, 1)


def test_missing_comma_in_list() -> None:
    [error] = errors('track a after b c {\n    run "x"\n}\n')
    assert error.message == "expected `,` or `{`, found name `c`"
    assert position(error) == (1, 17, 1)
    assert error.help == "separate list items with `,`"


def test_duration_where_number_expected() -> None:
    [error] = errors("track a {\n    retries 5s\n}\n")
    assert error.message == "expected a whole number after `retries`, found duration `5s`"
    assert position(error) == (2, 13, 2)


def test_unclosed_broken_block_stops_at_next_statement() -> None:
    found = errors('track 9a {\n    run "x"\n\ntrack b {\n    rn "y"\n}\n')
    assert [position(error)[0] for error in found] == [1, 5]
    assert found[1].help == "did you mean `run`?"


# A step whose `{` is on the line below its header, as in Allman style: the
# text, the one error's message and position, and its help.
BRACE_ON_NEXT_LINE = [
    (
        'track a\n{\n    run "x"\n}\n',
        "expected `after` or `{`, found the end of the line",
        (1, 8, 1),
        "move the `{` from line 2 to the end of the header: `track a {`",
    ),
    (
        'track a after b,\n{\n    run "x"\n}\n',
        "expected a name after `,`, found `{`",
        (2, 1, 1),
        "move the `{` from line 2 to the end of the header, in place of the `,` "
        "that ends the list: `track a after b {`",
    ),
    (
        'integrate a after b,\n    c  # the rest\n# a note\n\n{ run "x" }\n',
        "expected `{`, found the end of the line",
        (2, 18, 1),
        "move the `{` from line 5 to the end of the header: `c {`",
    ),
    (
        'track a after b, # "quoted"\n  c, # and more\n{\n  run "x"\n}\n',
        "expected a name after `,`, found `{`",
        (3, 1, 1),
        "move the `{` from line 3 to the end of the header, in place of the `,` "
        "that ends the list: `c {`",
    ),
]


@pytest.mark.parametrize(("text", "message", "where", "help"), BRACE_ON_NEXT_LINE)
def test_brace_on_next_line_one_error(
    text: str, message: str, where: tuple[int, int, int], help: str
) -> None:
    # A later mistake is still found: the recovery skips only the block.
    found = errors(text + 'track c {\n    run "c"\n}\nlet = "x"\n')
    assert [error.message for error in found] == [
        message,
        "expected a name after `let`, found `=`",
    ]
    assert position(found[0]) == where
    assert found[0].help == help
