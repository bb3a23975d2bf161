"""`parc list`, `parc init`, shell completion and the bare `parc` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from parc.cli.group import cli

SPEC = """\
let cc = "gcc"
pool link = 1
default app

track lib {
    desc "the library"
    run "echo {{cc}}"
}

track app after lib {
    pool link
    run "echo app"
}

integrate release { run "echo release" }
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "build.par").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_list_shows_every_step_in_spec_order(project: Path) -> None:
    result = CliRunner().invoke(cli, ["list"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["STEP", "KIND", "AFTER", "POOL", "DESCRIPTION"]
    assert lines[1].split() == ["lib", "track", "the", "library"]
    assert lines[2].split() == ["app*", "track", "lib", "link"]
    assert lines[3].split() == ["release", "integrate", "lib,", "app"]
    assert lines[-1] == "* built by `parc build` without targets"


def test_list_json_matches_the_spec(project: Path) -> None:
    result = CliRunner().invoke(cli, ["list", "--json"])

    assert result.exit_code == 0, result.output
    steps = json.loads(result.output)
    assert [step["name"] for step in steps] == ["lib", "app", "release"]
    assert steps[1] == {
        "name": "app",
        "kind": "track",
        "desc": "",
        "after": ["lib"],
        "pool": "link",
        "default": True,
    }
    assert steps[0]["default"] is False
    assert steps[2]["after"] == ["lib", "app"]


def test_list_of_invalid_spec_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "build.par").write_text('track a after b { run "x" }\n')
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["list"])

    assert result.exit_code == 2
    assert "undefined step `b`" in result.output


@pytest.mark.parametrize(
    ("arguments", "message", "usage"),
    [
        (["list", "stats"], "got unexpected extra argument (stats)", "Usage: parc list [OPTIONS]"),
        (["plan", "--format", "svg"], "invalid value for '--format'", "Usage: parc plan "),
        (["--bogus"], "no such option '--bogus'", "Usage: parc [OPTIONS]"),
    ],
)
def test_usage_error_reads_like_parc_errors(
    project: Path, arguments: list[str], message: str, usage: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parc", *arguments], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 2
    first, second, third = result.stderr.splitlines()
    assert first.startswith(f"parc: error: {message}")
    assert second.startswith(usage)
    assert third.startswith("Run `parc")
    assert third.endswith("--help` for its options.")


def test_init_writes_a_spec_that_builds(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parc", "init"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "build.par").is_file()

    built = subprocess.run(
        [sys.executable, "-m", "parc", "build"], cwd=tmp_path, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "hello from hello" in (tmp_path / "build" / "report.txt").read_text()
    assert "3 succeeded" in built.stdout


def test_init_refuses_to_overwrite(project: Path) -> None:
    result = CliRunner().invoke(cli, ["init"])

    assert result.exit_code != 0
    assert (project / "build.par").read_text() == SPEC


def test_init_force_overwrites(project: Path) -> None:
    result = CliRunner().invoke(cli, ["init", "--force"])

    assert result.exit_code == 0, result.output
    assert "track hello" in (project / "build.par").read_text()


def _complete(cwd: Path, words: str, cword: int) -> list[str]:
    env = dict(os.environ, _PARC_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    result = subprocess.run(
        [sys.executable, "-m", "parc"], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


def test_completion_offers_steps_and_variables(project: Path) -> None:
    assert _complete(project, "parc build ", 2) == ["cc=", "lib", "app", "release"]
    assert _complete(project, "parc build a", 2) == ["app"]
    assert _complete(project, "parc plan r", 2) == ["release"]


def test_completion_skips_words_already_given(project: Path) -> None:
    assert _complete(project, "parc build app ", 3) == ["cc=", "lib", "release"]
    assert _complete(project, "parc build cc=clang a", 3) == ["app"]
    assert _complete(project, "parc build cc=clang ", 3) == ["lib", "app", "release"]


def test_completion_of_clean_and_check(project: Path) -> None:
    assert _complete(project, "parc clean ", 2) == ["cc=", "lib", "app", "release"]
    assert _complete(project, "parc clean r", 2) == ["release"]
    assert _complete(project, "parc check ", 2) == ["cc="]
    assert _complete(project, "parc check a", 2) == []
    assert _complete(project, "parc build -j ", 3) == ["cc=", "lib", "app", "release"]


def test_completion_of_broken_spec_offers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "build.par").write_text("track {\n")
    assert _complete(tmp_path, "parc build ", 2) == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_names_the_program(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])

    assert result.exit_code == 0
    assert "_PARC_COMPLETE" in result.output


def test_bare_parc_without_spec_says_how_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parc"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "Usage: parc" in result.stdout
    assert "run `parc init`" in result.stderr


def test_completion_of_unknown_shell_names_shell(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parc", "completion", "powershell"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "invalid value for 'SHELL': 'powershell' is not one of" in result.stderr
    assert "{bash|zsh|fish}" not in result.stderr


def test_build_without_spec_suggests_init(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parc", "build"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "no `build.par` in" in result.stderr
    assert "run `parc init` to write a starter spec" in result.stderr
