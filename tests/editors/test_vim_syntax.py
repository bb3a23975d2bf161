"""The Vim files: a headless Vim detects `.par` files and highlights the
highlighting cases and real specs with the expected syntax groups."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from highlighting import (
    CASES,
    EQUIVALENTS,
    SPECS,
    Case,
    excluded_equivalents,
    expected_equivalent,
    load_case,
)
from vim_dump import VimDump, dump_syntax

# Each group of the syntax file and the standard group it links to, which
# every colour scheme colours.
LINKS = {
    "parKeyword": "Statement",
    "parStepName": "Identifier",
    "parVariable": "Identifier",
    "parEnvName": "Identifier",
    "parPoolName": "Constant",
    "parInteger": "Constant",
    "parDuration": "Constant",
    "parOperator": "Statement",
    "parDelimiter": "Special",
    "parString": "Constant",
    "parLongString": "Constant",
    "parEscape": "Special",
    "parBadEscape": "Error",
    "parInterpolation": "Identifier",
    "parBadInterpolation": "Error",
    "parComment": "Comment",
    "parTodo": "Todo",
}


def case_mismatches(case: Case, dump: VimDump) -> list[str]:
    """Check every translatable assertion of a case against Vim's groups."""
    mismatches = []
    for assertion in case.assertions:
        expected = expected_equivalent(assertion)
        excluded = excluded_equivalents(assertion)
        text_line = case.lines[assertion.line]
        for column in range(assertion.start, assertion.end):
            actual = dump.group_at(text_line, assertion.line, column)
            where = f"{case.path.name}:{assertion.case_line} column {column}"
            if expected is not None and actual != expected.vim_group:
                mismatches.append(f"{where}: {actual!r}, expected {expected.vim_group!r}")
            for row in excluded:
                if actual == row.vim_group:
                    mismatches.append(f"{where}: {actual!r}, which stands for {row.scope}")
    return mismatches


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.name)
def test_case_groups(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    copy = tmp_path / path.name
    copy.write_text(case.text, encoding="utf-8")

    dump = dump_syntax(copy)

    assert dump.syntax == "par"
    assert case_mismatches(case, dump) == []


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.parent.name)
def test_real_spec_has_no_error_groups(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)

    dump = dump_syntax(copy)
    used = {group for line in dump.groups for group in line}

    assert dump.filetype == "par"
    assert used & {"parBadEscape", "parBadInterpolation"} == set()
    assert {"parKeyword", "parStepName", "parString", "parComment"} <= used


@pytest.mark.parametrize("name", ["build.par", "other.par"])
def test_filetype_detected(name: str, tmp_path: Path) -> None:
    spec = tmp_path / name
    spec.write_text("track a {\n}\n", encoding="utf-8")

    dump = dump_syntax(spec)

    assert dump.filetype == "par"
    assert dump.syntax == "par"


def test_other_extension_not_detected(tmp_path: Path) -> None:
    spec = tmp_path / "build.parc"
    spec.write_text("track a {\n}\n", encoding="utf-8")

    dump = dump_syntax(spec)

    assert dump.filetype != "par"


def test_ftplugin_sets_comments_and_names(tmp_path: Path) -> None:
    spec = tmp_path / "build.par"
    spec.write_text("track a {\n}\n", encoding="utf-8")

    dump = dump_syntax(spec)

    assert dump.commentstring == "# %s"
    assert dump.iskeyword.split(",")[-1] == "-"


def test_groups_link_to_standard_groups(tmp_path: Path) -> None:
    # One line per group, so each shows up at the start of its own line.
    spec = tmp_path / "links.par"
    spec.write_text(
        "\n".join(
            [
                "track",
                "step",
                "let variable",
                "env NAME",
                "pool link",
                "3",
                "2m",
                "=",
                ",",
                '"text"',
                '"""long"""',
                '"\\n"',
                '"\\q"',
                '"{{name}}"',
                '"{{"',
                "# comment",
                "# TODO",
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    dump = dump_syntax(spec)
    found: dict[str, str] = {}
    for groups, linked in zip(dump.groups, dump.linked, strict=True):
        for group, link in zip(groups, linked, strict=True):
            found.setdefault(group, link)
    found.pop("", None)

    assert found == LINKS


def test_scope_table_names_real_groups() -> None:
    assert {row.vim_group for row in EQUIVALENTS} <= set(LINKS)
