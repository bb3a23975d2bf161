"""`parc check` as a user runs it: summary, warnings about files, and the parser cache."""

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
    assert "`parc check` takes only NAME=VALUE overrides, not `a`" in completed.stderr


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
