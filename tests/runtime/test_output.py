"""Output with real processes: the three modes, whole lines, flushing, memory, logs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from procs import (
    PARC,
    Project,
    PtyParc,
    kill_marked,
    parc_environment,
    run_parc,
    wait_for_file,
    write_spec,
)

# Two steps that write the same number of lines, each line in three
# separate writes, at the same time.
WRITER = (
    "for i in $(seq 1 400); do "
    "printf '{name}-%04d' $i; printf -- '-middle'; printf -- '-end\\\\n'; done"
)
TWO_WRITERS = "".join(
    f'track {name} {{ run "{WRITER.format(name=name)}" }}\n' for name in ("alpha", "beta")
)
WHOLE_LINE = re.compile(r"(alpha|beta)-\d{4}-middle-end")


def step_lines(output: str, prefix: str = "") -> list[str]:
    return [
        line.removeprefix(prefix)
        for line in output.splitlines()
        if not line.startswith(("parc:", "["))
    ]


def test_grouped_prints_each_step_as_one_block(tmp_path: Path) -> None:
    project = write_spec(tmp_path, TWO_WRITERS)
    completed = run_parc(project, "-j", "2", "--output", "grouped")
    assert completed.returncode == 0, completed.stderr

    lines = completed.stdout.splitlines()
    for name in ("alpha", "beta"):
        header = next(i for i, line in enumerate(lines) if re.match(rf"\[\d/2\] {name} ", line))
        block = lines[header + 1 : header + 401]
        assert block == [f"{name}-{i:04d}-middle-end" for i in range(1, 401)]


@pytest.mark.parametrize("mode", ["prefixed", "raw"])
def test_live_modes_never_mix_lines(tmp_path: Path, mode: str) -> None:
    project = write_spec(tmp_path, TWO_WRITERS)
    completed = run_parc(project, "-j", "2", "--output", mode)
    assert completed.returncode == 0, completed.stderr

    lines = step_lines(completed.stdout)
    assert len(lines) == 800
    for line in lines:
        if mode == "prefixed":
            name, _, text = line.partition(" | ")
            assert name.strip() in ("alpha", "beta"), line
            assert text.startswith(name.strip()), line
        else:
            text = line
        assert WHOLE_LINE.fullmatch(text), line
    for name in ("alpha", "beta"):
        own = [line for line in lines if f"{name}-" in line]
        assert own == sorted(own)  # each step's lines keep their order


def test_default_output_is_grouped_into_a_pipe(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track one { run "echo hello" }\n')
    completed = run_parc(project)
    lines = completed.stdout.splitlines()
    assert lines[0] == "parc: `one` started"
    assert lines[1].startswith("[1/1] one succeeded in ")
    assert lines[2] == "hello"
    assert "one | hello" not in completed.stdout


def test_plain_output_is_prefixed_on_a_terminal(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track one { run "echo hello" }\n')
    parc = PtyParc(project, ["--progress", "plain"])
    assert parc.wait() == 0
    assert "parc: `one` started" in parc.text
    assert "one | hello" in parc.text


def test_everything_flushed_into_a_pipe(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track many { run "seq 1 100000" }\ntrack tail { run "printf no-newline" }\n',
    )
    with subprocess.Popen(
        [*PARC, "build"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        env=parc_environment(),
    ) as parc:
        assert parc.stdout is not None
        output = parc.stdout.read().decode()
    assert parc.returncode == 0
    numbers = [line for line in output.splitlines() if line.isdigit()]
    assert numbers == [str(i) for i in range(1, 100001)]
    assert "no-newline\n" in output
    assert output.endswith("s\n")
    assert "parc: 2 succeeded in " in output.splitlines()[-1]


def test_log_keeps_every_byte(tmp_path: Path) -> None:
    data = bytes(range(256)) * 64 + b"\xff\xfe no newline at the end"
    (tmp_path / "payload.bin").write_bytes(data)
    project = write_spec(tmp_path, 'track bytes { run "cat payload.bin; cat payload.bin >&2" }\n')
    completed = subprocess.run(
        [*PARC, "build", "--output", "raw"],
        cwd=project.root,
        capture_output=True,
        env=parc_environment(),
        timeout=60,
    )
    assert completed.returncode == 0
    log = (project.root / ".parc" / "logs" / "bytes.log").read_bytes()
    assert log == data + data


def test_heartbeat_lists_quiet_steps(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track quiet { run "sleep 2" }\n')
    completed = run_parc(project, "--heartbeat", "0.3")
    assert completed.returncode == 0
    assert re.search(r"^parc: still running: quiet \(\d+\.\d\ds\)$", completed.stdout, re.M)


def test_heartbeat_can_be_turned_off(tmp_path: Path) -> None:
    project = write_spec(tmp_path, 'track quiet { run "sleep 1" }\n')
    completed = run_parc(project, "--heartbeat", "0")
    assert completed.returncode == 0
    assert "still running" not in completed.stdout


def test_interrupt_shows_output_so_far(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        'track slow { run "trap \\"\\" INT TERM; echo progress-1; touch slow.ready; '
        'while :; do sleep 0.1; done" }\n',
    )
    parc = PtyParc(project, ["--output", "grouped", "--grace", "600"])
    try:
        wait_for_file(project.root / "slow.ready")
        parc.press_ctrl_c()
        # Shown while the step still runs, long before SIGKILL.
        parc.wait_for_text("parc: output of `slow` so far:\nprogress-1\n")
        assert parc.returncode is None
        parc.press_ctrl_c()
        assert parc.wait() == 130
    finally:
        kill_marked(project.mark)
    header = parc.text.index("slow cancelled")
    assert parc.text.index("progress-1") < header
    assert parc.text.count("progress-1") == 1


def test_timeout_shows_output_so_far_and_elapsed_time(tmp_path: Path) -> None:
    project = write_spec(
        tmp_path,
        "track stuck {\n"
        "    timeout 300ms\n"
        '    run "trap \\"\\" TERM; echo before-timeout; while :; do sleep 0.1; done"\n'
        "}\n",
    )
    completed = run_parc(project, "--grace", "1", "--output", "grouped")
    assert completed.returncode == 1
    out = completed.stdout
    notice = re.search(r"parc: `stuck` timed out after (\d+\.\d+)s \(attempt 1 of 1\)", out)
    assert notice is not None, out
    assert float(notice.group(1)) >= 0.3
    so_far = out.index("parc: output of `stuck` so far:\nbefore-timeout\n")
    header = re.search(
        r"\[1/1\] stuck timed out after (\d+\.\d+)s: exceeded its 0\.30s timeout", out
    )
    assert header is not None, out
    # The commands ignored SIGTERM, so they ended at SIGKILL, a grace period later.
    assert float(header.group(1)) >= 1.3
    assert notice.start() < so_far < header.start()
    assert out.count("before-timeout") == 1


@pytest.mark.slow
def test_gigabyte_of_output_keeps_memory_bounded(tmp_path: Path) -> None:
    size = 1 << 30
    line = "x" * 1023
    project = write_spec(
        tmp_path,
        f'track flood {{ run "yes {line} | head -c {size}" }}\ntrack small {{ run "echo hi" }}\n',
    )
    baseline = _peak_rss(project, ["small"], tmp_path / "small.out")
    peak = _peak_rss(project, ["--output", "prefixed"], tmp_path / "flood.out")

    log = project.root / ".parc" / "logs" / "flood.log"
    assert log.stat().st_size == size
    with log.open("rb") as file:
        file.seek(size - 2048)
        assert file.read().split(b"\n")[1] == line.encode()
    shown = (tmp_path / "flood.out").stat().st_size
    assert shown > size  # every line, with its `flood | ` prefix
    print(f"peak RSS {peak >> 20} MiB, baseline {baseline >> 20} MiB")
    assert peak - baseline < 100 << 20, (peak, baseline)
    log.unlink()
    (tmp_path / "flood.out").unlink()


def _peak_rss(project: Project, arguments: list[str], output: Path) -> int:
    """Run parc under a small Python wrapper that reports its children's peak RSS in bytes."""
    wrapper = (
        "import resource, subprocess, sys; "
        "code = subprocess.call(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "sys.exit(code)"
    )
    with output.open("wb") as sink:
        completed = subprocess.run(
            [sys.executable, "-c", wrapper, *PARC, "build", *arguments],
            cwd=project.root,
            stdout=sink,
            stderr=subprocess.PIPE,
            env=parc_environment(),
            timeout=600,
        )
    assert completed.returncode == 0, completed.stderr
    with output.open("rb") as file:
        file.seek(-64, 2)
        last = file.read().splitlines()[-1]
    return int(last) * 1024


# A progress bar redrawn with carriage returns and with ESC[2K ESC[1G, a line
# that a shorter one overwrites, and a last line without a newline.
PROGRESS_BAR = (
    "printf 'step 1 of 3\\\\rstep 2 of 3\\\\rstep 3 of 3\\\\r\\\\n'; "
    "printf '\\\\033[2K\\\\033[1Gfetch 50%%\\\\033[2K\\\\033[1Gfetch 100%%\\\\n'; "
    "printf 'a long first state\\\\rshort\\\\n'; "
    "printf 'packing\\\\rpacked'"
)


def build_bytes(project: Project, *arguments: str) -> bytes:
    """Run `parc build` and return its stdout as bytes, carriage returns untranslated."""
    completed = subprocess.run(
        [*PARC, "build", *arguments],
        cwd=project.root,
        capture_output=True,
        timeout=120,
        env=parc_environment(),
        start_new_session=True,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_prefixed_shows_last_state_of_redrawn_lines(tmp_path: Path) -> None:
    project = write_spec(tmp_path, f'track bar {{ run "{PROGRESS_BAR}" }}\n')
    stdout = build_bytes(project, "--output", "prefixed")
    lines = [line for line in stdout.split(b"\n") if line.startswith(b"bar | ")]
    assert lines == [
        b"bar | step 3 of 3",
        b"bar | fetch 100%",
        b"bar | short",
        b"bar | packed",
    ]


def test_raw_keeps_redrawn_lines_as_written(tmp_path: Path) -> None:
    project = write_spec(tmp_path, f'track bar {{ run "{PROGRESS_BAR}" }}\n')
    stdout = build_bytes(project, "--output", "raw")
    assert b"\nstep 1 of 3\rstep 2 of 3\rstep 3 of 3\r\n" in stdout
    assert b"\npacking\rpacked\n" in stdout
