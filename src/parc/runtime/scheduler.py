"""The scheduler: which steps may start now. Pure bookkeeping, no I/O, no trio.

The executor asks `start_ready()` for the steps to start, and reports each end
with `finish()`. Ready steps start longest remaining path first (the step's
own estimated duration plus the heaviest chain of steps that wait for it),
ties in spec order, while a job slot and the step's pool have room.

Rules for a step that does not succeed:

- A failure (failed, timed out, could not start) blocks every step that runs
  after it, directly or through other steps; each is `blocked` and names the
  failed step. Without keep-going, it also stops the build: nothing new
  starts, running steps finish, and steps that never started end as
  `cancelled` with the failure as the reason.
- A cancelled step (the build was interrupted) blocks nothing. The build is
  already stopping, so its dependents end as `cancelled` like every other
  step that never started.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import math
import statistics
from collections.abc import Collection, Mapping

import attrs

from parc.plan import Plan, PlanStep

DEFAULT_DURATION = 1.0
"""The estimate, in seconds, for every step when no duration is recorded at all."""


class Status(enum.Enum):
    """The outcome of a step, or the reason it never ran; exactly one per step."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    NOT_STARTED = "could not start"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"
    UP_TO_DATE = "up to date"
    NOT_REQUESTED = "not requested"

    @property
    def is_failure(self) -> bool:
        """Whether the status fails the build (exit code 1) and blocks dependents."""
        return self in (Status.FAILED, Status.TIMED_OUT, Status.NOT_STARTED)

    @property
    def is_success(self) -> bool:
        """Whether the steps that run after this one may start."""
        return self in (Status.SUCCEEDED, Status.UP_TO_DATE)


class Order(enum.Enum):
    """The rule that orders ready steps when there are more of them than free slots.

    CRITICAL_PATH starts the step with the longest remaining path first.
    FIRST_COME starts steps in the order they became ready, as a plain
    queue would; it exists to measure what critical-path order gains.
    """

    CRITICAL_PATH = "critical-path"
    FIRST_COME = "first-come"


class _State(enum.Enum):
    WAITING = "waiting"
    READY = "ready"
    RUNNING = "running"
    DONE = "done"


@attrs.frozen
class Verdict:
    """The final status of a step, and the reason when it did not succeed."""

    status: Status
    reason: str = ""


def estimate_durations(plan: Plan, durations: Mapping[str, float]) -> dict[str, float]:
    """Return an estimated duration in seconds for every step of `plan`.

    A step with a recorded duration keeps it. Every other step gets the
    median of the recorded durations of the plan's steps, so that one new
    step in a slow project is not assumed to be instant. Without any record,
    every step weighs `DEFAULT_DURATION`.
    """
    known = {
        step.name: float(durations[step.name])
        for step in plan.steps
        if step.name in durations and math.isfinite(durations[step.name])
        if durations[step.name] >= 0
    }
    default = statistics.median(known.values()) if known else DEFAULT_DURATION
    return {step.name: known.get(step.name, default) for step in plan.steps}


def remaining_path(plan: Plan, durations: Mapping[str, float]) -> dict[str, float]:
    """Map each step to its estimated duration plus the heaviest chain after it."""
    estimates = estimate_durations(plan, durations)
    dependents = plan.dependents()
    result: dict[str, float] = {}
    for step in reversed(plan.topological_order()):
        tail = max((result[d] for d in dependents[step.name]), default=0.0)
        result[step.name] = estimates[step.name] + tail
    return result


class Scheduler:
    """Tracks every step of one build from waiting to its final verdict.

    `jobs` is the number of job slots; None means unlimited. `requested`
    names the steps to run; it must contain every dependency of each of its
    steps (as `Plan.closure` returns). The other steps end as not requested
    at once. None requests every step.
    """

    def __init__(
        self,
        plan: Plan,
        jobs: int | None,
        keep_going: bool = False,
        durations: Mapping[str, float] | None = None,
        requested: Collection[str] | None = None,
        order: Order = Order.CRITICAL_PATH,
    ) -> None:
        self.plan = plan
        self.jobs = jobs
        self.keep_going = keep_going
        self.order = order
        self.steps = plan.by_name
        self.dependents = plan.dependents()
        self.priority = remaining_path(plan, durations or {})
        self.pool_limits = dict(plan.pools)
        self.pool_running: dict[str, int] = {name: 0 for name in plan.pools}

        self.state: dict[str, _State] = {}
        self.waiting_on: dict[str, int] = {}
        self.verdicts: dict[str, Verdict] = {}
        self.running: set[str] = set()
        self.stopped_reason: str | None = None
        # One heap of ready steps per pool, and one (key None) for steps
        # without a pool. Entries are (sort key, spec index, name).
        self._ready: dict[str | None, list[tuple[float, int, str]]] = {}
        self._arrival = itertools.count()

        requested_names = set(self.steps) if requested is None else set(requested)
        for step in plan.steps:
            self.state[step.name] = _State.WAITING
            self.waiting_on[step.name] = sum(1 for name in step.after if name in self.steps)
            if step.name not in requested_names:
                self.state[step.name] = _State.DONE
                self.verdicts[step.name] = Verdict(Status.NOT_REQUESTED)
        for step in plan.steps:
            missing = [name for name in step.after if name not in requested_names]
            if step.name in requested_names and missing:
                raise ValueError(
                    f"step `{step.name}` is requested but its dependency `{missing[0]}` is not"
                )
            if self.state[step.name] is _State.WAITING and self.waiting_on[step.name] == 0:
                self._make_ready(step)

    def _make_ready(self, step: PlanStep) -> None:
        self.state[step.name] = _State.READY
        if self.order is Order.CRITICAL_PATH:
            key = -self.priority[step.name]
        else:
            key = float(next(self._arrival))
        heapq.heappush(self._ready.setdefault(step.pool, []), (key, step.index, step.name))

    @property
    def stopping(self) -> bool:
        return self.stopped_reason is not None

    def has_free_slot(self) -> bool:
        return self.jobs is None or len(self.running) < self.jobs

    def pool_has_room(self, pool: str | None) -> bool:
        return pool is None or self.pool_running[pool] < self.pool_limits[pool]

    def ready(self) -> list[str]:
        """Return the steps that wait only for a slot or a pool, best first."""
        entries = sorted(entry for heap in self._ready.values() for entry in heap)
        return [name for _, _, name in entries]

    def start_ready(self) -> list[PlanStep]:
        """Mark as running, and return, every step that may start now, best first."""
        started: list[PlanStep] = []
        if self.stopping:
            return started
        while self.has_free_slot():
            best: tuple[float, int, str] | None = None
            best_pool: str | None = None
            for pool, heap in self._ready.items():
                if heap and self.pool_has_room(pool) and (best is None or heap[0] < best):
                    best = heap[0]
                    best_pool = pool
            if best is None:
                break
            heapq.heappop(self._ready[best_pool])
            name = best[2]
            self.state[name] = _State.RUNNING
            self.running.add(name)
            if best_pool is not None:
                self.pool_running[best_pool] += 1
            started.append(self.steps[name])
        return started

    def finish(self, name: str, verdict: Verdict) -> list[str]:
        """Record the end of a running step.

        Returns the steps that this end newly blocks, in spec order.
        """
        if self.state.get(name) is not _State.RUNNING:
            raise ValueError(f"step `{name}` is not running")
        self.running.discard(name)
        self.state[name] = _State.DONE
        self.verdicts[name] = verdict
        pool = self.steps[name].pool
        if pool is not None:
            self.pool_running[pool] -= 1

        if verdict.status.is_success:
            for dependent in self.dependents[name]:
                self.waiting_on[dependent] -= 1
                if self.waiting_on[dependent] == 0 and self.state[dependent] is _State.WAITING:
                    self._make_ready(self.steps[dependent])
            return []
        if not verdict.status.is_failure:
            return []

        blocked = self._block_dependents(name)
        if not self.keep_going:
            self.stop(f"`{name}` failed")
        return blocked

    def _block_dependents(self, failed: str) -> list[str]:
        blocked: list[str] = []
        stack = list(self.dependents[failed])
        while stack:
            name = stack.pop()
            if self.state[name] is not _State.WAITING:
                # Done already (blocked through another path, or not
                # requested); a dependent is never ready or running while
                # one of its dependencies has just ended.
                continue
            self.state[name] = _State.DONE
            self.verdicts[name] = Verdict(Status.BLOCKED, f"`{failed}` failed")
            blocked.append(name)
            stack.extend(self.dependents[name])
        return sorted(blocked, key=lambda blocked_name: self.steps[blocked_name].index)

    def stop(self, reason: str) -> None:
        """Start nothing more; steps that never start end as cancelled with `reason`."""
        if self.stopped_reason is None:
            self.stopped_reason = reason

    def done(self) -> bool:
        """Tell whether nothing runs and nothing more can start."""
        if self.running:
            return False
        if self.stopping:
            return True
        return not any(self._ready.values())

    def close(self) -> dict[str, Verdict]:
        """Give every step that never ran its final verdict, and return all verdicts."""
        reason = self.stopped_reason or "the build ended before it could start"
        for step in self.plan.steps:
            if step.name not in self.verdicts:
                self.verdicts[step.name] = Verdict(
                    Status.CANCELLED, f"not started because {reason}"
                )
        return self.verdicts
