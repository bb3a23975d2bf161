"""The single-quote scanner, against commands whose quoted ranges are known by construction.

The generated commands are checked with the real `/bin/sh -n`, so the
generator only produces what a shell accepts, and the scanner must find
exactly the single-quoted ranges that were put together.
"""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parc.compiler.shell import single_quoted


def quoted_texts(command: str) -> list[str]:
    return [command[start:end] for start, end in single_quoted(command)]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("sed 's/,/\n/'", ["s/,/\n/"]),
        ("echo \"it's\" 'a\tb'", ["a\tb"]),
        ("echo \"a 'b' c\"", []),
        ("echo \\'not 'yes'", ["yes"]),
        ("echo x # it's a comment\necho 'z'", ["z"]),
        ("echo a#'b'", ["b"]),
        ("cat <<'EOF'\nit's\nEOF\necho 'a'", ["a"]),
        ("cat <<-EOF\n\tit's\n\tEOF\necho 'a'", ["a"]),
        ('cat <<"END" >x\n\'\nEND\n', []),
        ("cat <<<'here'", ["here"]),
        ("echo $'a\\'b' 'c'", ["c"]),
        ("echo \"$(echo 'in sub')\" 'out'", ["in sub", "out"]),
        ("echo `echo 'bq'` x", ["bq"]),
        ("echo ${x:-'default'} y", ["default"]),
        ("echo \"${x:-'literal'}\"", ["literal"]),
        ("echo $( (echo 'a') ) 'b'", ["a", "b"]),
        ("echo 'unterminated", ["unterminated"]),
        ("echo ''", [""]),
    ],
)
def test_single_quoted_ranges(command: str, expected: list[str]) -> None:
    assert quoted_texts(command) == expected


_PLAIN = st.text(alphabet="abcxyz019_./=,-", min_size=1, max_size=6)
_INSIDE_SINGLE = st.text(alphabet='ab \t\n"$`\\#(){}<>;|&*?', max_size=6)
_INSIDE_DOUBLE = st.text(alphabet="ab \t\n'#(){}<>;|&*?", max_size=6)


@st.composite
def commands(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A command built from pieces, and the texts of its single-quoted pieces in order."""
    command = ""
    quoted: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(
            st.sampled_from(["plain", "single", "double", "escaped", "comment", "heredoc", "sub"])
        )
        if kind == "plain":
            command += " " + draw(_PLAIN)
        elif kind == "single":
            text = draw(_INSIDE_SINGLE)
            command += " '" + text + "'"
            quoted.append(text)
        elif kind == "double":
            command += ' "' + draw(_INSIDE_DOUBLE) + '"'
        elif kind == "escaped":
            command += " \\" + draw(st.sampled_from(["'", '"', "#", "\\", "$"]))
        elif kind == "comment":
            command += " # it's " + draw(_INSIDE_DOUBLE).replace("\n", " ") + "\n"
        elif kind == "heredoc":
            body = draw(st.lists(_INSIDE_DOUBLE.map(lambda s: s.replace("\n", "")), max_size=2))
            command += " cat <<'EOF'\n" + "".join(line + "x\n" for line in body) + "EOF\n"
        else:
            text = draw(_INSIDE_SINGLE)
            command += " \"$(echo '" + text + "')\""
            quoted.append(text)
    return "true" + command, quoted


@settings(max_examples=60, deadline=None)
@given(commands())
def test_scanner_finds_constructed_quotes(case: tuple[str, list[str]]) -> None:
    command, quoted = case
    checked = subprocess.run(["/bin/sh", "-n", "-c", command], capture_output=True, timeout=30)
    assert checked.returncode == 0, (command, checked.stderr)
    assert quoted_texts(command) == quoted
