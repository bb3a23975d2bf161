"""The parser: every construct of the language becomes the right syntax node, with spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from parc.grammar import parse
from parc.grammar import syntax as s
from parc.source import Position, Source, Span


def parse_text(text: str) -> s.Document:
    return parse(Source("build.par", text))


def text_of(source: str, span: Span) -> str:
    return source[span.start : span.end]


def only_step(text: str) -> s.Step:
    [step] = parse_text(text).statements
    assert isinstance(step, s.Step)
    return step


def test_let_env_pool_default() -> None:
    text = 'let cc = "gcc"\nenv LC_ALL = "C"\npool link = 2\ndefault a, b\n'
    let, env, pool, default = parse_text(text).statements
    assert isinstance(let, s.Let)
    assert let.name.text == "cc"
    assert let.value.parts == (s.Text("gcc"),)
    assert text_of(text, let.span) == 'let cc = "gcc"'
    assert text_of(text, let.value.span) == '"gcc"'
    assert isinstance(env, s.Env)
    assert (env.name.text, env.value.parts) == ("LC_ALL", (s.Text("C"),))
    assert isinstance(pool, s.PoolDef)
    assert (pool.name.text, pool.size.value) == ("link", 2)
    assert text_of(text, pool.size.span) == "2"
    assert isinstance(default, s.Default)
    assert [name.text for name in default.names] == ["a", "b"]
    assert text_of(text, default.names[1].span) == "b"


def test_track_with_every_body_statement() -> None:
    text = (
        "track cli after core, util {\n"
        '    desc "the command"\n'
        "    after gen\n"
        '    reads "cli/*.c", "lib/*.h"\n'
        '    owns "build/bin/**"\n'
        '    run "make cli"\n'
        '    env CC = "clang"\n'
        '    cwd "cli"\n'
        "    timeout 1.5h\n"
        "    retries 2\n"
        "    pool link\n"
        "}\n"
    )
    step = only_step(text)
    assert step.kind == "track"
    assert step.name.text == "cli"
    assert step.header_after is not None
    assert [name.text for name in step.header_after.names] == ["core", "util"]
    assert text_of(text, step.span).startswith("track cli")
    assert text_of(text, step.span).endswith("}")

    kinds = [type(statement) for statement in step.body]
    assert kinds == [
        s.Desc,
        s.After,
        s.Reads,
        s.Owns,
        s.Run,
        s.Env,
        s.Cwd,
        s.Timeout,
        s.Retries,
        s.PoolRef,
    ]
    desc, after, reads, owns, run, env, cwd, timeout, retries, pool = step.body
    assert isinstance(reads, s.Reads)
    assert [text_of(text, glob.span) for glob in reads.globs] == ['"cli/*.c"', '"lib/*.h"']
    assert isinstance(owns, s.Owns)
    assert owns.globs[0].parts == (s.Text("build/bin/**"),)
    assert isinstance(after, s.After)
    assert [name.text for name in after.names] == ["gen"]
    assert isinstance(timeout, s.Timeout)
    assert timeout.duration.seconds == 5400.0
    assert timeout.duration.text == "1.5h"
    assert isinstance(retries, s.Retries)
    assert retries.count.value == 2
    assert isinstance(pool, s.PoolRef)
    assert pool.name.text == "link"
    assert isinstance(cwd, s.Cwd)
    assert cwd.path.parts == (s.Text("cli"),)
    assert text_of(text, run.span) == 'run "make cli"'
    assert isinstance(env, s.Env)
    assert env.name.text == "CC"
    assert isinstance(desc, s.Desc)


def test_integrate_without_after() -> None:
    step = only_step('integrate release {\n    run "tar"\n}\n')
    assert step.kind == "integrate"
    assert step.header_after is None


@pytest.mark.parametrize(
    "text",
    [
        'track a { run "x" }\n',
        'track a {run "x"}',
        'track a {\n    run "x" }\n',
        'track a {\n\n    run "x"\n\n}\n',
        'track a {\n    run "x"\n}',
    ],
)
def test_block_layouts(text: str) -> None:
    step = only_step(text)
    [run] = step.body
    assert isinstance(run, s.Run)
    assert run.command.parts == (s.Text("x"),)


def test_empty_body() -> None:
    assert only_step("track a {\n}\n").body == ()
    assert only_step("track a {}\n").body == ()


def test_list_continues_after_comma() -> None:
    text = 'track a after b,\n    c {\n    reads "x",\n\n          "y", "z"\n    run "r"\n}\n'
    step = only_step(text)
    assert step.header_after is not None
    assert [name.text for name in step.header_after.names] == ["b", "c"]
    reads = step.body[0]
    assert isinstance(reads, s.Reads)
    assert [glob.parts for glob in reads.globs] == [
        (s.Text("x"),),
        (s.Text("y"),),
        (s.Text("z"),),
    ]


def test_default_list_continues() -> None:
    [default] = parse_text("default a,\n  b,\n  c\n").statements
    assert isinstance(default, s.Default)
    assert [name.text for name in default.names] == ["a", "b", "c"]


def test_comments_are_kept_with_spans() -> None:
    text = (
        '# head\nlet x = "a # not a comment" # tail\n\ntrack a { # brace\n    run "x"  # run\n}\n'
    )
    document = parse_text(text)
    assert [comment.text for comment in document.comments] == [
        "# head",
        "# tail",
        "# brace",
        "# run",
    ]
    for comment in document.comments:
        assert text_of(text, comment.span) == comment.text
    let = document.statements[0]
    assert isinstance(let, s.Let)
    assert let.value.parts == (s.Text("a # not a comment"),)


@pytest.mark.parametrize(
    "name",
    ["a", "_", "build-docs", "test_unit", "A9", "x-1-y", "runner", "tracks", "after_all"],
)
def test_names(name: str) -> None:
    assert only_step(f'track {name} {{ run "x" }}').name.text == name


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"a\\b"', "a\\b"),
        (r'"a\nb"', "a\nb"),
        (r'"a\tb"', "a\tb"),
        ('"${HOME} {a,b} find -exec {} \\\\;"', "${HOME} {a,b} find -exec {} \\;"),
        ('"{{{{literal}}"', "{{literal}}"),
        ('"$x {y} }}"', "$x {y} }}"),
        ('"ünïcödé ✓"', "ünïcödé ✓"),
        ('""', ""),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    let = parse_text(f"let x = {literal}\n").statements[0]
    assert isinstance(let, s.Let)
    assert "".join(part.value for part in let.value.parts if isinstance(part, s.Text)) == value
    assert all(isinstance(part, s.Text) for part in let.value.parts)


def test_interpolation_parts_and_spans() -> None:
    text = 'let x = "a{{cc}}b{{ step }}{{{{c"\n'
    let = parse_text(text).statements[0]
    assert isinstance(let, s.Let)
    first, second, third, fourth, fifth = let.value.parts
    assert first == s.Text("a")
    assert isinstance(second, s.Interpolation)
    assert second.name == "cc"
    assert text_of(text, second.span) == "{{cc}}"
    assert third == s.Text("b")
    assert isinstance(fourth, s.Interpolation)
    assert fourth.name == "step"
    assert text_of(text, fourth.span) == "{{ step }}"
    assert fifth == s.Text("{{c")


def test_long_string_is_dedented() -> None:
    text = 'let x = """\n    first "quoted"\n      indented\n\n    last\n    """\n'
    let = parse_text(text).statements[0]
    assert isinstance(let, s.Let)
    assert let.value.long
    assert let.value.parts == (s.Text('first "quoted"\n  indented\n\nlast'),)


def test_long_string_on_one_line() -> None:
    let = parse_text('let x = """a "b" c"""\n').statements[0]
    assert isinstance(let, s.Let)
    assert let.value.parts == (s.Text('a "b" c'),)


def test_long_string_keeps_interpolation_offsets() -> None:
    text = 'let x = """\n    go {{cc}}\n    """\n'
    let = parse_text(text).statements[0]
    assert isinstance(let, s.Let)
    interpolation = let.value.parts[1]
    assert isinstance(interpolation, s.Interpolation)
    assert text_of(text, interpolation.span) == "{{cc}}"


def test_long_string_escapes() -> None:
    let = parse_text('let x = """a\\tb\\\\c\\"d"""\n').statements[0]
    assert isinstance(let, s.Let)
    assert let.value.parts == (s.Text('a\tb\\c"d'),)


@pytest.mark.parametrize(
    ("literal", "seconds"),
    [("500ms", 0.5), ("30s", 30.0), ("2m", 120.0), ("1.5h", 5400.0), ("0.25s", 0.25)],
)
def test_durations(literal: str, seconds: float) -> None:
    step = only_step(f'track a {{\n    timeout {literal}\n    run "x"\n}}\n')
    timeout = step.body[0]
    assert isinstance(timeout, s.Timeout)
    assert timeout.duration.seconds == seconds


def test_crlf_line_endings() -> None:
    text = 'let x = "a"\r\ntrack a {\r\n    run "{{x}}"\r\n}\r\n'
    let, step = parse_text(text).statements
    assert isinstance(let, s.Let)
    assert isinstance(step, s.Step)
    assert len(step.body) == 1


def test_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "build.par"
    path.write_bytes(b'\xef\xbb\xbflet x = "a"\ntrack t {\n    run "{{x}}"\n}\n')
    source = Source.read(path)
    assert source.text.startswith("let")

    let, _ = parse(source).statements
    assert isinstance(let, s.Let)
    assert source.position(let.name.span.start) == Position(1, 5)
    assert source.line_text(1) == 'let x = "a"'


def test_blank_and_comment_only_file() -> None:
    document = parse_text("\n\n# only a comment\n")
    assert document.statements == ()
    assert len(document.comments) == 1
    assert parse_text("").statements == ()


def test_keywords_match_language() -> None:
    # The keyword list of the language, in its order.
    listed = "let env pool default track integrate after desc reads owns run cwd timeout retries"
    assert set(listed.split(" ")) == s.KEYWORDS


def test_long_string_mixed_indentation_keeps_the_difference() -> None:
    let = parse_text('let x = """\n\t  a\n\t b\n"""\n').statements[0]
    assert isinstance(let, s.Let)
    assert let.value.parts == (s.Text(" a\nb"),)


def test_long_string_of_blank_lines() -> None:
    let = parse_text('let x = """\n\n   \n"""\n').statements[0]
    assert isinstance(let, s.Let)
    assert let.value.parts == (s.Text("\n"),)
