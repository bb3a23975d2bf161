"""`parc clean`: removes build outputs only, never outside the root, and forgets state."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from parc.plan import PlanStep
from parc.runtime.state import StateStore
from parc.runtime.state.clean import find_owned

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


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_clean_keeps_files_edited_in_place(project: Project) -> None:
    project.spec(
        """\
        track fmt {
            reads "src/*.py"
            owns "src/*.py", "report.txt"
            run "sed -i 's/  *$//' src/*.py && ls src > report.txt"
        }
        """
    )
    project.write("src/a.py", "x = 1   \n")
    assert project.build().code == 0
    dry = project.run("clean", "-n")
    assert dry.stdout.splitlines() == [
        "would remove report.txt",
        "would keep src/a.py: `fmt` also reads it (an in-place edit)",
        "parc: would remove 1 file and 0 directories; would keep 1 path that is not a build output",
    ]
    outcome = project.run("clean")
    assert outcome.code == 0, outcome.stderr
    assert "kept src/a.py: `fmt` also reads it (an in-place edit)" in outcome.stdout
    assert project.read("src/a.py") == "x = 1\n"
    assert not (project.root / "report.txt").exists()


def test_clean_keeps_files_git_tracks(project: Project) -> None:
    project.spec('track gen {\n    reads "grammar.y"\n    owns "gen"\n    run "true"\n}\n')
    project.write("grammar.y", "%%\n")
    project.write("gen/parser.c", "/* committed by the project */\n")
    project.write("gen/parser.o", "object\n")
    _git(project.root, "init", "-q")
    _git(project.root, "add", "gen/parser.c")
    dry = project.run("clean", "-n")
    assert dry.stdout.splitlines() == [
        "would remove gen/parser.o",
        "would keep gen/parser.c: git tracks it",
        "parc: would remove 1 file and 0 directories; would keep 1 path that is not a build output",
    ]
    outcome = project.run("clean")
    assert outcome.code == 0, outcome.stderr
    assert "kept gen/parser.c: git tracks it" in outcome.stdout
    assert (project.root / "gen/parser.c").is_file()
    assert not (project.root / "gen/parser.o").exists()


def test_clean_in_subdirectory_of_git_work_tree(project: Project) -> None:
    _git(project.root, "init", "-q")
    sub = project.root / "sub"
    sub.mkdir()
    (sub / "build.par").write_text('track gen {\n    owns "out"\n    run "true"\n}\n')
    project.write("sub/out/tracked.txt", "kept\n")
    project.write("sub/out/made.txt", "removed\n")
    _git(project.root, "add", "sub/out/tracked.txt")
    outcome = project.run("clean", "-f", str(sub / "build.par"))
    assert outcome.code == 0, outcome.stderr
    assert (sub / "out/tracked.txt").is_file()
    assert not (sub / "out/made.txt").exists()


def test_clean_stops_when_git_fails(project: Project) -> None:
    project.spec('track gen {\n    owns "out"\n    run "true"\n}\n')
    project.write("out/a.txt", "x\n")
    project.write(".git", "not a gitdir line\n")
    outcome = project.run("clean")
    assert outcome.code == 2
    assert "cannot tell which owned files git tracks, so parc removed nothing" in outcome.stderr
    assert "`parc clean --no-git`" in outcome.stderr
    assert (project.root / "out/a.txt").is_file()


@pytest.fixture
def without_git(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A project in a git work tree, with a PATH on which there is no `git` command."""
    project.spec('track gen {\n    owns "out"\n    run "true"\n}\n')
    project.write("out/tracked.txt", "x\n")
    _git(project.root, "init", "-q")
    _git(project.root, "add", "out/tracked.txt")
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return project


def test_clean_without_git_command_refuses(without_git: Project) -> None:
    outcome = without_git.run("clean")
    assert outcome.code == 2
    assert outcome.stdout == ""
    assert "the `git` command is not installed" in outcome.stderr
    assert "cannot tell which owned files git tracks and removed nothing" in outcome.stderr
    assert "run `parc clean --no-git` to remove tracked files too" in outcome.stderr
    assert (without_git.root / "out/tracked.txt").is_file()


def test_clean_dry_run_without_git_uses_would(without_git: Project) -> None:
    outcome = without_git.run("clean", "-n")
    assert outcome.code == 2
    assert "and would remove nothing" in outcome.stderr
    assert "removed" not in outcome.stderr
    assert "run `parc clean -n --no-git` to list tracked files" in outcome.stderr


def test_clean_no_git_removes_tracked_files(without_git: Project) -> None:
    dry = without_git.run("clean", "-n", "--no-git")
    assert dry.code == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "would remove out/tracked.txt",
        "would remove out/",
        "parc: would remove 1 file and 1 directory",
    ]
    assert (without_git.root / "out/tracked.txt").is_file()

    outcome = without_git.run("clean", "--no-git")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.splitlines() == [
        "removed out/tracked.txt",
        "removed out/",
        "parc: removed 1 file and 1 directory",
    ]
    assert not (without_git.root / "out").exists()


def test_clean_quotes_odd_names(project: Project) -> None:
    project.spec('track gen {\n    owns "out/**", "-*"\n    run "true"\n}\n')
    odd = [b"out/a b", b"out/new\nline", b"out/bad\xffbyte", b"out/it's", b"-rf"]
    for name in odd:
        path = os.path.join(os.fsencode(project.root), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb"):
            pass
    expected = [
        "./-rf",
        "'out/a b'",
        "'out/bad'$'\\377''byte'",
        '"out/it\'s"',
        "'out/new'$'\\n''line'",
    ]

    dry = project.run("clean", "-n")
    assert dry.code == 0, dry.stderr
    assert dry.stdout.splitlines()[:5] == [f"would remove {word}" for word in expected]

    outcome = project.run("clean")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.splitlines()[:5] == [f"removed {word}" for word in expected]
    assert not (project.root / "out").exists()
    assert not (project.root / "-rf").exists()


def test_clean_keeps_version_control_data(project: Project) -> None:
    project.spec('track gen {\n    owns ".*"\n    run "true"\n}\n')
    _git(project.root, "init", "-q")
    project.write(".cache/x", "removed\n")
    outcome = project.run("clean")
    assert outcome.code == 0, outcome.stderr
    assert "kept .git: it is version control data" in outcome.stdout.splitlines()
    assert "kept .git/" not in outcome.stdout  # listed once, not file by file
    assert (project.root / ".git" / "HEAD").is_file()
    assert (project.root / ".parc" / "lock").is_file()
    assert not (project.root / ".cache").exists()


def test_clean_rejects_spec_owning_everything(project: Project) -> None:
    project.spec('track everything {\n    owns "**"\n    run "true"\n}\n')
    project.write("src/main.c", "int main;\n")
    outcome = project.run("clean")
    assert outcome.code == 2
    assert "error[E0406]" in outcome.stderr
    assert (project.root / "build.par").is_file()
    assert (project.root / "src/main.c").is_file()


def test_find_owned_keeps_spec_and_state(tmp_path: Path) -> None:
    for path in ("build.par", "out/a.o", ".parc/state.db"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(path)
    everything = PlanStep(name="all", kind="track", index=0, commands=(), owns=("**",))
    owned = find_owned(tmp_path, [everything], spec="build.par")
    assert owned.files == ("out/a.o",)
    assert owned.directories == ("out",)
    assert owned.kept == (("build.par", "it is the spec file"),)


def test_clean_keeps_nested_repository_whole(project: Project) -> None:
    project.spec('track fetch {\n    owns "vendor/**"\n    run "true"\n}\n')
    project.write("vendor/out.o", "built\n")
    project.write("vendor/lib/a.c", "int a;\n")
    project.write("vendor/lib/sub/b.c", "int b;\n")
    _git(project.root / "vendor/lib", "init", "-q")
    _git(project.root / "vendor/lib", "add", "a.c")

    dry = project.run("clean", "-n")
    assert dry.stdout.splitlines() == [
        "would remove vendor/out.o",
        "would keep vendor/lib: it is a nested repository (it contains `.git`), kept whole",
        "parc: would remove 1 file and 0 directories; would keep 1 path that is not a build output",
    ]

    outcome = project.run("clean")
    assert outcome.code == 0, outcome.stderr
    assert not (project.root / "vendor/out.o").exists()
    assert (project.root / "vendor/lib/a.c").is_file()
    assert (project.root / "vendor/lib/sub/b.c").is_file()
    assert (project.root / "vendor/lib/.git/HEAD").is_file()


def test_clean_keeps_submodule_with_git_file(project: Project) -> None:
    # A submodule's or worktree's `.git` is a file that points at the repository.
    project.spec('track fetch {\n    owns "deps/*.c", "deps/*/*.c"\n    run "true"\n}\n')
    project.write("deps/made.c", "made\n")
    project.write("deps/mod/.git", "gitdir: ../../.git/modules/mod\n")
    project.write("deps/mod/mod.c", "int mod;\n")
    outcome = project.run("clean")
    assert outcome.code == 0, outcome.stderr
    assert "kept deps/mod: it is a nested repository (it contains `.git`), kept whole" in (
        outcome.stdout.splitlines()
    )
    assert not (project.root / "deps/made.c").exists()
    assert (project.root / "deps/mod/mod.c").is_file()


@pytest.mark.parametrize("owns", ["proto/gen", "proto/gen/**"])
def test_clean_reading_parent_is_not_in_place(project: Project, owns: str) -> None:
    project.spec(
        f"""\
        track protos {{
            reads "proto"
            owns "{owns}"
            run "true"
        }}
        """
    )
    project.write("proto/a.proto", "message A {}\n")
    project.write("proto/gen/a.pb.c", "generated\n")
    outcome = project.run("clean")
    assert outcome.code == 0, outcome.stderr
    assert "in-place" not in outcome.stdout
    assert not (project.root / "proto/gen/a.pb.c").exists()
    assert (project.root / "proto/a.proto").is_file()


@pytest.mark.parametrize(
    ("reads", "owns", "in_place"),
    [
        ("src/*.py", "src/*.py", True),
        ("src/**", "src/*.py", True),
        ("src/a.py", "src", True),
        ("gen", "gen", True),
        ("proto", "proto/gen", False),
        ("proto", "proto/gen/**", False),
        ("proto/*.proto", "proto/gen/**", False),
    ],
)
def test_find_owned_in_place_rule(tmp_path: Path, reads: str, owns: str, in_place: bool) -> None:
    for path in ("src/a.py", "gen/x.c", "proto/a.proto", "proto/gen/a.pb.c"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(path)
    step = PlanStep(name="s", kind="track", index=0, commands=(), reads=(reads,), owns=(owns,))
    owned = find_owned(tmp_path, [step])
    edited = {path for path, reason in owned.kept if "in-place" in reason}
    removed = set(owned.files)
    assert edited or removed
    if in_place:
        assert not removed, owned
    else:
        assert not edited, owned
