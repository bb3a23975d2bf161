"""Generated builds for the property tests, and a brute-force reference model.

A `Case` is a random DAG of steps with pools, scripted commands (integer
durations, failures, commands that cannot start), retries and timeouts, job
slots, keep-going, recorded durations and a set of requested targets.

`simulate` runs a case through a deliberately naive discrete-event model of
the documented rules, written without the scheduler's code: at each instant,
handle every step that ends then, and only then start ready steps, best first
(longest remaining path, ties in spec order) while a slot and the step's pool
have room.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping

import attrs
from fake_runner import Command, Outcome, Script
from hypothesis import strategies as st

from parc.plan import Plan, PlanStep
from parc.runtime.scheduler import DEFAULT_DURATION, Status


@attrs.frozen
class Case:
    plan: Plan
    scripts: Mapping[str, Script]
    jobs: int | None
    keep_going: bool
    durations: Mapping[str, float]
    requested: frozenset[str]

    def step(self, name: str) -> PlanStep:
        return self.plan.by_name[name]


@st.composite
def cases(
    draw: st.DrawFn,
    max_steps: int = 10,
    failures: bool = True,
    pools: bool = True,
    timeouts: bool = True,
    gate: bool = True,
    targets: bool = True,
) -> Case:
    count = draw(st.integers(1, max_steps))
    pool_sizes = draw(st.lists(st.integers(1, 3), max_size=2)) if pools else []
    pool_names = [f"p{i}" for i in range(len(pool_sizes))]
    outcomes = [Outcome.OK] * 6 + ([Outcome.FAIL, Outcome.NO_START] if failures else [])

    steps: list[PlanStep] = []
    scripts: dict[str, Script] = {}
    for index in range(count):
        name = f"s{index}"
        after = draw(st.sets(st.integers(0, index - 1), max_size=3)) if index else set()
        retries = draw(st.integers(0, 2)) if failures else 0
        commands = draw(st.integers(1, 2))
        attempts = tuple(
            tuple(
                Command(draw(st.integers(0, 4)), draw(st.sampled_from(outcomes)))
                for _ in range(commands)
            )
            for _ in range(retries + 1)
        )
        timeout = draw(st.none() | st.integers(1, 6)) if timeouts else None
        pool = draw(st.none() | st.sampled_from(pool_names)) if pool_names else None
        steps.append(
            PlanStep(
                name=name,
                kind="track",
                index=index,
                commands=tuple(f"cmd{i}" for i in range(commands)),
                after=tuple(f"s{i}" for i in sorted(after)),
                timeout=None if timeout is None else float(timeout),
                retries=retries,
                pool=pool,
            )
        )
        scripts[name] = Script(
            attempts,
            ignores_signals=draw(st.booleans()),
            up_to_date=gate and draw(st.integers(0, 5)) == 0,
        )

    plan = Plan(
        "generated.par",
        "/nonexistent",
        tuple(steps),
        dict(zip(pool_names, pool_sizes, strict=True)),
    )
    jobs = draw(st.none() | st.integers(1, 4))
    recorded = draw(
        st.dictionaries(
            st.sampled_from([s.name for s in steps]), st.integers(0, 10), max_size=count
        )
    )
    requested = frozenset(plan.by_name)
    if targets and draw(st.booleans()):
        wanted = draw(st.sets(st.sampled_from(sorted(plan.by_name)), min_size=1, max_size=3))
        requested = frozenset(step.name for step in plan.closure(wanted).steps)
    return Case(
        plan,
        scripts,
        jobs,
        draw(st.booleans()),
        {name: float(value) for name, value in recorded.items()},
        requested,
    )


# The reference model.


@attrs.frozen
class Ending:
    """When a started step ends, with which status, after how many attempts."""

    end: int
    status: Status
    attempts: int


def step_outcome(case: Case, name: str, start: int, dependencies_ran: bool) -> Ending:
    """Play the script of one step from `start`, with its retries and timeout."""
    step = case.step(name)
    script = case.scripts[name]
    if script.up_to_date and not dependencies_ran:
        return Ending(start, Status.UP_TO_DATE, 0)
    time = start
    status = Status.SUCCEEDED
    attempts = 0
    for attempt in script.attempts:
        attempts += 1
        begin = time
        spent = 0
        status = Status.SUCCEEDED
        for command in attempt:
            if command.outcome is Outcome.NO_START:
                status = Status.NOT_STARTED
                break
            spent += command.duration
            if command.outcome is Outcome.FAIL:
                status = Status.FAILED
                break
        if step.timeout is not None and spent >= step.timeout:
            time = begin + int(step.timeout)
            status = Status.TIMED_OUT
        else:
            time = begin + spent
        if status not in (Status.FAILED, Status.TIMED_OUT):
            break
    return Ending(time, status, attempts)


def remaining_paths(case: Case) -> dict[str, float]:
    """The maximum remaining path of each step, by brute force over all chains."""
    plan = case.plan
    known = {n: d for n, d in case.durations.items() if n in plan.by_name}
    default = statistics.median(known.values()) if known else DEFAULT_DURATION
    dependents = plan.dependents()

    def longest(name: str) -> float:
        tails = [longest(d) for d in dependents[name]]
        return known.get(name, default) + max(tails, default=0.0)

    return {name: longest(name) for name in plan.by_name}


@attrs.define
class Simulated:
    start: dict[str, int] = attrs.Factory(dict)
    end: dict[str, int] = attrs.Factory(dict)
    status: dict[str, Status] = attrs.Factory(dict)
    attempts: dict[str, int] = attrs.Factory(dict)
    failures_blocking: dict[str, set[str]] = attrs.Factory(dict)
    """The failures, all at the same instant, that may be named as blocking a step."""
    blocked_at: dict[str, int] = attrs.Factory(dict)


def simulate(case: Case) -> Simulated:
    plan = case.plan
    steps = plan.by_name
    dependents = plan.dependents()
    priority = remaining_paths(case)
    result = Simulated()
    for name in steps:
        if name not in case.requested:
            result.status[name] = Status.NOT_REQUESTED

    ran: set[str] = set()
    running: dict[str, Ending] = {}
    stopped = False
    time = 0

    def is_ready(name: str) -> bool:
        return (
            name not in result.status
            and name not in running
            and all(
                result.status.get(d) in (Status.SUCCEEDED, Status.UP_TO_DATE)
                for d in steps[name].after
            )
        )

    def pool_room(name: str) -> bool:
        pool = steps[name].pool
        if pool is None:
            return True
        busy = sum(1 for other in running if steps[other].pool == pool)
        return busy < plan.pools[pool]

    while True:
        while not stopped and (case.jobs is None or len(running) < case.jobs):
            candidates = [n for n in steps if is_ready(n) and pool_room(n)]
            if not candidates:
                break
            best = min(candidates, key=lambda n: (-priority[n], steps[n].index))
            dependencies_ran = any(d in ran for d in steps[best].after)
            outcome = step_outcome(case, best, time, dependencies_ran)
            if outcome.status is not Status.UP_TO_DATE:
                ran.add(best)
            running[best] = outcome
            result.start[best] = time
        if not running:
            break
        time = min(outcome.end for outcome in running.values())
        for name in [n for n, o in running.items() if o.end == time]:
            outcome = running.pop(name)
            result.end[name] = time
            result.status[name] = outcome.status
            result.attempts[name] = outcome.attempts
            if outcome.status.is_failure:
                if not case.keep_going:
                    stopped = True
                stack = list(dependents[name])
                while stack:
                    blocked = stack.pop()
                    if blocked in result.status and result.blocked_at.get(blocked) != time:
                        continue  # ended, not requested, or blocked by an earlier failure
                    result.status[blocked] = Status.BLOCKED
                    result.blocked_at[blocked] = time
                    result.failures_blocking.setdefault(blocked, set()).add(name)
                    stack.extend(dependents[blocked])
    for name in steps:
        result.status.setdefault(name, Status.CANCELLED)
    return result


def critical_path(case: Case) -> int:
    """The heaviest chain of scripted durations, for builds without failures."""
    dependents = case.plan.dependents()

    def own(name: str) -> int:
        return sum(command.duration for command in case.scripts[name].attempts[0])

    def longest(name: str) -> int:
        return own(name) + max((longest(d) for d in dependents[name]), default=0)

    return max((longest(name) for name in case.plan.by_name), default=0)
