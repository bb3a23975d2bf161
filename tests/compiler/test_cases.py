"""Golden tests: every diagnostic code, rendered exactly as `parc` prints it.

Each `cases/CODE-what.par` is checked with the real command line from the
`cases` directory, and its standard error must equal `cases/CODE-what.expected`
byte for byte. A first line `# parc: COMMAND ARGUMENT...` picks the command
and its arguments (default: `check`).

To regenerate the expected files after an intended change of wording, run

    PARC_REGENERATE=1 python -m pytest tests/compiler/test_cases.py

which also rewrites the quoted output in docs/diagnostics.md, and review
`git diff tests/compiler/cases docs/diagnostics.md` like any other change.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from parc.diagnostics import Codes

CASES = Path(__file__).parent / "cases"
SPECS = sorted(CASES.glob("*.par"))


def run_case(spec: Path) -> subprocess.CompletedProcess[str]:
    first_line = spec.read_text(encoding="utf-8").split("\n", 1)[0]
    command = ["check"]
    if first_line.startswith("# parc:"):
        command = shlex.split(first_line.removeprefix("# parc:"))
    environment = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "parc", command[0], "-f", spec.name, *command[1:]],
        cwd=CASES,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


@pytest.mark.parametrize("spec", SPECS, ids=[spec.stem for spec in SPECS])
def test_case_output(spec: Path) -> None:
    completed = run_case(spec)
    expected_file = spec.with_suffix(".expected")
    if os.environ.get("PARC_REGENERATE"):
        expected_file.write_text(completed.stderr, encoding="utf-8")
    assert completed.stderr == expected_file.read_text(encoding="utf-8")

    code = spec.name.split("-", 1)[0]
    assert f"[{code}]" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.returncode == (0 if code.startswith("W") else 2)


def test_every_code_has_a_case() -> None:
    covered = {spec.name.split("-", 1)[0] for spec in SPECS}
    assert {code.id for code in Codes.all()} <= covered


def test_every_case_has_expected_output() -> None:
    expected = {path.stem for path in CASES.glob("*.expected")}
    assert expected == {spec.stem for spec in SPECS}


def test_docs_show_every_case_output() -> None:
    # docs/diagnostics.md quotes one case per code; a change of wording must
    # reach the documentation too. PARC_REGENERATE=1 rewrites the quoted
    # output blocks and leaves the prose alone.
    docs_file = CASES.parents[2] / "docs" / "diagnostics.md"
    docs = docs_file.read_text(encoding="utf-8")
    head, *sections = docs.split("\n## ")
    by_code = {section.split("\n", 1)[0]: section for section in sections}
    assert set(by_code) == {code.id for code in Codes.all()}

    if os.environ.get("PARC_REGENERATE"):
        rewritten = [head]
        for section in sections:
            spec = min(CASES.glob(f"{section.split(chr(10), 1)[0]}-*.par"))
            expected = spec.with_suffix(".expected").read_text(encoding="utf-8")
            before, rest = section.split("```text\n", 1)
            _, after = rest.split("```\n", 1)
            rewritten.append(before + "```text\n" + expected + "```\n" + after)
        docs_file.write_text("\n## ".join(rewritten), encoding="utf-8")
        by_code = {section.split("\n", 1)[0]: section for section in rewritten[1:]}

    for code, section in by_code.items():
        spec = min(CASES.glob(f"{code}-*.par"))
        expected = spec.with_suffix(".expected").read_text(encoding="utf-8")
        assert "```text\n" + expected + "```" in section, code
        assert f"`{spec.name}`" in section, f"{code} quotes the output of {spec.name}"
        assert "**Fix:**" in section, code
