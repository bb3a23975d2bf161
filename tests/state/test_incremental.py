"""Incremental builds end to end: which steps a build runs after each kind of change."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from parc.runtime.state import StateStore

from .conftest import Project

# A diamond (a -> b, c -> d), a step with a variable and env (e), a step that
# only runs after e without reading its files (g), and a step without `owns` (f).
SPEC = """\
let mark = "echo {{step}} >> ran.log"
let greeting = "hello"

track a {
    reads "src/a.txt"
    owns "out/a.txt"
    run "mkdir -p out && cat src/a.txt > out/a.txt"
    run "{{mark}}"
}

track b after a {
    reads "out/a.txt", "src/b.txt"
    owns "out/b.txt"
    run "cat out/a.txt src/b.txt > out/b.txt"
    run "{{mark}}"
}

track c after a {
    reads "out/a.txt"
    owns "out/c.txt"
    run "tr a-z A-Z < out/a.txt > out/c.txt"
    run "{{mark}}"
}

track d after b, c {
    reads "out/b.txt", "out/c.txt"
    owns "out/d/**"
    run "mkdir -p out/d && cat out/b.txt out/c.txt > out/d/all.txt"
    run "{{mark}}"
}

track e {
    reads "src/e/*.txt"
    owns "out/e.txt"
    env TONE = "calm"
    run "mkdir -p out && echo {{greeting}} $TONE > out/e.txt && cat src/e/*.txt >> out/e.txt"
    run "{{mark}}"
}

track g after e {
    reads "src/g.txt"
    owns "out/g.txt"
    run "mkdir -p out && cp src/g.txt out/g.txt"
    run "{{mark}}"
}

track f {
    reads "src/a.txt"
    run "{{mark}}"
}
"""

ALL = ["a", "b", "c", "d", "e", "f", "g"]


@pytest.fixture
def built(project: Project) -> Project:
    """The project after a first, complete build."""
    project.spec(SPEC)
    project.write("src/a.txt", "alpha\n")
    project.write("src/b.txt", "beta\n")
    project.write("src/e/one.txt", "one\n")
    project.write("src/g.txt", "gamma\n")
    first = project.build()
    assert first.code == 0, first.stdout + first.stderr
    assert sorted(first.ran) == ALL
    return project


def test_second_build_runs_nothing(built: Project) -> None:
    second = built.build()
    assert second.code == 0, second.stdout + second.stderr
    assert second.ran == ["f"]
    assert "6 up to date" in second.stdout
    assert built.statuses()["a"] == "up to date"


def test_changed_input_reruns_step_and_dependents(built: Project) -> None:
    built.write("src/b.txt", "BETA, changed\n")
    assert sorted(built.build().ran) == ["b", "d", "f"]
    assert built.read("out/d/all.txt") == "alpha\nBETA, changed\nALPHA\n"


def test_changed_root_input_reruns_chain(built: Project) -> None:
    built.write("src/a.txt", "first\n")
    assert sorted(built.build().ran) == ["a", "b", "c", "d", "f"]


def test_changed_command_reruns_step_and_dependents(built: Project) -> None:
    built.spec(SPEC.replace("tr a-z A-Z", "tr a-z N-ZA-M"))
    assert sorted(built.build().ran) == ["c", "d", "f"]
    assert built.read("out/c.txt") == "NYCUN\n"


def test_changed_variable_reruns_its_users(built: Project) -> None:
    assert sorted(built.build("greeting=hi").ran) == ["e", "f", "g"]
    assert built.read("out/e.txt").startswith("hi calm")
    assert sorted(built.build("greeting=hi").ran) == ["f"]


def test_changed_env_reruns_step(built: Project) -> None:
    built.spec(SPEC.replace('TONE = "calm"', 'TONE = "loud"'))
    assert sorted(built.build().ran) == ["e", "f", "g"]


def test_deleted_output_reruns_step_and_dependents(built: Project) -> None:
    (built.root / "out/c.txt").unlink()
    assert sorted(built.build().ran) == ["c", "d", "f"]
    assert (built.root / "out/c.txt").is_file()


def test_deleted_output_directory_reruns_step(built: Project) -> None:
    (built.root / "out/d/all.txt").unlink()
    (built.root / "out/d").rmdir()
    assert sorted(built.build().ran) == ["d", "f"]


def test_modified_output_reruns_step(built: Project) -> None:
    built.write("out/b.txt", "tampered\n")
    assert sorted(built.build().ran) == ["b", "d", "f"]
    assert built.read("out/b.txt") == "alpha\nbeta\n"


def test_new_file_matching_reads_reruns(built: Project) -> None:
    built.write("src/e/two.txt", "two\n")
    assert sorted(built.build().ran) == ["e", "f", "g"]
    (built.root / "src/e/two.txt").unlink()
    assert sorted(built.build().ran) == ["e", "f", "g"]


def test_input_restored_with_older_timestamp_rebuilds(built: Project) -> None:
    path = built.root / "src/b.txt"
    before = path.stat()
    path.write_text("BETA\n")  # same size, new content
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns - 3_600_000_000_000))
    assert sorted(built.build().ran) == ["b", "d", "f"]


def test_input_with_identical_size_and_mtime_rebuilds(built: Project) -> None:
    for name in ("src/b.txt", "out/b.txt"):
        built.age(name, 60)  # old enough that the cached digest is trusted
    assert sorted(built.build().ran) == ["f"]

    path = built.root / "src/b.txt"
    before = path.stat()
    path.write_text("BETA\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(built.build().ran) == ["b", "d", "f"]


def test_force_runs_everything(built: Project) -> None:
    assert sorted(built.build("-B").ran) == ALL
    assert sorted(built.build().ran) == ["f"]


def test_skipped_dependency_does_not_count_as_ran(built: Project) -> None:
    built.write("src/g.txt", "GAMMA\n")
    assert sorted(built.build().ran) == ["f", "g"]


def test_dependency_run_in_earlier_build_reruns_dependent(built: Project) -> None:
    built.write("src/e/one.txt", "uno\n")
    assert built.build("e").ran == ["e"]
    # g reads nothing of e's, but e ran after g's last success.
    outcome = built.build("g", "--explain")
    assert outcome.ran == ["g"]
    assert "`g` runs: dependency `e` ran after its last success" in outcome.stderr
    assert built.build("g").ran == []


def test_targets_build_only_their_closure(built: Project) -> None:
    built.write("src/a.txt", "changed\n")
    assert sorted(built.build("c").ran) == ["a", "c"]
    assert sorted(built.build().ran) == ["b", "d", "f"]


def test_failed_step_reruns_even_with_its_outputs(project: Project) -> None:
    project.spec(
        """\
        track flaky {
            reads "in.txt"
            owns "out.txt"
            run "cp in.txt out.txt && echo {{step}} >> ran.log"
            run "test ! -e fail-now"
        }
        """
    )
    project.write("in.txt", "x\n")
    project.write("fail-now", "")
    assert project.build().code == 1
    assert project.read("out.txt") == "x\n"
    assert project.statuses()["flaky"] == "failed"

    again = project.build("--explain")
    assert again.code == 1
    assert again.ran == ["flaky"]
    assert "`flaky` runs: its last run failed" in again.stderr

    (project.root / "fail-now").unlink()
    assert project.build().ran == ["flaky"]
    assert project.build().ran == []


def test_failure_after_success_is_not_up_to_date(project: Project) -> None:
    project.spec(
        """\
        track flaky {
            reads "in.txt"
            owns "out.txt"
            run "echo {{step}} >> ran.log"
            run "test ! -e fail-now"
            run "cp in.txt out.txt"
        }
        """
    )
    project.write("in.txt", "x\n")
    assert project.build().ran == ["flaky"]
    # Forced to run again, it fails without touching its output...
    project.write("fail-now", "")
    assert project.build("-B").code == 1
    (project.root / "fail-now").unlink()
    # ...so its inputs and outputs match its last success, yet it runs.
    again = project.build("--explain")
    assert again.ran == ["flaky"]
    assert "`flaky` runs: its last run failed" in again.stderr


def test_timed_out_step_reruns(project: Project) -> None:
    project.spec(
        """\
        track slow {
            reads "in.txt"
            owns "out.txt"
            timeout 1s
            run "cp in.txt out.txt && echo {{step}} >> ran.log"
            run "if test -e hang; then sleep 60; fi"
        }
        """
    )
    project.write("in.txt", "x\n")
    project.write("hang", "")
    first = project.build()
    assert first.code == 1
    assert project.statuses()["slow"] == "timed out"
    (project.root / "hang").unlink()
    second = project.build("--explain")
    assert second.ran == ["slow"]
    assert "`slow` runs: its last run timed out" in second.stderr


def test_step_reading_its_own_output_settles(project: Project) -> None:
    project.spec(
        """\
        track grow {
            reads "gen/**"
            owns "gen/count.txt"
            run "mkdir -p gen && echo x >> gen/count.txt && echo {{step}} >> ran.log"
        }
        """
    )
    assert project.build().ran == ["grow"]
    assert project.build().ran == []


def test_reads_of_directory_covers_its_files(project: Project) -> None:
    project.spec(
        """\
        track sum {
            reads "data"
            owns "total.txt"
            run "cat data/*.txt > total.txt && echo {{step}} >> ran.log"
        }
        """
    )
    project.write("data/one.txt", "1\n")
    assert project.build().ran == ["sum"]
    assert project.build().ran == []
    project.write("data/one.txt", "2\n")
    changed = project.build("--explain")
    assert changed.ran == ["sum"]
    assert "input `data/one.txt` changed" in changed.stderr
    project.write("data/two.txt", "3\n")
    assert project.build().ran == ["sum"]


def test_owns_of_directory_covers_its_files(project: Project) -> None:
    project.spec(
        """\
        track gen {
            reads "src.txt"
            owns "out"
            run "mkdir -p out/sub && cp src.txt out/sub/copy.txt && echo {{step}} >> ran.log"
        }
        """
    )
    project.write("src.txt", "x\n")
    assert project.build().ran == ["gen"]
    assert project.build().ran == []
    (project.root / "out/sub/copy.txt").unlink()
    again = project.build("--explain")
    assert again.ran == ["gen"]
    assert "output `out/sub/copy.txt` is missing" in again.stderr


def test_reads_matching_no_file_always_runs(project: Project) -> None:
    # With `cwd "lib"`, `*.c` still means `*.c` in the spec's directory.
    project.spec(
        """\
        track lib {
            cwd "lib"
            reads "*.c"
            owns "lib/lib.o"
            run "cat *.c > lib.o && echo {{step}} >> ../ran.log"
        }
        """
    )
    project.write("lib/a.c", "int a;\n")
    assert project.build().ran == ["lib"]
    again = project.build("--explain")
    assert again.ran == ["lib"]
    assert (
        "`lib` runs: its `reads` match no file, so it always runs (globs are relative to "
        "the spec's directory, not to its cwd `lib`, so `*.c` may need to be `lib/*.c`)"
    ) in again.stderr


def test_reads_matching_only_directories_always_runs(project: Project) -> None:
    project.spec(
        """\
        track pack {
            reads "assets"
            owns "pack.txt"
            run "ls assets > pack.txt && echo {{step}} >> ran.log"
        }
        """
    )
    (project.root / "assets" / "empty").mkdir(parents=True)
    assert project.build().ran == ["pack"]
    assert project.build().ran == ["pack"]
    project.write("assets/logo.svg", "<svg/>\n")
    assert project.build().ran == ["pack"]
    assert project.build().ran == []


def test_steps_without_reads_or_owns_always_run(project: Project) -> None:
    project.spec(
        """\
        track loose { run "echo {{step}} >> ran.log" }
        track half {
            owns "half.txt"
            run "echo {{step}} >> ran.log && touch half.txt"
        }
        """
    )
    assert sorted(project.build().ran) == ["half", "loose"]
    again = project.build("--explain")
    assert sorted(again.ran) == ["half", "loose"]
    assert "`loose` runs: it declares neither `reads` nor `owns`" in again.stderr
    assert "`half` runs: it declares no `reads`, so it always runs" in again.stderr


def test_explain_names_each_kind_of_change(built: Project) -> None:
    built.write("src/b.txt", "changed\n")
    (built.root / "out/c.txt").unlink()
    built.write("src/e/two.txt", "two\n")
    changed = SPEC.replace('TONE = "calm"', 'TONE = "loud"')
    built.spec(changed.replace("cp src/g.txt", "cp -p src/g.txt"))
    outcome = built.build("--explain")
    assert outcome.code == 0
    lines = [line for line in outcome.stderr.splitlines() if "explain" in line]
    assert "parc: explain: `a` is up to date: unchanged since its last success" in lines[0]
    assert any("`b` runs: input `src/b.txt` changed" in line for line in lines)
    assert any("`c` runs: output `out/c.txt` is missing" in line for line in lines)
    assert any("`d` runs: dependencies `b`, `c` ran in this build" in line for line in lines)
    assert any("`e` runs: env `TONE` changed from `calm` to `loud`" in line for line in lines)
    assert any("input `src/e/two.txt` is new" in line for line in lines)
    assert any(
        "`g` runs: dependency `e` ran in this build; command 1 changed from "
        "`mkdir -p out && cp src/g.txt out/g.txt` to `mkdir -p out && cp -p src/g.txt out/g.txt`"
        in line
        for line in lines
    )
    assert len(lines) == len(ALL)


def test_explain_names_forced_steps(built: Project) -> None:
    outcome = built.build("-B", "--explain")
    assert "`a` runs: -B/--force was given" in outcome.stderr


def test_durations_are_recorded_for_ordering(built: Project) -> None:
    for _ in range(6):
        built.build("-B", "a")
    with StateStore.open(built.root / ".parc" / "state.db") as store:
        assert len(store.steps["a"].durations) == 5
        durations = store.durations()
    assert set(durations) == set(ALL)
    assert all(value >= 0 for value in durations.values())


def test_state_lives_next_to_the_spec(built: Project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    assert built.build().ran == ["f"]
    assert not (elsewhere / ".parc").exists()
    assert (built.root / ".parc" / "state.db").is_file()


def test_dry_run_explain_predicts_without_writing(built: Project) -> None:
    built.write("src/b.txt", "changed\n")
    database = built.root / ".parc" / "state.db"
    before = database.read_bytes()
    predicted = built.build("-n", "--explain")
    assert predicted.code == 0
    assert predicted.ran == []
    assert "# b\n" in predicted.stdout
    assert "`b` would run: input `src/b.txt` changed" in predicted.stderr
    assert "`d` would run: dependency `b` would run in this build" in predicted.stderr
    assert "`c` is up to date" in predicted.stderr
    assert database.read_bytes() == before
    assert sorted(built.build().ran) == ["b", "d", "f"]


def test_dry_run_explain_without_state_creates_nothing(project: Project) -> None:
    project.spec(SPEC)
    project.write("src/a.txt", "alpha\n")
    predicted = project.build("-n", "--explain")
    assert predicted.code == 0
    assert "`a` would run: no earlier success is recorded" in predicted.stderr
    # Only the compiled plan is cached: no state, lock or log.
    names = sorted(path.name for path in (project.root / ".parc").iterdir())
    assert names == [".gitignore", "plan-cache"]


def test_state_stays_out_of_git(built: Project) -> None:
    subprocess.run(["git", "init", "-q"], cwd=built.root, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=built.root,
        check=True,
        capture_output=True,
        text=True,
    )
    untracked = [line.split(" ", 1)[1] for line in status.stdout.splitlines()]
    assert "build.par" in untracked
    assert not [path for path in untracked if path.startswith(".parc")]


def test_explain_shows_whitespace_only_change(built: Project) -> None:
    built.spec(SPEC.replace("cp src/g.txt out/g.txt", "cp src/g.txt  out/g.txt"))
    outcome = built.build("--explain", "g")
    line = next(line for line in outcome.stderr.splitlines() if "`g` runs" in line)
    assert "command 1 changed only in whitespace, from `" in line
    assert "cp·src/g.txt·out/g.txt` to `" in line
    assert "cp·src/g.txt··out/g.txt`" in line


GLOB_SPEC = """\
let source = "a.txt"

track copy {
    reads "{{source}}"
    owns "copy.txt"
    run "cp {{source}} copy.txt"
}

track own-tree {
    reads "tree"
    owns "tree/made.txt"
    run "mkdir -p tree && echo made > tree/made.txt"
}
"""


@pytest.fixture
def globbed(project: Project) -> Project:
    project.spec(GLOB_SPEC)
    project.write("a.txt", "a\n")
    project.write("b.txt", "b\n")
    assert project.build().code == 0
    return project


def test_explain_names_override_of_a_glob(globbed: Project) -> None:
    predicted = globbed.build("-n", "--explain", "source=b.txt")
    line = next(line for line in predicted.stderr.splitlines() if "`copy` would run" in line)
    assert "`reads` changed from `a.txt` to `b.txt`" in line
    assert "input `a.txt` is no longer matched by its `reads`" in line
    assert "deleted" not in line


def test_explain_names_deleted_output_not_empty_reads(globbed: Project) -> None:
    (globbed.root / "tree" / "made.txt").unlink()
    predicted = globbed.build("-n", "--explain")
    line = next(line for line in predicted.stderr.splitlines() if "`own-tree` would run" in line)
    assert line.endswith("`own-tree` would run: output `tree/made.txt` is missing")


def test_explain_names_deleted_input_not_empty_reads(globbed: Project) -> None:
    (globbed.root / "a.txt").unlink()
    predicted = globbed.build("-n", "--explain")
    line = next(line for line in predicted.stderr.splitlines() if "`copy` would run" in line)
    assert line.endswith("`copy` would run: input `a.txt` was deleted")


def test_glob_change_same_files_up_to_date(globbed: Project) -> None:
    # The decision compares the files the globs match, not the globs' text.
    globbed.spec(GLOB_SPEC.replace('reads "{{source}}"', 'reads "a.tx?"'))
    outcome = globbed.build("--explain", "copy")
    assert outcome.code == 0
    line = next(line for line in outcome.stderr.splitlines() if "`copy`" in line)
    assert "up to date" in line, outcome.stderr


def test_output_never_created_reruns_with_warning(project: Project) -> None:
    # The command writes `out/gen.tx`, a typo for the `out/gen.txt` it owns.
    project.spec(
        """\
        track gen {
            reads "in.txt"
            owns "out/gen.txt", "out/*.log"
            run "mkdir -p out && cp in.txt out/gen.tx && echo {{step}} >> ran.log"
        }
        """
    )
    project.write("in.txt", "x\n")
    first = project.build()
    assert first.code == 0
    assert first.ran == ["gen"]
    assert (
        "parc: warning: `gen` succeeded but did not create `out/gen.txt`, which it owns"
        in first.stderr
    )
    # A glob with wildcards may match nothing: no warning for `out/*.log`.
    assert "out/*.log" not in first.stderr

    again = project.build("--explain")
    assert again.ran == ["gen"]
    assert "`gen` runs: its last success did not create `out/gen.txt`, which it owns" in (
        again.stderr
    )

    project.spec(
        """\
        track gen {
            reads "in.txt"
            owns "out/gen.txt", "out/*.log"
            run "mkdir -p out && cp in.txt out/gen.txt && echo {{step}} >> ran.log"
        }
        """
    )
    fixed = project.build()
    assert fixed.ran == ["gen"]
    assert "warning" not in fixed.stderr
    assert project.build().ran == []


def test_wildcard_output_matching_nothing_stays_up_to_date(project: Project) -> None:
    project.spec(
        """\
        track gen {
            reads "in.txt"
            owns "out/*.o"
            run "echo {{step}} >> ran.log"
        }
        """
    )
    project.write("in.txt", "x\n")
    first = project.build()
    assert first.ran == ["gen"]
    assert "warning" not in first.stderr
    assert project.build().ran == []


def test_explain_counts_output_files_not_directories(project: Project) -> None:
    project.spec(
        """\
        track version {
            reads "a.c", "b.c"
            owns "build/gen"
            run "mkdir -p build/gen && cat a.c b.c > build/gen/version.h"
        }
        """
    )
    project.write("a.c", "a\n")
    project.write("b.c", "b\n")
    assert project.build().code == 0
    again = project.build("--explain")
    assert "unchanged since its last success (2 inputs, 1 output)" in again.stderr


def test_explain_names_input_modified_with_same_content(project: Project) -> None:
    project.spec(
        """\
        track copy {
            reads "src"
            owns "out.txt"
            run "cat src/a.c src/b.c > out.txt"
        }
        """
    )
    project.write("src/a.c", "a\n")
    project.write("src/b.c", "b\n")
    for name in ("src/a.c", "src/b.c"):
        project.age(name, 60)
    assert project.build().code == 0

    project.age("src/a.c", 30)
    touched = project.build("--explain")
    assert touched.code == 0
    assert (
        "`copy` is up to date: unchanged since its last success (2 inputs, 1 output); "
        "content unchanged though `src/a.c` was modified"
    ) in touched.stderr

    # The digest is now cached under the new timestamp, so the next build names no file.
    quiet = project.build("--explain")
    assert "content unchanged" not in quiet.stderr

    project.age("src/a.c", 20)
    project.age("src/b.c", 20)
    both = project.build("--explain")
    assert "content unchanged though `src/a.c` and 1 other file were modified" in both.stderr
