"""`parc build` on a real pseudo-terminal: what the live display shows, and when it is off.

The steps wait for files the test creates, so each check happens while the
build is in a known state, however slow the machine is. The screen is read
through pyte, a terminal emulator, and for resizing through tmux.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ux_terminal import PARC, PtyTerminal, terminal_environment


def wait_for_file(name: str) -> str:
    """Return a shell loop that waits, up to 60 s, for the file `name` to exist."""
    return f"i=0; until [ -e {name} ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 9; sleep 0.05; done"


SPEC = f"""\
track alpha {{
    run "echo alpha-working; {wait_for_file("alpha.go")}; echo alpha-done"
}}
track beta {{
    run "echo beta-line-1; echo beta-progress; {wait_for_file("beta.go")}; echo beta-broke; exit 3"
}}
integrate gamma {{
    after alpha
    run "echo gamma-ran"
}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "build.par").write_text(SPEC)
    return tmp_path


def header(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("parc ") and " done · " in line]


def test_live_display_follows_the_build(project: Path) -> None:
    terminal = PtyTerminal(["build", "-j", "2"], project, terminal_environment(NO_COLOR="1"))
    try:
        # Both steps run and show their last line; gamma waits for alpha.
        lines = terminal.wait_for(
            lambda ls: (
                any("beta-progress" in line for line in ls)
                and any("alpha-working" in line for line in ls)
            )
        )
        assert header(lines) == [header(lines)[0]]
        assert re.fullmatch(r"parc 0/3 done · 2 running · 1 waiting · \d+\.\d\ds", lines[0])
        assert re.fullmatch(r"  . alpha +\d+\.\d\ds  alpha-working", lines[1])
        assert re.fullmatch(r"  . beta +\d+\.\d\ds  beta-progress", lines[2])
        assert terminal.cursor_hidden

        # alpha and then gamma finish: one line each scrolls above the region.
        (project / "alpha.go").touch()
        lines = terminal.wait_for(lambda ls: any("gamma succeeded" in line for line in ls))
        assert re.fullmatch(r"\[1/3\] alpha succeeded in \d+\.\d\ds", lines[0])
        assert re.fullmatch(r"\[2/3\] gamma succeeded in \d+\.\d\ds", lines[1])
        region = terminal.wait_for(lambda ls: " 2/3 done · 1 running · 0 waiting" in ls[-2])
        assert re.fullmatch(r"  . beta +\d+\.\d\ds  beta-progress", region[-1])

        # beta fails: its block shows at once, then the summary; the region is gone.
        (project / "beta.go").touch()
        code = terminal.wait()
    finally:
        for name in ("alpha.go", "beta.go"):
            (project / name).touch()
    lines = terminal.lines()
    assert code == 1
    assert header(lines) == []
    assert not terminal.cursor_hidden
    failure = next(i for i, line in enumerate(lines) if line.startswith("[3/3] beta failed"))
    assert lines[failure + 1 : failure + 4] == [
        "parc: last lines of the log of `beta`:",
        "    beta-line-1",
        "    beta-progress",
    ]
    assert lines[failure + 4] == "    beta-broke"
    assert lines[failure + 5] == "parc: log of `beta`: .parc/logs/beta.log"
    assert lines[failure + 6] == "parc: step   status     duration  attempts  reason"
    assert lines[-1].startswith("parc: 2 succeeded, 1 failed in ")
    assert "gamma-ran" not in "\n".join(lines)  # step output stays in the logs


def test_failure_shows_while_others_run(project: Path) -> None:
    (project / "build.par").write_text(
        'track slow {\n    run "' + wait_for_file("slow.go") + '"\n}\n'
        'track broken {\n    run "echo it broke; exit 2"\n}\n'
    )
    terminal = PtyTerminal(["build", "-k"], project, terminal_environment(NO_COLOR="1"))
    try:
        lines = terminal.wait_for(lambda ls: any("broken failed" in line for line in ls))
        assert "    it broke" in lines
        assert any(re.fullmatch(r"  . slow +\d+\.\d\ds", line) for line in lines)
        assert " 1 failed" in header(lines)[0]
    finally:
        (project / "slow.go").touch()
    assert terminal.wait() == 1


def test_colour_unless_no_color(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text('track one {\n    run "echo hi"\n}\n')
    coloured = PtyTerminal(["build"], tmp_path, terminal_environment())
    assert coloured.wait() == 0
    plain = PtyTerminal(["build", "-B"], tmp_path, terminal_environment(NO_COLOR="1"))
    assert plain.wait() == 0
    assert b"\x1b[?2026h" in coloured.raw
    assert b"\x1b[?2026h" in plain.raw  # still live, only without colour
    assert re.search(rb"\x1b\[[0-9;]*3[0-7]m", bytes(coloured.raw))
    assert not re.search(rb"\x1b\[[0-9;]*3[0-7]m", bytes(plain.raw))


@pytest.mark.parametrize("environment", [{"TERM": "dumb"}, {"CI": "true"}])
def test_dumb_terminal_and_ci_get_plain_lines(tmp_path: Path, environment: dict[str, str]) -> None:
    (tmp_path / "build.par").write_text('track one {\n    run "echo hi"\n}\n')
    terminal = PtyTerminal(["build"], tmp_path, terminal_environment(**environment))
    assert terminal.wait() == 0
    text = bytes(terminal.raw).decode().replace("\r\n", "\n")
    assert "\x1b[?2026h" not in text
    assert "\x1b[?25l" not in text
    if environment.get("TERM") == "dumb":
        assert "\x1b" not in text
    assert "parc: `one` started\none | hi\n" in text
    assert "\n[1/1] one " in text


def test_explicit_plain_progress_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text('track one {\n    run "echo hi"\n}\n')
    terminal = PtyTerminal(["build", "--progress", "plain"], tmp_path, terminal_environment())
    assert terminal.wait() == 0
    assert b"\x1b[?2026h" not in terminal.raw
    assert "one | hi" in terminal.lines()


@pytest.mark.parametrize("progress", ["plain", "live"])
def test_summary_on_a_narrow_terminal_is_a_list(tmp_path: Path, progress: str) -> None:
    (tmp_path / "build.par").write_text(
        'track compile-everything {\n    run "echo hi"\n}\ntrack lint {\n    run "exit 3"\n}\n'
    )
    arguments = ["build", "-k", "--progress", progress]
    terminal = PtyTerminal(arguments, tmp_path, terminal_environment(NO_COLOR="1"), columns=40)
    assert terminal.wait() == 1
    lines = terminal.lines()
    assert not [line for line in lines if line.startswith("parc: step ")], lines
    assert "parc: lint failed after " in "\n".join(lines)
    assert any(line.startswith("parc: compile-everything succeeded in ") for line in lines)


def test_stderr_scrolls_above_the_region(tmp_path: Path) -> None:
    (tmp_path / "build.par").write_text('track one {\n    run "echo hi"\n}\n')
    terminal = PtyTerminal(["build", "--explain"], tmp_path, terminal_environment(NO_COLOR="1"))
    assert terminal.wait() == 0
    lines = terminal.lines()
    assert lines[0].startswith("parc: explain: `one` runs: ")
    assert lines[1].startswith("[1/1] one succeeded in ")


# Resizing, in tmux: unlike pyte, tmux rewraps lines when the width changes.


TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (Debian: apt-get install -y tmux)"
)


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *arguments: str) -> str:
        assert TMUX is not None
        completed = subprocess.run(
            [TMUX, "-L", self.name, *arguments], capture_output=True, text=True, timeout=30
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    def lines(self, history: bool = False) -> list[str]:
        """Return the pane's lines, with its scrollback history first when `history` is true."""
        start = ["-S", "-"] if history else []
        captured = self.run("capture-pane", "-p", "-J", *start)
        shown = [line.rstrip() for line in captured.splitlines()]
        while shown and not shown[-1]:
            shown.pop()
        return shown

    def start_parc(self, root: Path, arguments: str, columns: int, lines: int) -> None:
        """Start a session whose command is `parc ARGUMENTS`, then `parc-exited-CODE`."""
        env = terminal_environment(NO_COLOR="1")
        # The tmux server passes on this process's environment: drop CI, which
        # would make parc print plain lines instead of the live region.
        settings = [f"{k}={v}" for k in ("TERM", "LANG") for v in [env[k]]]
        command = " ".join(["env", "-u", "CI", *settings, *PARC])
        size = ["-x", str(columns), "-y", str(lines)]
        self.run(
            *["-f", "/dev/null", "new-session", "-d", *size, "-c", str(root)],
            f"{command} {arguments}; echo parc-exited-$?; sleep 600",
        )
        self.run("set-option", "-g", "remain-on-exit", "on")

    def wait_for(self, condition: object, timeout: float = 60.0) -> list[str]:
        assert callable(condition)
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if condition(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError("tmux never showed it:\n" + "\n".join(lines))
            time.sleep(0.05)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(f"parc-test-{tmp_path.name}")
    yield session
    subprocess.run([TMUX or "tmux", "-L", session.name, "kill-server"], capture_output=True)


@needs_tmux
def test_region_survives_resize(tmp_path: Path, tmux: Tmux) -> None:
    long_line = "compiling " + "very-long-file-name-" * 4
    steps = [
        f'track {name} {{\n    run "echo {long_line}{name}; {wait_for_file(name + ".go")}"\n}}\n'
        for name in ("one", "two", "three")
    ]
    (tmp_path / "build.par").write_text("".join(steps))
    tmux.start_parc(tmp_path, "build -j 3", 100, 20)

    def region_settled(width: int) -> object:
        def check(lines: list[str]) -> bool:
            running = [line for line in lines if line.startswith("  ") and "s  compiling" in line]
            return len(running) == 3 and all(len(line) < width for line in lines)

        return check

    tmux.wait_for(region_settled(100))
    for width in (40, 100):
        tmux.run("resize-window", "-x", str(width), "-y", "20")
        lines = tmux.wait_for(region_settled(width))
        assert len(header(lines)) == 1, lines
        for name in ("one", "two", "three"):
            assert sum(1 for line in lines if re.match(rf"  . {name} ", line)) == 1, lines

    for name in ("one", "two", "three"):
        (tmp_path / f"{name}.go").touch()
    lines = tmux.wait_for(lambda ls: any("parc-exited-0" in line for line in ls))
    assert header(lines) == []
    finished = [line for line in lines if re.match(r"\[\d/3\] ", line)]
    assert sorted(line.split()[1] for line in finished) == ["one", "three", "two"]
    assert not [line for line in lines if "compiling very-long" in line]

    # Narrowing makes tmux rewrap the region into more rows, and it moves
    # the rows that no longer fit into its history: one stale copy per
    # narrowing is tmux's doing. Frames drawn after it must add none.
    everything = tmux.lines(history=True)
    assert len(header(everything)) <= 1, everything


@needs_tmux
def test_region_at_top_row_stays_out_of_history(tmp_path: Path, tmux: Tmux) -> None:
    (tmp_path / "build.par").write_text(
        f'track slow {{\n    run "echo slow-working; {wait_for_file("slow.go")}"\n}}\n'
    )
    # The session's own command starts on the pane's top row, so the region
    # does too: erasing from there clears the whole screen, which tmux
    # (`scroll-on-clear`) copies into its history.
    tmux.start_parc(tmp_path, "build", 80, 24)

    # Wait for several frames: the spinner shows a second or more.
    tmux.wait_for(lambda ls: any(re.search(r"slow +[1-9]\.\d\ds", line) for line in ls))
    (tmp_path / "slow.go").touch()
    tmux.wait_for(lambda ls: any("parc-exited-0" in line for line in ls))

    everything = tmux.lines(history=True)
    assert header(everything) == [], everything
    assert not [line for line in everything if "slow-working" in line], everything
