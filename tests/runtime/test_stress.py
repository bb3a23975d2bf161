"""500 real steps on a random DAG at -j 8 while one step floods its output.

Each step writes the time it began and ended (`date +%s%N`) into a file of
its own. The test checks the order of the build from those files: no step
began before every dependency had ended, and never more than 8 steps were
inside their commands at once.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from procs import run_parc, write_spec

STEPS = 500
JOBS = 8
FLOOD_LINE = "flood-line-" + "x" * 28  # 40 bytes with its newline
FLOOD_BYTES = 40 * 1_000_000


def random_dag(seed: int) -> dict[str, list[str]]:
    chooser = random.Random(seed)
    dag: dict[str, list[str]] = {}
    for index in range(STEPS):
        earlier = list(dag)
        count = chooser.choice([0, 0, 1, 1, 2, 3])
        dag[f"s{index:03d}"] = sorted(chooser.sample(earlier, min(count, len(earlier))))
    return dag


def spec_text(dag: dict[str, list[str]], seed: int) -> str:
    chooser = random.Random(seed + 1)
    lines = [
        f'track flood {{ run "yes {FLOOD_LINE} | head -c {FLOOD_BYTES}" }}',
    ]
    for name, after in dag.items():
        pause = chooser.choice(["", "", "sleep 0.02; "])
        record = f"b=$(date +%s%N); {pause}echo $b $(date +%s%N) > times/{name}"
        header = f"track {name} after {', '.join(after)}" if after else f"track {name}"
        lines.append(f'{header} {{ run "{record}" }}')
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20261204])
def test_random_dag_of_500_steps(tmp_path: Path, seed: int) -> None:
    dag = random_dag(seed)
    project = write_spec(tmp_path, spec_text(dag, seed))
    (project.root / "times").mkdir()

    completed = run_parc(project, "-j", str(JOBS), "--output", "prefixed", timeout=300)

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr
    assert completed.stdout.splitlines()[-1].startswith(f"parc: {STEPS + 1} succeeded in ")
    times: dict[str, tuple[int, int]] = {}
    for name in dag:
        began, ended = (project.root / "times" / name).read_text().split()
        times[name] = (int(began), int(ended))

    for name, after in dag.items():
        for dependency in after:
            assert times[name][0] >= times[dependency][1], (name, dependency)

    # The flood step takes a slot too while it runs, which makes this bound
    # loose then. It is exact once the flood has ended.
    events = sorted(
        [(began, 1) for began, _ in times.values()] + [(ended, -1) for _, ended in times.values()]
    )
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak <= JOBS

    flood_log = project.root / ".parc" / "logs" / "flood.log"
    assert flood_log.stat().st_size == FLOOD_BYTES
    flood_lines = 0
    for line in completed.stdout.splitlines():
        if line.startswith("flood"):
            assert line == f"flood | {FLOOD_LINE}", line
            flood_lines += 1
        else:
            assert line.startswith(("parc: ", "[")), line
    assert flood_lines == FLOOD_BYTES // 40
