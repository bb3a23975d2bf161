"""The environment and working directory of commands, with real processes."""

from __future__ import annotations

from pathlib import Path

from procs import run_parc, write_spec


def test_env_cwd_and_parc_step(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        """\
env SHARED = "top"
env OVERRIDDEN = "top"

track show {
    env OVERRIDDEN = "step"
    env OWN = "{{step}}-own"
    cwd "sub/dir"
    run "echo shared=$SHARED overridden=$OVERRIDDEN own=$OWN step=$PARC_STEP"
    run "echo inherited=$FROM_PARENT pwd=$(pwd)"
}

track plain {
    run "echo overridden=$OVERRIDDEN own=${OWN-unset} step=$PARC_STEP pwd=$(pwd)"
}
""",
    )
    (project.root / "sub" / "dir").mkdir(parents=True)
    completed = run_parc(project, FROM_PARENT="outside")
    assert completed.returncode == 0, completed.stdout + completed.stderr

    root = project.root.resolve()
    assert project.log("show") == (
        "shared=top overridden=step own=show-own step=show\n"
        f"inherited=outside pwd={root / 'sub' / 'dir'}\n"
    )
    assert project.log("plain") == f"overridden=top own=unset step=plain pwd={root}\n"


def test_parc_step_of_outer_build_is_replaced(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track inner { run "echo step=$PARC_STEP" }\n')
    completed = run_parc(project, PARC_STEP="outer")
    assert completed.returncode == 0
    assert project.log("inner") == "step=inner\n"


def test_stdin_is_empty(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track reader { run "cat; echo end" }\n')
    completed = run_parc(project, timeout=30)
    assert completed.returncode == 0
    assert project.log("reader") == "end\n"
