"""`parc fmt` on real files, run as the installed command would be."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

MESSY = 'track a{\n  run "x"   # why\n}\ntrack b after a { run "y" }\n'
TIDY = 'track a {\n    run "x"  # why\n}\n\ntrack b after a {\n    run "y"\n}\n'


def run_fmt(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parc", "fmt", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_names_files_that_would_change(tmp_path: Path) -> None:
    (tmp_path / "messy.par").write_text(MESSY, encoding="utf-8")
    (tmp_path / "tidy.par").write_text(TIDY, encoding="utf-8")
    completed = run_fmt("--check", "messy.par", "tidy.par", cwd=tmp_path)
    assert completed.returncode == 1
    assert completed.stdout == "would reformat messy.par\n"
    assert (tmp_path / "messy.par").read_text(encoding="utf-8") == MESSY


def test_check_passes_on_formatted_file(tmp_path: Path) -> None:
    (tmp_path / "tidy.par").write_text(TIDY, encoding="utf-8")
    completed = run_fmt("--check", "tidy.par", cwd=tmp_path)
    assert completed.returncode == 0
    assert completed.stdout == ""


def test_rewrites_in_place_and_keeps_mode(tmp_path: Path) -> None:
    spec = tmp_path / "messy.par"
    spec.write_text(MESSY, encoding="utf-8")
    spec.chmod(0o640)
    completed = run_fmt("messy.par", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "reformatted messy.par\n"
    assert spec.read_text(encoding="utf-8") == TIDY
    assert stat.S_IMODE(spec.stat().st_mode) == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == ["messy.par"]

    again = run_fmt("messy.par", cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout == ""


def test_finds_build_par_upward(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text(MESSY, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    completed = run_fmt(cwd=tmp_path / "sub")
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "build.par").read_text(encoding="utf-8") == TIDY


def test_syntax_error_leaves_file_unchanged(tmp_path: Path) -> None:
    broken = 'track a {\n    run "x\n}\n'
    (tmp_path / "broken.par").write_text(broken, encoding="utf-8")
    (tmp_path / "messy.par").write_text(MESSY, encoding="utf-8")
    completed = run_fmt("broken.par", "messy.par", cwd=tmp_path)
    assert completed.returncode == 2
    assert "broken.par:2:9: error[E0102]: unterminated string" in completed.stderr
    assert "parc: files with syntax errors were left unchanged" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert (tmp_path / "broken.par").read_text(encoding="utf-8") == broken
    assert (tmp_path / "messy.par").read_text(encoding="utf-8") == TIDY


def test_missing_file(tmp_path: Path) -> None:
    completed = run_fmt("nope.par", cwd=tmp_path)
    assert completed.returncode == 2
    assert "cannot read `nope.par`" in completed.stderr


def test_formats_repository_examples_stably(tmp_path: Path) -> None:
    # The examples shipped with parc are already in the canonical layout.
    repository = Path(__file__).resolve().parents[2]
    specs = sorted(str(path) for path in (repository / "specs").glob("*/build.par"))
    completed = run_fmt("--check", *specs, cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout


def _fmt_stdin(*args: str, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parc", "fmt", *args, "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_fmt_dash_formats_stdin_to_stdout() -> None:
    result = _fmt_stdin(text='track  a {\n  run "x"   # c\n}\n')

    assert result.returncode == 0, result.stderr
    assert result.stdout == 'track a {\n    run "x"  # c\n}\n'


def test_fmt_dash_check_sets_the_exit_code() -> None:
    formatted = _fmt_stdin("--check", text='track a {\n    run "x"\n}\n')
    unformatted = _fmt_stdin("--check", text="track  a {\n}\n")

    assert formatted.returncode == 0, formatted.stderr
    assert unformatted.returncode == 1
    assert unformatted.stdout == ""


def test_fmt_dash_reports_syntax_errors() -> None:
    result = _fmt_stdin(text="track a {\n")

    assert result.returncode == 2
    assert "<stdin>:1:9: error[E0103]: unclosed `{`" in result.stderr
