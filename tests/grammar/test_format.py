"""The formatter: canonical, idempotent, keeps every comment and the meaning.

The property tests generate valid specs and write them out with random
layout: spacing, indentation with tabs or spaces, blank lines, one-line
blocks, lists broken after commas, comments at line ends and on lines of
their own, and `\"\"\"` strings.
"""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from parc.compiler import compile_source
from parc.grammar import parse
from parc.grammar import syntax as s
from parc.grammar.format import MAX_LINE, format_document
from parc.plan import Plan
from parc.source import Source


def fmt(text: str) -> str:
    return format_document(parse(Source("build.par", text)))


def comments(text: str) -> list[str]:
    return sorted(comment.text.rstrip() for comment in parse(Source("build.par", text)).comments)


def plan_without_locations(text: str) -> Plan:
    plan = compile_source(Source("build.par", text)).plan
    steps = tuple(attrs.evolve(step, location="") for step in plan.steps)
    return attrs.evolve(plan, steps=steps)


@st.composite
def messy_specs(draw: st.DrawFn) -> str:
    """A valid spec, with every layout choice drawn at random."""
    space = st.sampled_from([" ", "  ", "\t", " \t "])
    gap = st.sampled_from(["", " ", "  "])
    blank = st.sampled_from(["", "", "\n", "\n\n"])
    comment_text = st.sampled_from(["# note", "#x", "#  spaced out  ", '# {{not}} "code"'])

    def end_of_line() -> str:
        if draw(st.integers(0, 3)) == 0:
            return draw(gap) + draw(comment_text) + "\n"
        return "\n"

    def own_line_comment(indent: str) -> str:
        if draw(st.integers(0, 3)) == 0:
            return indent + draw(comment_text) + "\n"
        return ""

    def string(value: str, lines: bool = False) -> str:
        """Write `value` as a string; with `lines`, a long string may get more lines."""
        if draw(st.integers(0, 3)) == 0:
            return long_string(value, lines)
        return f'"{value}"'

    def long_string(value: str, lines: bool) -> str:
        indent = draw(st.sampled_from(["", "  ", "    ", "\t", " \t", "\t  "]))
        body = [indent + value]
        for _ in range(draw(st.integers(0, 3)) if lines else 0):
            body.append(
                draw(
                    st.sampled_from(
                        [
                            # Blank lines, deeper and mixed indentation, and
                            # lines that indent less than the first.
                            *["", " ", "\t", "   \t"],
                            *[indent + "  more", indent + "\tmore"],
                            *["\t" + indent + "x", " " + indent + "y", "z"],
                        ]
                    )
                )
            )
        # An empty opening puts the text right after the quotes, and an
        # empty closing puts the quotes right after the text.
        opening = draw(st.sampled_from(["\n", "  \n", "\t\n", ""]))
        closing = draw(st.sampled_from(["\n" + indent, "\n", "\n  " + indent, "\n\t", ""]))
        return '"""' + opening + "\n".join(body) + closing + '"""'

    def items(values: list[str], indent: str) -> str:
        """Join `values` with commas, breaking lines and adding comments between them."""
        text = values[0]
        for value in values[1:]:
            text += draw(gap) + ","
            if draw(st.booleans()):
                if draw(st.booleans()):
                    text += draw(gap) + draw(comment_text)
                text += "\n" + draw(st.sampled_from(["", "", "\n"]))
                text += own_line_comment(indent) + own_line_comment(indent + "  ")
                text += indent + draw(space)
            else:
                text += draw(space)
            text += value
        return text

    variables = [f"v{index}" for index in range(draw(st.integers(0, 2)))]
    pools = [f"p{index}" for index in range(draw(st.integers(0, 1)))]
    # Long names make a header's `after` list longer than a line.
    suffixes = st.sampled_from(["", "", "_" + "x" * 40])
    steps = [f"s{index}{draw(suffixes)}" for index in range(draw(st.integers(1, 4)))]

    text = own_line_comment("") + draw(blank)
    for name in variables:
        text += f"let{draw(space)}{name}{draw(gap)}={draw(gap)}{string('value ' + name, True)}"
        text += end_of_line() + draw(blank)
    for name in pools:
        text += f"pool {name}{draw(gap)}={draw(gap)}{draw(st.integers(1, 9))}" + end_of_line()
    if draw(st.booleans()):
        text += 'env LANG = "C"' + end_of_line()
    text += draw(blank)

    for position, name in enumerate(steps):
        kind = "integrate" if position == len(steps) - 1 and draw(st.booleans()) else "track"
        earlier = steps[:position]
        indent = draw(st.sampled_from(["  ", "    ", "\t"]))
        body = []
        if draw(st.booleans()):
            body.append(f"desc{draw(space)}{string('the ' + name)}")
        body.append(f"owns{draw(space)}" + items([f'"out/{name}/**"', f'"log/{name}.txt"'], indent))
        reads = [f'"out/{other}/*"' for other in earlier][:2]
        if reads:
            body.append(f"reads{draw(space)}" + items(reads, indent))
        for variable in variables:
            command = string("echo {{" + variable + "}} {{step}}", True)
            body.append(f"run{draw(space)}{command}")
        body.append(f'run{draw(space)}"true"')
        use_pool: bool = draw(st.booleans())
        if pools and use_pool:
            body.append(f"pool{draw(space)}{pools[0]}")
        if draw(st.booleans()):
            body.append(f"timeout{draw(space)}{draw(st.sampled_from(['30s', '1.5h', '500ms']))}")
        if draw(st.booleans()):
            body.append(f"retries{draw(space)}{draw(st.integers(0, 3))}")
        if earlier and kind == "integrate" and draw(st.booleans()):
            body.append(f"after{draw(space)}" + items(earlier, indent))

        header = f"{kind}{draw(space)}{name}"
        if earlier and kind == "track":
            header += f"{draw(space)}after{draw(space)}" + items(earlier, indent)
        if draw(st.integers(0, 3)) == 0:
            body = [f'run{draw(space)}"true"']
        if len(body) == 1 and draw(st.booleans()):
            # A block written on one line.
            text += header + draw(gap) + "{" + draw(gap) + body[0] + draw(gap) + "}"
            text += end_of_line() + draw(blank)
            continue
        text += header + draw(gap) + "{" + end_of_line()
        for statement in body:
            text += own_line_comment(indent) + draw(blank) + indent + statement + end_of_line()
        text += own_line_comment(indent) + "}" + end_of_line() + draw(blank)
    if draw(st.booleans()):
        text += "default " + items(steps, "") + end_of_line()
    text += own_line_comment("")
    return text


@given(messy_specs())
def test_format_is_idempotent(text: str) -> None:
    once = fmt(text)
    assert fmt(once) == once


@given(messy_specs())
def test_format_keeps_every_comment(text: str) -> None:
    assert comments(fmt(text)) == comments(text)


def without_spans(node: object) -> object:
    """Return a syntax node as nested tuples, without the spans and the source."""
    if isinstance(node, tuple):
        return tuple(without_spans(item) for item in node)
    kind = type(node)
    if attrs.has(kind):
        return (
            kind.__name__,
            *(
                (field.name, without_spans(getattr(node, field.name)))
                for field in attrs.fields(kind)
                if field.name not in ("span", "source", "comments") and field.eq
            ),
        )
    return node


def list_comments(text: str) -> list[tuple[int, int, str, bool]]:
    """Return each comment between two items of a list.

    A comment is listed with the number of its list in the file, the index of
    the item it follows, its text, and whether it is on that item's line.
    """
    document = parse(Source("build.par", text))
    lists: list[tuple[s.Name, ...] | tuple[s.String, ...]] = []
    for statement in document.statements:
        if isinstance(statement, s.Default):
            lists.append(statement.names)
        if isinstance(statement, s.Step):
            if statement.header_after is not None:
                lists.append(statement.header_after.names)
            for body in statement.body:
                if isinstance(body, s.After):
                    lists.append(body.names)
                elif isinstance(body, s.Reads | s.Owns):
                    lists.append(body.globs)
    source = document.source
    found = []
    for number, items in enumerate(lists):
        for index in range(len(items) - 1):
            end, following = items[index].span.end, items[index + 1].span.start
            for comment in document.comments:
                if end <= comment.span.start < following:
                    same_line = (
                        source.position(comment.span.start).line == source.position(end - 1).line
                    )
                    found.append((number, index, comment.text.rstrip(), same_line))
    return found


@given(messy_specs())
def test_format_keeps_the_syntax_tree(text: str) -> None:
    assert without_spans(parse(Source("build.par", fmt(text)))) == without_spans(
        parse(Source("build.par", text))
    )


@given(messy_specs())
def test_format_keeps_list_comments_in_place(text: str) -> None:
    assert list_comments(fmt(text)) == list_comments(text)


@given(messy_specs())
def test_format_keeps_the_plan(text: str) -> None:
    assert plan_without_locations(fmt(text)) == plan_without_locations(text)


@given(messy_specs())
def test_format_layout_rules(text: str) -> None:
    formatted = fmt(text)
    assert formatted.endswith("\n")
    assert not formatted.endswith("\n\n")

    lines = formatted.split("\n")[:-1]
    in_long_string = False
    for index, line in enumerate(lines):
        inside = in_long_string
        in_long_string ^= line.count('"""') % 2 == 1
        if inside:
            continue  # a long string's lines hold its text
        assert line == line.rstrip()
        assert line or index == 0 or lines[index - 1], "two blank lines in a row"
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 4 == 0
        assert not line.startswith("\t")
        if line.startswith(("track ", "integrate ")):
            assert index == 0 or lines[index - 1] == "" or lines[index - 1].startswith("#")


EXAMPLE = """\
# build.par: header comment

let cc="gcc"   # the compiler
let cflags   =   "-O2"
env LC_ALL="C"
pool link=1
track core{ # brace comment
  desc "static library"
  reads "lib/*.c","lib/*.h" # trailing
      # own line in body

  owns "build/lib/**"
  run "{{cc}} {{cflags}} -c lib/core.c"
  # before closing
}
track cli after core{
    reads "cli/*.c",
       # between items
       "build/lib/core.o"
  pool link
  timeout 2m
  run \"\"\"
        mkdir -p build/bin
        {{cc}} cli/main.c
    \"\"\"
}


integrate release { run "tar" }   # one line
# final comment
"""

EXPECTED = """\
# build.par: header comment

let cc = "gcc"  # the compiler
let cflags = "-O2"
env LC_ALL = "C"
pool link = 1

track core {  # brace comment
    desc "static library"
    reads "lib/*.c", "lib/*.h"  # trailing
    # own line in body

    owns "build/lib/**"
    run "{{cc}} {{cflags}} -c lib/core.c"
    # before closing
}

track cli after core {
    reads "cli/*.c",
        # between items
        "build/lib/core.o"
    pool link
    timeout 2m
    run \"\"\"
        mkdir -p build/bin
        {{cc}} cli/main.c
    \"\"\"
}

integrate release {
    run "tar"
}  # one line
# final comment
"""


def test_format_example() -> None:
    assert fmt(EXAMPLE) == EXPECTED


def test_long_list_breaks_after_commas() -> None:
    globs = ", ".join(f'"src/module{index}/**/*.c"' for index in range(6))
    formatted = fmt(f'track a {{\n    reads {globs}\n    run "x"\n}}\n')
    lines = formatted.split("\n")
    assert lines[1] == '    reads "src/module0/**/*.c",'
    assert lines[2] == '        "src/module1/**/*.c",'
    assert all(len(line) <= MAX_LINE for line in lines)


def test_empty_and_comment_only_files() -> None:
    assert fmt("") == ""
    assert fmt("\n\n") == ""
    assert fmt("# only\n\n\n# comments   \n") == "# only\n\n# comments\n"


def test_crlf_becomes_lf() -> None:
    assert fmt('let x = "a"\r\n\r\ntrack a {\r\n    run "{{x}}"\r\n}\r\n') == (
        'let x = "a"\n\ntrack a {\n    run "{{x}}"\n}\n'
    )


def test_strings_and_numbers_kept_as_written() -> None:
    text = 'track a {\n    timeout 1.50h\n    retries 007\n    run "a\\tb \\"q\\" {{{{x}}"\n}\n'
    assert fmt(text) == (
        'track a {\n    timeout 1.50h\n    retries 7\n    run "a\\tb \\"q\\" {{{{x}}"\n}\n'
    )


def test_long_string_moves_with_statement() -> None:
    text = (
        'let script = """\n\techo one\n\t  echo two\n\n\techo three\n\t"""\n'
        "track a {\n"
        '  run """   \n          mkdir -p out\n            echo x\n  \t\n          done\n"""\n'
        '\tenv X = """\n  a\n    b"""\n'
        '  reads "a", """\n      b""", """\n   c\n   """\n'
        "}\n"
    )
    assert fmt(text) == (
        'let script = """\n    echo one\n      echo two\n\n    echo three\n"""\n'
        "\n"
        "track a {\n"
        '    run """\n        mkdir -p out\n          echo x\n\n        done\n    """\n'
        '    env X = """\n        a\n          b"""\n'
        '    reads "a",\n        """\n            b""",\n        """\n            c\n        """\n'
        "}\n"
    )
    before = parse(Source("build.par", text)).statements
    after = parse(Source("build.par", fmt(text))).statements
    assert string_values(after) == string_values(before)
    assert string_values(before)[:2] == [
        "echo one\n  echo two\n\necho three",
        "mkdir -p out\n  echo x\n\ndone",
    ]


def test_long_string_with_text_after_quotes_kept() -> None:
    # The first line's indentation, none here, counts for the common one,
    # so the other lines cannot move.
    text = 'track a {\n  run """echo first\n      second\n  """\n}\n'
    assert fmt(text) == 'track a {\n    run """echo first\n      second\n  """\n}\n'


def test_long_string_crlf_keeps_its_value() -> None:
    text = 'let x = """\r\n\t  a\r\n\r\n\t b\r\n\t"""\r\ntrack t {\r\n    run "{{x}}"\r\n}\r\n'
    assert plan_without_locations(fmt(text)) == plan_without_locations(text)


def string_values(node: object) -> list[str]:
    """Return the value of every string in a syntax node, in order, as the compiler reads it."""
    if isinstance(node, s.String):
        return [node.literal_value()]
    if isinstance(node, tuple):
        return [value for item in node for value in string_values(item)]
    kind = type(node)
    if attrs.has(kind):
        return [
            value
            for field in attrs.fields(kind)
            for value in string_values(getattr(node, field.name))
        ]
    return []


def test_long_header_after_list_wraps() -> None:
    names = [f"step_{letter}_{'x' * 30}" for letter in "abc"]
    text = "".join(f'track {name} {{ run "true" }}\n' for name in names)
    text += f'integrate release after {", ".join(names)} {{ run "true" }}\n'
    formatted = fmt(text)
    assert formatted.endswith(
        f"integrate release after {names[0]},\n"
        f"    {names[1]},\n"
        f"    {names[2]} {{\n"
        '    run "true"\n'
        "}\n"
    )
    assert all(len(line) <= MAX_LINE for line in formatted.splitlines())
    assert fmt(formatted) == formatted


def test_list_comment_stays_after_its_item() -> None:
    text = (
        "track a {\n"
        '    reads "x", # after x\n'
        "        # before y\n"
        '        "y", "z" # after the list\n'
        '    run "true"\n'
        "}\n"
        "track b after a, # after a\n"
        '    a { run "true" }\n'
    )
    assert fmt(text) == (
        "track a {\n"
        '    reads "x",  # after x\n'
        "        # before y\n"
        '        "y",\n'
        '        "z"  # after the list\n'
        '    run "true"\n'
        "}\n"
        "\n"
        "track b after a,  # after a\n"
        "    a {\n"
        '    run "true"\n'
        "}\n"
    )
