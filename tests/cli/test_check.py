"""`parc check` as a user runs it: summary, warnings about files, the parser and plan caches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SPEC = """\
track gen {
    reads "src/*.c"
    owns "out/**"
    run "make"
}

track use after gen {
    reads "out/lib.a", "docs/*.md"
    run "use"
}
"""


def run_check(
    *arguments: str, cwd: Path, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parc", "check", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1", **(environment or {})},
    )


def test_unmatched_reads_warn_until_files_exist(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(SPEC, encoding="utf-8")
    completed = run_check(cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "build.par: 2 steps, no errors, 2 warnings\n"
    assert completed.stderr.count("warning[W0104]") == 2
    assert "`gen` reads `src/*.c`, but no file matches it" in completed.stderr
    assert "`use` reads `docs/*.md`, but no file matches it" in completed.stderr
    assert "`use` reads `out/lib.a`" not in completed.stderr  # `gen` owns it

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.c").write_text("", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("", encoding="utf-8")
    completed = run_check(cwd=tmp_path)
    assert completed.returncode == 0
    assert completed.stdout == "build.par: 2 steps, no errors\n"
    assert completed.stderr == ""


def test_errors_exit_two_with_count(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text('track a after b {\n    run "x"\n}\n', encoding="utf-8")
    completed = run_check(cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.endswith("parc: 1 error in build.par\n")
    assert completed.stdout == ""


def test_check_rejects_targets(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text('track a {\n    run "x"\n}\n', encoding="utf-8")
    completed = run_check("a", cwd=tmp_path)
    assert completed.returncode == 2
    first, usage, _ = completed.stderr.splitlines()
    assert first == "parc: error: `parc check` takes only NAME=VALUE overrides, not `a`"
    assert usage == "Usage: parc check [OPTIONS] [NAME=VALUE ...]"


def test_parser_cache_is_per_user_and_survives_corruption(tmp_path: Path) -> None:
    # Only a spec with a syntax error needs Lark's parser: valid specs take
    # the hand-written one.
    project = tmp_path / "project"
    project.mkdir()
    (project / "build.par").write_text('track a {\n    run "x"\n', encoding="utf-8")
    cache = tmp_path / "cache"
    environment = {"XDG_CACHE_HOME": str(cache)}

    first = run_check(cwd=project, environment=environment)
    assert first.returncode == 2
    assert "unclosed `{`" in first.stderr
    [cached] = list((cache / "parc").iterdir())
    assert (cache / "parc").stat().st_mode & 0o777 == 0o700

    cached.write_bytes(b"not a pickle")
    completed = run_check(cwd=project, environment=environment)
    assert completed.returncode == 2
    assert completed.stderr == first.stderr


def test_cached_check_repeats_warnings(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(SPEC, encoding="utf-8")
    debug = {"PARC_LOG": "DEBUG"}
    first = run_check(cwd=tmp_path, environment=debug)
    assert first.returncode == 0, first.stderr
    assert "plan cache: hit" not in first.stderr
    assert (tmp_path / ".parc" / "plan-cache").is_file()

    second = run_check(cwd=tmp_path, environment=debug)
    assert second.returncode == 0
    assert "plan cache: hit, 2 steps" in second.stderr
    assert second.stdout == first.stdout
    assert second.stderr.count("warning[W0104]") == 2

    plain = run_check(cwd=tmp_path)
    assert plain.stderr == run_check(cwd=tmp_path).stderr
    assert plain.stderr.count("warning[W0104]") == 2


def test_cached_check_sees_files_come_and_go(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(SPEC, encoding="utf-8")
    assert run_check(cwd=tmp_path).stderr.count("warning[W0104]") == 2

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("", encoding="utf-8")
    completed = run_check(cwd=tmp_path)
    assert completed.stdout == "build.par: 2 steps, no errors, 1 warning\n"
    assert "`gen` reads `src/*.c`, but no file matches it" in completed.stderr

    (tmp_path / "docs" / "guide.md").unlink()
    completed = run_check(cwd=tmp_path)
    assert completed.stdout == "build.par: 2 steps, no errors, 2 warnings\n"


def test_cache_never_hides_an_error(tmp_path: Path) -> None:
    spec = tmp_path / "build.par"
    valid = 'let cc = "gcc"\ntrack a {\n    run "{{cc}}"\n}\n'
    spec.write_text(valid, encoding="utf-8")
    assert run_check(cwd=tmp_path).returncode == 0

    spec.write_text(valid.replace("{{cc}}", "{{c}}"), encoding="utf-8")
    for _ in range(2):
        completed = run_check(cwd=tmp_path)
        assert completed.returncode == 2
        assert "undefined variable `c`" in completed.stderr

    spec.write_text(valid, encoding="utf-8")
    for _ in range(2):
        completed = run_check("cx=clang", cwd=tmp_path)
        assert completed.returncode == 2
        assert "overrides `cx`, which no `let` defines" in completed.stderr
    assert run_check("cc=clang", cwd=tmp_path).returncode == 0
    assert run_check(cwd=tmp_path).stdout == "build.par: 1 step, no errors\n"


def test_cache_keeps_the_name_spec_is_shown_under(tmp_path: Path) -> None:
    spec = 'let unused = "x"\ntrack a {\n    run "x"\n}\n'
    (tmp_path / "build.par").write_text(spec, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    here = run_check(cwd=tmp_path)
    below = run_check(cwd=tmp_path / "sub")
    assert here.stderr.startswith("build.par:1:5: warning[W0102]")
    assert below.stderr.startswith("../build.par:1:5: warning[W0102]")
    assert below.stdout == "../build.par: 1 step, no errors, 1 warning\n"
    assert run_check(cwd=tmp_path).stderr == here.stderr


def test_cached_plan_prints_the_same_json(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(SPEC, encoding="utf-8")

    def plan_json() -> str:
        completed = subprocess.run(
            [sys.executable, "-m", "parc", "plan", "--format", "json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    fresh = plan_json()
    assert (tmp_path / ".parc" / "plan-cache").is_file()
    assert plan_json() == fresh
    (tmp_path / ".parc" / "plan-cache").write_bytes(b"damaged")
    assert plan_json() == fresh


def test_unmatched_reads_ignore_parc_files(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(
        'track a {\n    reads "*/*"\n    run "x"\n}\n', encoding="utf-8"
    )
    for _ in range(2):
        completed = run_check(cwd=tmp_path)
        assert (tmp_path / ".parc" / "plan-cache").is_file()
        assert "`a` reads `*/*`, but no file matches it" in completed.stderr
