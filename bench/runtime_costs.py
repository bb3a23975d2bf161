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


async def _time_async(directory: str) -> tuple[float, float]:
    """Return the same for `spawn_async`, which starts the command on the event loop's thread."""
    env = {"PATH": os.environ["PATH"]}
    blocked: list[float] = []
    cpu_before = _children_cpu()
    for _ in range(COMMANDS):
        begin = time.perf_counter()
        started, error = await process.spawn_async("true", directory, env)
        blocked.append(time.perf_counter() - begin)
        _finish(started, error)
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
                in_trio = trio.run(_time_async, directory)
                measures.setdefault("native, in trio", []).append(in_trio)
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
