"""The hand-written parser builds exactly what Lark's path builds, and rejects what it rejects.

Valid specs come from a strategy that follows `par.lark`: every statement,
blanks and comments wherever the grammar allows them, lists continued over
lines, `\\r\\n` line endings, escapes, interpolations and long strings.
Mutated and random texts check that the two paths agree on invalid input.
"""

from __future__ import annotations

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from parc.diagnostics import CompileError
from parc.grammar import descent
from parc.grammar import syntax as s
from parc.grammar.descent import parse_valid
from parc.grammar.parse import _recover_with_lark, parse_with_lark, parse_with_recovery
from parc.source import Source

BLANKS = st.sampled_from(["", " ", "  ", "\t", " \f "])
GAP = st.sampled_from([" ", "  ", "\t", " \f "])
NEWLINE = st.sampled_from(["\n", "\r\n", "\n\n", "\n   \n", "  # note\n", "\t#\n"])

WORDS = [*sorted(s.KEYWORDS), "a", "b-c", "_x", "tracks", "run-tests", "x1", "afters", "Env"]
NAMES = st.sampled_from([word for word in WORDS if word not in s.KEYWORDS])

STRING_PIECES = ["a", "src/*.c", " ", "\\n", '\\"', "\\\\", "{{a}}", "{{ step }}", "{{{{", "é", "#"]
STRINGS = st.one_of(
    st.lists(st.sampled_from(STRING_PIECES), max_size=4).map(lambda p: '"' + "".join(p) + '"'),
    st.lists(st.sampled_from([*STRING_PIECES, "\n", "\n    ", '"', '""', "\\q"]), max_size=5).map(
        lambda p: '"""' + "".join(p) + '"""'
    ),
)
INTEGERS = st.sampled_from(["0", "1", "007", "30", "100001"])
DURATIONS = st.sampled_from(["1ms", "30s", "2m", "1.5h", "0s", "10.25m"])


@st.composite
def separated(draw: st.DrawFn, items: st.SearchStrategy[str]) -> str:
    """A list of one or more items; after a comma, it may go on on the next line."""
    parts = [draw(items)]
    for _ in range(draw(st.integers(0, 3))):
        after_comma = draw(st.one_of(BLANKS, NEWLINE.map(lambda nl: nl + "    ")))
        parts.append(draw(BLANKS) + "," + after_comma + draw(items))
    return "".join(parts)


@st.composite
def body_statement(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["desc", "after", "reads", "owns", "run", "env", "cwd", "timeout", "retries", "pool"]
        )
    )
    gap = draw(GAP)
    if kind in ("desc", "run", "cwd"):
        return kind + gap + draw(STRINGS)
    if kind == "after":
        return kind + gap + draw(separated(NAMES))
    if kind in ("reads", "owns"):
        return kind + gap + draw(separated(STRINGS))
    if kind == "env":
        return f"env{gap}{draw(NAMES)}{draw(BLANKS)}={draw(BLANKS)}{draw(STRINGS)}"
    if kind == "timeout":
        return kind + gap + draw(DURATIONS)
    if kind == "retries":
        return kind + gap + draw(INTEGERS)
    return kind + gap + draw(NAMES)


@st.composite
def step(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["track", "integrate"]))
    header = f"{kind}{draw(GAP)}{draw(NAMES)}"
    if draw(st.booleans()):
        header += f"{draw(GAP)}after{draw(GAP)}{draw(separated(NAMES))}"
    header += draw(BLANKS) + "{"
    statements = draw(st.lists(body_statement(), max_size=4))
    if not statements or draw(st.booleans()):
        lines = "".join(draw(NEWLINE) + draw(BLANKS) + item for item in statements)
        return header + lines + draw(NEWLINE) + draw(BLANKS) + "}"
    # The last statement may end at the `}` on its own line.
    lines = "".join(draw(BLANKS) + item + draw(NEWLINE) for item in statements[:-1])
    return header + draw(BLANKS) + lines + draw(BLANKS) + statements[-1] + draw(BLANKS) + "}"


@st.composite
def top_statement(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["let", "env", "pool", "default", "step", "step"]))
    gap = draw(GAP)
    if kind in ("let", "env"):
        return f"{kind}{gap}{draw(NAMES)}{draw(BLANKS)}={draw(BLANKS)}{draw(STRINGS)}"
    if kind == "pool":
        return f"pool{gap}{draw(NAMES)}{draw(BLANKS)}={draw(BLANKS)}{draw(INTEGERS)}"
    if kind == "default":
        return "default" + gap + draw(separated(NAMES))
    return draw(step())


@st.composite
def valid_spec(draw: st.DrawFn) -> str:
    parts = [draw(st.sampled_from(["", "\n", "# head\n", "  \n"]))]
    for statement in draw(st.lists(top_statement(), max_size=5)):
        parts.append(draw(BLANKS) + statement + draw(BLANKS) + draw(NEWLINE))
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.rstrip("\n")  # the parser adds the final newline
    return text


def lark_document(source: Source) -> s.Document | None:
    try:
        return parse_with_lark(source)
    except CompileError:
        return None


def assert_same(text: str) -> None:
    source = Source("build.par", text)
    padded = text if text.endswith("\n") else text + "\n"
    fast = parse_valid(source, padded)
    slow = lark_document(source)
    if slow is None:
        assert fast is None, "the fast path accepts a spec that Lark rejects"
        return
    assert fast is not None, "the fast path rejects a spec that Lark accepts"
    assert fast.source is source
    assert fast.statements == slow.statements
    assert fast.comments == slow.comments


@given(valid_spec())
@settings(max_examples=300)
@example('track a { run "x" }')
@example("track a after b,\n\n   c {}\n")
@example('let x = """\n  a\\q\n"""')
def test_valid_specs_parse_alike(text: str) -> None:
    assert_same(text)


EDITS = ["{", "}", ",", "=", '"', '"""', "\n", "\r", " ", "#", "3", "s", "'", "\\", *WORDS]


@given(valid_spec(), st.data())
@settings(max_examples=300)
def test_mutated_specs_parse_alike(text: str, data: st.DataObject) -> None:
    """Edits that break a spec, or happen to keep it valid."""
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(text)))
        edit = data.draw(
            st.sampled_from(["delete", "insert", "insert"]) if text else st.just("insert")
        )
        if edit == "delete" and position < len(text):
            text = text[:position] + text[position + 1 :]
        else:
            piece = data.draw(st.sampled_from(EDITS))
            text = text[:position] + piece + text[position:]
    assert_same(text)


PIECES = [*WORDS, "{", "}", ",", "=", " ", "\n", "\r\n", "\r", "3", "30s", "1.5h", "5mx", '""']
PIECES += ['"s"', '"{{a}}"', '"{{"', '"\\q"', '"""\n x\n"""', '"', '"""', "# c", ";", "\f"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
@settings(max_examples=300)
def test_token_soup_parses_alike(text: str) -> None:
    assert_same(text)


def test_token_kinds_are_not_keywords() -> None:
    """A keyword's token kind is its text, so it must differ from every other kind."""
    kinds = {*descent._GROUPS, descent._END, descent._NEWLINE, "{", "}", "=", ","}
    assert not kinds & s.KEYWORDS


@given(valid_spec())
def test_recovery_silent_on_valid_specs(text: str) -> None:
    source = Source("build.par", text)
    padded = text if text.endswith("\n") else text + "\n"
    assume(parse_valid(source, padded) is not None)
    for parsed in (parse_with_recovery(source), _recover_with_lark(source)):
        assert parsed.document is not None
        assert parsed.diagnostics == ()
        assert parsed.damaged == ()
