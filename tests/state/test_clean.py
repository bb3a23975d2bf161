"""`parc clean`: removes owned files only, never outside the root, and forgets state."""

from __future__ import annotations

from pathlib import Path

import pytest

from parc.runtime.state import StateStore

from .conftest import Project

SPEC = """\
track lib {
    reads "src/*.c"
    owns "build/lib/**"
    run "mkdir -p build/lib && cp src/a.c build/lib/a.o && echo {{step}} >> ran.log"
}

track docs {
    reads "docs/*.md"
    owns "build/doc/*.html"
    run "mkdir -p build/doc && cp docs/a.md build/doc/a.html && echo {{step}} >> ran.log"
}
"""


@pytest.fixture
def built(project: Project) -> Project:
    project.spec(SPEC)
    project.write("src/a.c", "int a;\n")
    project.write("docs/a.md", "# A\n")
    assert project.build().code == 0
    return project


def _tree(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if ".parc" not in path.relative_to(root).parts
    }


def test_dry_run_lists_and_removes_nothing(built: Project) -> None:
    before = _tree(built.root)
    outcome = built.run("clean", "-n")
    assert outcome.code == 0
    assert outcome.stdout.splitlines() == [
        "would remove build/doc/a.html",
        "would remove build/lib/a.o",
        "would remove build/lib/",
        "parc: would remove 2 files and 1 directory",
    ]
    assert _tree(built.root) == before


def test_clean_removes_owned_files_only(built: Project) -> None:
    built.write("build/doc/notes.txt", "not owned\n")
    built.write("build/keep.txt", "not owned\n")
    outcome = built.run("clean")
    assert outcome.code == 0, outcome.stderr
    assert "parc: removed 2 files and 1 directory" in outcome.stdout
    remaining = _tree(built.root)
    assert "build/lib" not in remaining
    assert "build/doc/a.html" not in remaining
    assert {"build/doc/notes.txt", "build/keep.txt", "src/a.c", "build.par"} <= remaining
    assert (built.root / ".parc" / "state.db").is_file()
    assert sorted(built.build().ran) == ["docs", "lib"]


def test_clean_removes_everything_below_owned_directory(project: Project) -> None:
    project.spec(
        """\
        track gen {
            owns "out/*"
            run "mkdir -p out/sub && touch out/a out/sub/b out/sub/c"
        }
        """
    )
    assert project.build().code == 0
    outcome = project.run("clean")
    assert outcome.code == 0, outcome.stderr
    # `out/*` matches the directory `out/sub`, so it covers `out/sub/b` too.
    assert not (project.root / "out/sub").exists()
    assert not (project.root / "out/a").exists()
    assert (project.root / "out").is_dir()  # `out/*` does not match `out` itself


def test_clean_named_step_only(built: Project) -> None:
    outcome = built.run("clean", "docs", "-f", str(built.root / "build.par"))
    assert outcome.code == 0
    assert not (built.root / "build/doc/a.html").exists()
    assert (built.root / "build/lib/a.o").is_file()


def test_clean_never_follows_symlinks_outside(built: Project, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "lib").mkdir(parents=True)
    (outside / "lib" / "precious.o").write_text("keep me\n")
    (outside / "precious.html").write_text("keep me\n")

    # A symlink inside an owned tree, and an owned directory that is a symlink.
    (built.root / "build/lib/escape").symlink_to(outside)
    (built.root / "build/doc/a.html").unlink()
    (built.root / "build/doc").rmdir()
    (built.root / "build/doc").symlink_to(outside)

    outcome = built.run("clean")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "removed build/lib/escape" in outcome.stdout
    assert not (built.root / "build/lib/escape").is_symlink()
    assert (outside / "lib" / "precious.o").read_text() == "keep me\n"
    assert (outside / "precious.html").read_text() == "keep me\n"
    assert (built.root / "build/doc").is_symlink()  # `build/doc/*.html` does not match it


def test_clean_of_owned_symlink_removes_the_link(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file.txt").write_text("keep me\n")
    project.spec('track gen {\n    owns "out/**"\n    run "true"\n}\n')
    (project.root / "out").symlink_to(outside)
    outcome = project.run("clean")
    assert outcome.code == 0
    assert "removed out\n" in outcome.stdout
    assert not (project.root / "out").exists()
    assert (outside / "file.txt").read_text() == "keep me\n"


def test_clean_state_forgets_everything(built: Project) -> None:
    assert built.build().ran == []
    dry = built.run("clean", "--state", "-n")
    assert "would forget the recorded state" in dry.stdout
    assert built.build().ran == []

    outcome = built.run("clean", "--state")
    assert outcome.code == 0
    assert "forgot the recorded state" in outcome.stdout
    assert (built.root / "build/lib/a.o").is_file()  # files stay
    assert sorted(built.build().ran) == ["docs", "lib"]


def test_clean_state_of_named_step(built: Project) -> None:
    outcome = built.run("clean", "--state", "lib", "-f", str(built.root / "build.par"))
    assert outcome.code == 0
    assert "forgot `lib`" in outcome.stdout
    assert built.build().ran == ["lib"]


def test_clean_state_recovers_damaged_database(built: Project) -> None:
    database = built.root / ".parc" / "state.db"
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    database.write_bytes(b"garbage" * 1000)
    broken = built.build()
    assert broken.code == 2
    assert "parc clean --state" in broken.stderr
    assert broken.ran == []

    assert built.run("clean", "--state").code == 0
    assert sorted(built.build().ran) == ["docs", "lib"]
    with StateStore.open(database) as store:
        assert sorted(store.steps) == ["docs", "lib"]
