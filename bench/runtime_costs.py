"""Measure what starting a command and looking for orphans cost parc.

`python -m bench.runtime_costs` prints, for each way parc can start a
command that works here, how long the event loop is blocked per command and
how much CPU the command uses, and the time of one orphan search by each
method. The commands are `true` in the temporary directory.
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from typing import Any

import trio

from parc.runtime import process

ROUNDS = 5
COMMANDS = 100
SEARCHES = 200


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _finish(started: process.GroupProcess | None, error: str | None) -> None:
    assert started is not None, error
    os.waitpid(started.pid, 0)
    os.close(started.output_fd)
    started.close()


def _time_method(method: process.SpawnMethod, directory: str) -> tuple[float, float]:
    """Return the median time `spawn` blocks, and the CPU per command, in seconds."""
    env = {"PATH": os.environ["PATH"]}
    blocked = []
    cpu_before = _children_cpu()
    for _ in range(COMMANDS):
        begin = time.perf_counter()
        started, error = process.spawn("true", directory, env, method=method)
        blocked.append(time.perf_counter() - begin)
        _finish(started, error)
    return statistics.median(blocked), (_children_cpu() - cpu_before) / COMMANDS


async def _time_thread(directory: str) -> tuple[float, float]:
    """Return the same for `spawn_async`, where only handing the command over blocks."""
    env = {"PATH": os.environ["PATH"]}
    from parc.runtime import _spawn

    blocked: list[float] = []
    submit = _spawn.submit

    def timed_submit(*arguments: Any) -> None:
        begin = time.perf_counter()
        submit(*arguments)
        blocked.append(time.perf_counter() - begin)

    # process.py looks `submit` up on the module at each call.
    setattr(_spawn, "submit", timed_submit)  # noqa: B010
    cpu_before = _children_cpu()
    try:
        for _ in range(COMMANDS):
            started, error = await process.spawn_async("true", directory, env)
            _finish(started, error)
    finally:
        setattr(_spawn, "submit", submit)  # noqa: B010
    return statistics.median(blocked), (_children_cpu() - cpu_before) / COMMANDS


def _time_searches(use_children_lists: bool) -> float:
    orphans = process.Orphans()
    orphans.use_children_lists = use_children_lists
    begin = time.perf_counter()
    for _ in range(SEARCHES):
        orphans.find(None, "step")
    return (time.perf_counter() - begin) / SEARCHES


def _milliseconds(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.3f}"


def main() -> None:
    measures: dict[str, list[tuple[float, float]]] = {}
    searches: dict[str, list[float]] = {"children lists": [], "scan of /proc": []}
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(ROUNDS):
            for method in process.spawn_methods():
                measures.setdefault(method.value, []).append(_time_method(method, directory))
            if process.SpawnMethod.NATIVE in process.spawn_methods():
                thread = trio.run(_time_thread, directory)
                measures.setdefault("native, on its thread", []).append(thread)
            searches["children lists"].append(_time_searches(True))
            searches["scan of /proc"].append(_time_searches(False))

    print(f"Starting `true` ({ROUNDS} rounds of {COMMANDS}; medians, in ms):")
    for name, values in measures.items():
        blocked = _milliseconds([value[0] for value in values])
        cpu = _milliseconds([value[1] for value in values])
        print(f"  {name:22} event loop blocked {blocked}, command CPU {cpu}")
    processes = sum(1 for entry in os.listdir("/proc") if entry.isdigit())
    print(f"Orphan search ({ROUNDS} rounds of {SEARCHES}, {processes} processes; ms):")
    for name, times in searches.items():
        print(f"  {name:22} {_milliseconds(times)}")
    print(f"1-minute load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
