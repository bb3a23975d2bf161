"""Properties of the scheduler and executor over generated builds, in virtual time.

Every build runs fake commands under `MockClock(autojump_threshold=0)`, so
time is exact: commands take integer ticks, and a property can compare
instants with `==`.
"""

from __future__ import annotations

import math
import signal

import attrs
import trio
import trio.testing
from dag_cases import Case, cases, critical_path, simulate, step_outcome
from fake_runner import Call, Event, FakeGate, FakeRunner, RecordingReporter
from hypothesis import given
from hypothesis import strategies as st

from parc.runtime.executor import BuildResult, Options, execute
from parc.runtime.scheduler import Status

GRACE = 3


@attrs.define
class Run:
    case: Case
    runner: FakeRunner
    reporter: RecordingReporter
    gate: FakeGate
    result: BuildResult | None


def run_case(
    case: Case,
    signals: tuple[tuple[int, int], ...] = (),
    cancel_at: float = math.inf,
    heartbeat: float | None = None,
) -> Run:
    """Run `case` on fake commands; send `(time, signum)` interrupts; cancel at `cancel_at`."""
    runner = FakeRunner(case.scripts)
    reporter = RecordingReporter()
    gate = FakeGate(case.scripts)
    options = Options(
        jobs=case.jobs,
        keep_going=case.keep_going,
        grace=GRACE,
        durations=case.durations,
        handle_signals=False,
        gate=gate,
        requested=case.requested,
        heartbeat=heartbeat,
    )
    results: list[BuildResult] = []

    async def send_signals(channel: trio.MemorySendChannel[int]) -> None:
        for time, signum in signals:
            await trio.sleep_until(time)
            await channel.send(signum)

    async def main() -> None:
        send, receive = trio.open_memory_channel[int](len(signals) + 1)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(send_signals, send)
            with trio.move_on_at(cancel_at):
                results.append(
                    await execute(case.plan, runner, reporter, options, interrupts=receive)
                )
            nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return Run(case, runner, reporter, gate, results[0] if results else None)


def finished_result(run: Run) -> BuildResult:
    assert run.result is not None
    return run.result


def calls_of(run: Run, name: str) -> list[Call]:
    return [call for call in run.runner.calls if call.step == name]


def replay(events: list[Event]) -> list[tuple[float, set[str], set[str]]]:
    """Return, after the last event of each instant, the running and the ended steps."""
    running: set[str] = set()
    ended: set[str] = set()
    states: list[tuple[float, set[str], set[str]]] = []
    for index, event in enumerate(events):
        if event.kind == "started":
            running.add(event.step)
        elif event.kind == "finished":
            running.discard(event.step)
            ended.add(event.step)
        last_of_instant = index + 1 == len(events) or events[index + 1].time != event.time
        if last_of_instant:
            states.append((event.time, set(running), set(ended)))
    return states


# The reference model.


@given(cases())
def test_executor_matches_reference_model(case: Case) -> None:
    run = run_case(case)
    result = finished_result(run)
    expected = simulate(case)

    for name, step_result in result.results.items():
        verdict = step_result.verdict
        assert verdict.status is expected.status[name], name
        if name in expected.start:
            assert step_result.started == expected.start[name], name
            assert step_result.ended == expected.end[name], name
            assert step_result.attempts == expected.attempts[name], name
        if verdict.status is Status.BLOCKED:
            named = {f"`{failure}` failed" for failure in expected.failures_blocking[name]}
            assert verdict.reason in named, name
    assert result.ended - result.started == max(expected.end.values(), default=0)


# Each documented rule on its own.


@given(cases())
def test_step_starts_after_dependencies_succeed(case: Case) -> None:
    run = run_case(case)
    results = finished_result(run).results
    for call in run.runner.calls:
        for dependency in case.step(call.step).after:
            before = results[dependency]
            assert before.verdict.status.is_success, (call.step, dependency)
            assert before.ended is not None
            assert before.ended <= call.start


@given(cases())
def test_step_with_failed_dependency_never_runs(case: Case) -> None:
    run = run_case(case)
    results = finished_result(run).results
    for name, step_result in results.items():
        if name not in case.requested:
            continue
        dependencies = [results[d].verdict.status for d in case.step(name).after]
        if any(not status.is_success for status in dependencies):
            assert calls_of(run, name) == []
            assert name not in {checked for checked, _ in run.gate.checked}
            assert step_result.verdict.status in (Status.BLOCKED, Status.CANCELLED)
        if any(status.is_failure for status in dependencies):
            assert step_result.verdict.status is Status.BLOCKED


@given(cases())
def test_running_steps_within_jobs_and_pools(case: Case) -> None:
    run = run_case(case)
    pools = case.plan.pools
    for _, running, _ in replay(run.reporter.events):
        if case.jobs is not None:
            assert len(running) <= case.jobs
        for pool, size in pools.items():
            assert sum(1 for name in running if case.step(name).pool == pool) <= size


@given(cases())
def test_job_slots_never_shared_at_once(case: Case) -> None:
    results = finished_result(run_case(case)).results
    started = [r for r in results.values() if r.started is not None]
    for result in results.values():
        assert (result.slot is None) == (result.started is None), result.step.name
    for result in started:
        assert result.slot is not None
        assert 0 <= result.slot < (case.jobs or len(case.plan.steps)), result.step.name
    for first in started:
        for second in started:
            if first is second or first.slot != second.slot:
                continue
            assert first.started is not None
            assert first.ended is not None
            assert second.started is not None
            assert second.ended is not None
            assert first.ended <= second.started or second.ended <= first.started, (
                first.step.name,
                second.step.name,
            )


@given(cases())
def test_no_free_slot_while_a_step_is_ready(case: Case) -> None:
    run = run_case(case)
    results = finished_result(run).results
    failures = [
        event.time
        for event in run.reporter.of_kind("finished")
        if event.detail[0].verdict.status.is_failure
    ]
    stop_time = min(failures) if failures and not case.keep_going else math.inf

    for time, running, ended in replay(run.reporter.events):
        if time >= stop_time:
            break
        for name in case.requested:
            step = case.step(name)
            started = name in running or name in ended
            dependencies_done = all(
                d in ended and results[d].verdict.status.is_success for d in step.after
            )
            if started or not dependencies_done:
                continue
            slot_free = case.jobs is None or len(running) < case.jobs
            pool_free = step.pool is None or (
                sum(1 for other in running if case.step(other).pool == step.pool)
                < case.plan.pools[step.pool]
            )
            assert not (slot_free and pool_free), (time, name, running)


@given(cases())
def test_fail_fast_starts_nothing_after_failure(case: Case) -> None:
    case = attrs.evolve(case, keep_going=False)
    run = run_case(case)
    result = finished_result(run)
    events = run.reporter.events
    first = next(
        (
            index
            for index, event in enumerate(events)
            if event.kind == "finished" and event.detail[0].verdict.status.is_failure
        ),
        None,
    )
    if first is None:
        assert all(r.verdict.status is not Status.CANCELLED for r in result.results.values())
        return

    failed = events[first].step
    assert all(event.kind != "started" for event in events[first:])
    assert result.exit_code == 1
    for name, step_result in result.results.items():
        verdict = step_result.verdict
        if verdict.status is Status.CANCELLED:
            assert verdict.reason == f"not started because `{failed}` failed"
            assert calls_of(run, name) == []
    # Steps that were running when the failure came finish on their own.
    for name in {event.step for event in events[:first] if event.kind == "started"}:
        assert result.results[name].verdict.status is not Status.CANCELLED


def keep_going_statuses(case: Case) -> dict[str, Status]:
    """With keep-going, how each step ends does not depend on timing at all."""
    statuses: dict[str, Status] = {}
    ran: set[str] = set()
    for step in case.plan.topological_order():
        if step.name not in case.requested:
            statuses[step.name] = Status.NOT_REQUESTED
        elif any(statuses[d].is_failure or statuses[d] is Status.BLOCKED for d in step.after):
            statuses[step.name] = Status.BLOCKED
        else:
            dependencies_ran = any(d in ran for d in step.after)
            statuses[step.name] = step_outcome(case, step.name, 0, dependencies_ran).status
            if statuses[step.name] is not Status.UP_TO_DATE:
                ran.add(step.name)
    return statuses


@given(cases())
def test_keep_going_runs_everything_not_blocked(case: Case) -> None:
    case = attrs.evolve(case, keep_going=True)
    run = run_case(case)
    result = finished_result(run)
    statuses = {name: r.verdict.status for name, r in result.results.items()}
    assert statuses == keep_going_statuses(case)
    failed = any(status.is_failure for status in statuses.values())
    assert result.exit_code == (1 if failed else 0)


@given(cases())
def test_attempts_counted_exactly(case: Case) -> None:
    run = run_case(case)
    results = finished_result(run).results
    for name, step_result in results.items():
        attempts = sorted({call.attempt for call in calls_of(run, name)})
        if step_result.verdict.status is Status.UP_TO_DATE:
            assert attempts == []
            assert step_result.attempts == 0
            continue
        if not attempts:
            continue
        assert attempts == list(range(1, step_result.attempts + 1))
        retried = [e.detail for e in run.reporter.of_kind("retrying") if e.step == name]
        assert [attempt for attempt, _ in retried] == attempts[1:]
        assert step_result.attempts <= case.step(name).retries + 1
        timed_out = [e for e in run.reporter.of_kind("timed_out") if e.step == name]
        timeout = case.step(name).timeout
        assert all(e.detail[1] == timeout for e in timed_out)


@given(cases(failures=False, pools=False, timeouts=False, gate=False, targets=False))
def test_unlimited_slots_makespan_is_critical_path(case: Case) -> None:
    case = attrs.evolve(case, jobs=None)
    result = finished_result(run_case(case))
    assert result.exit_code == 0
    assert result.ended - result.started == critical_path(case)


@given(cases(), st.integers(1, 5))
def test_heartbeat_names_running_steps(case: Case, interval: int) -> None:
    run = run_case(case, heartbeat=interval)
    running: dict[str, float] = {}
    previous = 0.0
    for event in run.reporter.events:
        if event.kind not in ("started", "finished", "still_running"):
            continue
        if running:
            assert event.time - previous <= interval, event
        if event.kind == "still_running":
            assert event.time - previous == interval
            expected = {name: event.time - start for name, start in running.items()}
            assert dict(event.detail) == expected
        elif event.kind == "started":
            running[event.step] = event.time
        else:
            running.pop(event.step, None)
        previous = event.time


# Interruption and cancellation at any moment.


@given(
    cases(),
    st.integers(0, 20),
    st.sampled_from([signal.SIGINT, signal.SIGTERM, signal.SIGHUP]),
    st.none() | st.integers(0, GRACE + 1),
)
def test_interrupt_leaves_nothing_running(
    case: Case, at: int, signum: int, second_after: int | None
) -> None:
    signals: tuple[tuple[int, int], ...] = ((at, signum),)
    if second_after is not None:
        signals += ((at + second_after, signal.SIGINT),)
    run = run_case(case, signals=signals)
    result = finished_result(run)

    assert run.runner.running == []
    assert set(result.results) == set(case.plan.by_name)
    if result.interrupted_by is None:
        assert result.ended <= at
        return

    assert result.interrupted_by == signum
    assert result.exit_code == 128 + signum
    kill_at = at + GRACE if second_after is None else at + min(GRACE, second_after)
    for call in run.runner.calls:
        assert call.start <= at
        assert call.end is not None
        if call.end > at:
            assert call.end <= kill_at
        ignores = case.scripts[call.step].ignores_signals
        if not ignores and call.start <= at < call.end:
            raise AssertionError(f"{call} outlived the signal at {at}")
    name_of_signal = signal.Signals(signum).name
    cancelled_reasons = (
        f"interrupted by {name_of_signal}",
        f"not started because parc was interrupted by {name_of_signal}",
    )
    for name, step_result in result.results.items():
        verdict = step_result.verdict
        if verdict.status is Status.CANCELLED and not verdict.reason.endswith("` failed"):
            assert verdict.reason in cancelled_reasons, (name, verdict)
        if not calls_of(run, name) and step_result.verdict.status is not Status.UP_TO_DATE:
            assert step_result.verdict.status in (
                Status.CANCELLED,
                Status.BLOCKED,
                Status.NOT_REQUESTED,
                Status.NOT_STARTED,
            )


@given(cases(), st.integers(0, 20))
def test_cancellation_leaves_nothing_running(case: Case, at: int) -> None:
    run = run_case(case, cancel_at=at)
    assert run.runner.running == []
    for call in run.runner.calls:
        assert call.end is not None
        assert call.end <= at
    if run.result is not None:
        assert run.result.ended <= at
