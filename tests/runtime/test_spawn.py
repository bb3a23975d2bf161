"""Starting commands: every spawn method gives the command the same world.

parc starts a command with the `_spawn` extension when it was built, else
through setpriv, else through subprocess with preexec_fn. Each method that
works on this machine runs the same probes here, and the probes' output must
not depend on the method: the subprocess method is the reference.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import trio

from parc.runtime import process
from parc.runtime.process import (
    GroupProcess,
    Orphans,
    SpawnMethod,
    child_pids,
    iter_processes,
    set_child_subreaper,
    spawn,
    spawn_async,
    spawn_methods,
)

METHODS = spawn_methods()

# Prints what a started command sees of its process: its session and group
# (both the shell's pid), the parent-death signal, the signals it blocks, its
# open descriptors, its directory, one variable, and its stdin.
PROBE = (
    f"exec {sys.executable} -c '"
    "import ctypes, os; "
    "value = ctypes.c_int(); ctypes.CDLL(None).prctl(2, ctypes.byref(value)); "
    'print("session", os.getsid(0) == os.getpid(), "group", os.getpgid(0) == os.getpid()); '
    'print("pdeathsig", value.value); '
    'print([line for line in open("/proc/self/status") if line.startswith("SigBlk")]); '
    'print("fds", sorted(os.listdir("/proc/self/fd"))); '
    'print("cwd", os.getcwd()); '
    'print("variable", os.environ.get("PARC_PROBE")); '
    'print("stdin", repr(os.read(0, 10)))\''
)

# The shell execs grep, which keeps the signals that the shell ignores.
IGNORED = "exec grep -E '^SigIgn' /proc/self/status"


def run_to_end(process: GroupProcess) -> tuple[bytes, int]:
    """Read the command's output to EOF, then reap it; no event loop needed."""
    os.set_blocking(process.output_fd, True)
    chunks = []
    while chunk := os.read(process.output_fd, 65536):
        chunks.append(chunk)
    os.close(process.output_fd)
    return b"".join(chunks), process.reap()


def start(command: str, cwd: Path, method: SpawnMethod, **env: str) -> GroupProcess:
    process, error = spawn(command, str(cwd), {"PATH": os.environ["PATH"], **env}, method=method)
    assert process is not None, error
    return process


@pytest.mark.parametrize("method", METHODS, ids=[method.value for method in METHODS])
def test_probe_sees_the_same_world_with_every_method(tmp_path: Path, method: SpawnMethod) -> None:
    reference, code = run_to_end(start(PROBE, tmp_path, SpawnMethod.SUBPROCESS, PARC_PROBE="x y"))
    assert code == 0, reference

    output, code = run_to_end(start(PROBE, tmp_path, method, PARC_PROBE="x y"))

    assert code == 0, output
    assert output == reference
    text = output.decode()
    assert "session True group True" in text
    assert f"pdeathsig {int(signal.SIGKILL)}" in text
    assert f"cwd {tmp_path}" in text
    assert "variable x y" in text
    assert "stdin b''" in text
    assert "SigBlk:\\t0000000000000000" in text
    # 0, 1 and 2, and the one the listing itself opens.
    assert "fds ['0', '1', '2', '3']" in text


@pytest.mark.parametrize("method", METHODS, ids=[method.value for method in METHODS])
def test_commands_do_not_ignore_sigpipe(tmp_path: Path, method: SpawnMethod) -> None:
    output, code = run_to_end(start(IGNORED, tmp_path, method))

    assert code == 0, output
    mask = int(output.split()[1], 16)
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN
    assert not mask & (1 << (signal.SIGPIPE - 1))


@pytest.mark.parametrize("method", METHODS, ids=[method.value for method in METHODS])
def test_exit_codes_pass_through(tmp_path: Path, method: SpawnMethod) -> None:
    cases = {
        "exit 3": 3,
        "no-such-command-for-parc": 127,
        f"{tmp_path}": 126,
        "kill -TERM $$": -signal.SIGTERM,
        "echo out; echo err >&2": 0,
        "echo into-stdin >&0": 0,
    }
    for command, expected in cases.items():
        output, code = run_to_end(start(command, tmp_path, method))
        assert code == expected, (command, output)
    output, _ = run_to_end(start("echo out; echo err >&2", tmp_path, method))
    assert output == b"out\nerr\n"


@pytest.mark.parametrize("method", METHODS, ids=[method.value for method in METHODS])
def test_missing_directory_is_reported(tmp_path: Path, method: SpawnMethod) -> None:
    missing = tmp_path / "missing"
    before = set(os.listdir("/proc/self/fd"))

    process, error = spawn("true", str(missing), dict(os.environ), method=method)

    assert process is None
    assert error == f"directory `{missing}` does not exist"
    assert set(os.listdir("/proc/self/fd")) == before


def test_children_lists_name_every_child() -> None:
    children = [subprocess.Popen(["sleep", "30"], stdin=subprocess.DEVNULL) for _ in range(3)]
    try:
        listed = child_pids()
        if listed is None:
            pytest.skip("this kernel does not list a thread's children")
        me = os.getpid()
        scanned = {info.pid for info in iter_processes() if info.parent == me}
        assert {child.pid for child in children} <= listed
        assert listed == scanned
    finally:
        for child in children:
            child.kill()
            child.wait()


async def _adopted_orphan(marker: Path) -> int:
    """Wait until the orphan writes its pid to `marker` and this process adopts it."""
    while not marker.exists() or not marker.read_text().strip():
        await trio.sleep(0.01)
    orphan = int(marker.read_text())
    # Its parent has exited once it belongs to this process.
    while orphan not in {info.pid for info in iter_processes() if info.parent == os.getpid()}:
        await trio.sleep(0.01)
    return orphan


@pytest.mark.trio
@pytest.mark.parametrize("lists", [True, False], ids=["children-lists", "proc-scan"])
async def test_orphans_that_left_the_session_are_ended(tmp_path: Path, lists: bool) -> None:
    # The shell's child starts a session of its own and exits at once, so
    # its `sleep` is handed to this process, the subreaper.
    marker = tmp_path / "orphan.pid"
    command = f"sh -c 'setsid sh -c \"echo \\$\\$ > {marker}; exec sleep 1009\" > /dev/null 2>&1 &'"
    was_subreaper = set_child_subreaper(True)
    try:
        process = start(command, tmp_path, METHODS[0], PARC_STEP="leaver")
        orphans = Orphans()
        orphans.use_children_lists = lists
        orphans.shells.add(process.pid)
        orphans.sessions[process.pid] = "leaver"
        _, code = run_to_end(process)
        orphans.shells.discard(process.pid)
        assert code == 0
        orphan = await _adopted_orphan(marker)

        ended = await orphans.end(1.0, name="leaver")
    finally:
        set_child_subreaper(was_subreaper)

    assert ended == 1
    assert not Path(f"/proc/{orphan}").exists()


@pytest.mark.trio
async def test_orphan_of_started_command_is_found(tmp_path: Path) -> None:
    # The command starts on the extension's thread, and the search after a
    # command reads only the main thread's children list: Linux must have
    # handed the orphan to the main thread.
    if not process._works(SpawnMethod.NATIVE) or child_pids() is None:
        pytest.skip("needs the extension and the children lists of threads")
    marker = tmp_path / "orphan.pid"
    command = f"setsid sh -c 'echo $$ > {marker}; exec sleep 1010' > /dev/null 2>&1 &"
    env = {"PATH": os.environ["PATH"], "PARC_STEP": "leaver"}
    was_subreaper = set_child_subreaper(True)
    orphans = Orphans()
    try:
        started, problem = await spawn_async(command, str(tmp_path), env)
        assert started is not None, problem
        _, code = run_to_end(started)
        assert code == 0
        orphan = await _adopted_orphan(marker)

        found = [info.pid for info in orphans.find(None, "leaver")]
        others = [info.pid for info in orphans.find(None, "another-step")]
        ended = await orphans.end(1.0, name="leaver")
    finally:
        orphans.close()
        set_child_subreaper(was_subreaper)

    assert found == [orphan]
    assert others == []
    assert ended == 1
    assert not Path(f"/proc/{orphan}").exists()


@pytest.mark.trio
async def test_start_off_the_event_loop_sees_the_same_world(tmp_path: Path) -> None:
    reference, _ = run_to_end(start(PROBE, tmp_path, SpawnMethod.SUBPROCESS, PARC_PROBE="x"))
    env = {"PATH": os.environ["PATH"], "PARC_PROBE": "x"}

    started = [await spawn_async(PROBE, str(tmp_path), env) for _ in range(3)]
    missing, error = await spawn_async("true", str(tmp_path / "missing"), env)
    ignoring, _ = await spawn_async(IGNORED, str(tmp_path), env)

    for command, problem in started:
        assert command is not None, problem
        output, code = run_to_end(command)
        assert code == 0
        assert output == reference
    assert missing is None
    assert error == f"directory `{tmp_path / 'missing'}` does not exist"
    assert ignoring is not None
    ignored, _ = run_to_end(ignoring)
    assert not int(ignored.split()[1], 16) & (1 << (signal.SIGPIPE - 1))


@pytest.mark.trio
async def test_start_falls_back_without_the_extension(tmp_path: Path) -> None:
    # As on a machine where the extension could not be built.
    reference, _ = run_to_end(start(PROBE, tmp_path, SpawnMethod.SUBPROCESS, PARC_PROBE="x"))
    env = {"PATH": os.environ["PATH"], "PARC_PROBE": "x"}
    process._broken.add(SpawnMethod.NATIVE)
    try:
        started, problem = await spawn_async(PROBE, str(tmp_path), env)
    finally:
        process._broken.discard(SpawnMethod.NATIVE)

    assert started is not None, problem
    assert started.popen is not None
    output, code = run_to_end(started)
    assert code == 0
    assert output == reference


def test_waiting_commands_start_by_rank(tmp_path: Path) -> None:
    if not process._works(SpawnMethod.NATIVE):
        pytest.skip("needs the extension")
    from parc.runtime import _spawn as native

    results = native.start_thread()
    # With the result pipe shrunk to one page and no reader on it, the
    # thread blocks on the record after the filler commands, so the next
    # commands all wait in its queue.
    size = fcntl.fcntl(results, fcntl.F_GETPIPE_SZ)
    fcntl.fcntl(results, fcntl.F_SETPIPE_SZ, 4096)
    capacity = fcntl.fcntl(results, fcntl.F_GETPIPE_SZ) // native.RESULT_SIZE
    null = os.open(os.devnull, os.O_RDWR)
    environment = process.encode_environment({"PATH": os.environ["PATH"]})
    argv = [b"/bin/sh", b"-c", b"true"]
    directory = os.fsencode(tmp_path)

    def submit(ticket: int, rank: int) -> None:
        native.submit(ticket, rank, argv[0], argv, environment, directory, null, null, True)

    records: list[tuple[int, int, int]] = []
    try:
        fillers = capacity + 1
        for ticket in range(fillers):
            submit(ticket, 0)
        while _pipe_bytes(results) < capacity * native.RESULT_SIZE:
            time.sleep(0.005)
        for ticket, rank in ((fillers, 3), (fillers + 1, 1), (fillers + 2, 2), (fillers + 3, 0)):
            submit(ticket, rank)
        while len(records) < fillers + 4:
            select.select([results], [], [])
            data = os.read(results, native.RESULT_SIZE * 64)
            records.extend(
                (ticket, pid, stage)
                for ticket, pid, stage, _, _ in struct.iter_unpack("qiiii", data)
            )
    finally:
        for _, pid, stage in records:
            if stage == native.STAGE_NONE:
                os.waitpid(pid, 0)
        fcntl.fcntl(results, fcntl.F_SETPIPE_SZ, size)
        os.close(null)

    assert all(stage == native.STAGE_NONE for _, _, stage in records)
    started = [ticket for ticket, _, _ in records[fillers:]]
    assert started == [fillers + 3, fillers + 1, fillers + 2, fillers]


def _pipe_bytes(fd: int) -> int:
    """Return how many bytes wait in a pipe."""
    data = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return int(struct.unpack("i", data)[0])
