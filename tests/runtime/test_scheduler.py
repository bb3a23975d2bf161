"""The scheduler driven by hand: ready order, pools, blocking, stopping, estimates."""

from __future__ import annotations

import pytest

from parc.plan import Plan, PlanStep
from parc.runtime.scheduler import (
    DEFAULT_DURATION,
    Order,
    Scheduler,
    Status,
    Verdict,
    estimate_durations,
    remaining_path,
)

OK = Verdict(Status.SUCCEEDED)
FAILED = Verdict(Status.FAILED, "exit code 1")


def make_plan(*steps: tuple[str, tuple[str, ...]], pools: dict[str, int] | None = None) -> Plan:
    """Build a plan from (name, after) pairs; a name `x@p` puts step x in pool p."""
    plan_steps = []
    for index, (label, after) in enumerate(steps):
        name, _, pool = label.partition("@")
        plan_steps.append(PlanStep(name, "track", index, ("true",), after=after, pool=pool or None))
    return Plan("test.par", "/nonexistent", tuple(plan_steps), pools or {})


def names(steps: list[PlanStep]) -> list[str]:
    return [step.name for step in steps]


def test_longest_remaining_path_first_ties_in_spec_order() -> None:
    plan = make_plan(("a", ()), ("b", ()), ("c", ()), ("d", ("c",)))
    scheduler = Scheduler(plan, jobs=None)
    assert names(scheduler.start_ready()) == ["c", "a", "b"]


def test_recorded_durations_outweigh_step_count() -> None:
    plan = make_plan(("big", ()), ("head", ()), ("tail", ("head",)))
    scheduler = Scheduler(plan, jobs=1, durations={"big": 10.0, "head": 1.0, "tail": 1.0})
    assert names(scheduler.start_ready()) == ["big"]


def test_unknown_step_weighs_median_of_records() -> None:
    plan = make_plan(("a", ()), ("b", ()), ("c", ()), ("new", ()))
    estimates = estimate_durations(plan, {"a": 1.0, "b": 5.0, "c": 30.0, "gone": 99.0})
    assert estimates == {"a": 1.0, "b": 5.0, "c": 30.0, "new": 5.0}
    assert estimate_durations(plan, {}) == dict.fromkeys("abc", DEFAULT_DURATION) | {
        "new": DEFAULT_DURATION
    }


def test_invalid_recorded_durations_are_ignored() -> None:
    plan = make_plan(("a", ()), ("b", ()))
    estimates = estimate_durations(plan, {"a": float("nan"), "b": -3.0})
    assert estimates == {"a": DEFAULT_DURATION, "b": DEFAULT_DURATION}


def test_remaining_path_sums_heaviest_chain() -> None:
    plan = make_plan(("a", ()), ("b", ("a",)), ("c", ("a",)), ("d", ("c",)))
    weights = {"a": 1.0, "b": 10.0, "c": 2.0, "d": 3.0}
    assert remaining_path(plan, weights) == {"a": 11.0, "b": 10.0, "c": 5.0, "d": 3.0}


def test_first_come_order_follows_readiness() -> None:
    plan = make_plan(("a", ()), ("b", ()), ("c", ("a",)), ("d", ()))
    scheduler = Scheduler(plan, jobs=1, order=Order.FIRST_COME)
    assert names(scheduler.start_ready()) == ["a"]
    scheduler.finish("a", OK)
    # `c` became ready after `b` and `d`, so it waits behind them.
    assert names(scheduler.start_ready()) == ["b"]
    scheduler.finish("b", OK)
    assert names(scheduler.start_ready()) == ["d"]
    scheduler.finish("d", OK)
    assert names(scheduler.start_ready()) == ["c"]


def test_pool_limits_within_free_slots() -> None:
    plan = make_plan(("a@p", ()), ("b@p", ()), ("c", ()), pools={"p": 1})
    scheduler = Scheduler(plan, jobs=3)
    assert names(scheduler.start_ready()) == ["a", "c"]
    assert scheduler.ready() == ["b"]
    scheduler.finish("a", OK)
    assert names(scheduler.start_ready()) == ["b"]


def test_failure_blocks_dependents_and_stops() -> None:
    plan = make_plan(("bad", ()), ("x", ("bad",)), ("y", ("x",)), ("other", ()))
    scheduler = Scheduler(plan, jobs=1)
    assert names(scheduler.start_ready()) == ["bad"]

    assert scheduler.finish("bad", FAILED) == ["x", "y"]
    assert scheduler.start_ready() == []
    assert scheduler.done()
    verdicts = scheduler.close()
    assert verdicts["x"] == Verdict(Status.BLOCKED, "`bad` failed")
    assert verdicts["y"] == Verdict(Status.BLOCKED, "`bad` failed")
    assert verdicts["other"] == Verdict(Status.CANCELLED, "not started because `bad` failed")


def test_keep_going_runs_what_is_not_blocked() -> None:
    plan = make_plan(("bad", ()), ("x", ("bad",)), ("other", ()))
    scheduler = Scheduler(plan, jobs=1, keep_going=True)
    scheduler.start_ready()
    scheduler.finish("bad", FAILED)
    assert names(scheduler.start_ready()) == ["other"]
    assert not scheduler.stopping


def test_cancelled_step_blocks_nothing() -> None:
    plan = make_plan(("a", ()), ("b", ("a",)))
    scheduler = Scheduler(plan, jobs=1)
    scheduler.start_ready()
    scheduler.stop("parc was interrupted by SIGINT")
    assert scheduler.finish("a", Verdict(Status.CANCELLED, "interrupted by SIGINT")) == []
    assert scheduler.close()["b"] == Verdict(
        Status.CANCELLED, "not started because parc was interrupted by SIGINT"
    )


def test_up_to_date_lets_dependents_start() -> None:
    plan = make_plan(("a", ()), ("b", ("a",)))
    scheduler = Scheduler(plan, jobs=1)
    scheduler.start_ready()
    scheduler.finish("a", Verdict(Status.UP_TO_DATE, "nothing changed"))
    assert names(scheduler.start_ready()) == ["b"]


def test_steps_outside_request_are_not_requested() -> None:
    plan = make_plan(("a", ()), ("b", ("a",)), ("c", ()))
    scheduler = Scheduler(plan, jobs=None, requested={"a", "b"})
    assert names(scheduler.start_ready()) == ["a"]
    assert scheduler.verdicts["c"] == Verdict(Status.NOT_REQUESTED)


def test_request_without_its_dependency_is_rejected() -> None:
    plan = make_plan(("a", ()), ("b", ("a",)))
    with pytest.raises(ValueError, match="`b` is requested but its dependency `a` is not"):
        Scheduler(plan, jobs=None, requested={"b"})


def test_finishing_a_step_not_running_is_rejected() -> None:
    plan = make_plan(("a", ()))
    scheduler = Scheduler(plan, jobs=None)
    with pytest.raises(ValueError, match="`a` is not running"):
        scheduler.finish("a", OK)
