"""The scheduler: which steps may start now. Pure bookkeeping, no I/O, no trio.

The executor asks `start_ready()` for the steps to start, and reports each end
with `finish()`. Ready steps start longest remaining path first (the step's
own estimated duration plus the heaviest chain of steps that wait for it),
ties in spec order, while a job slot and the step's pool have room.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Mapping

import attrs

from parc.plan import Plan, PlanStep

DEFAULT_DURATION = 1.0
"""The estimate, in seconds, for a step that has no recorded duration."""


class Status(enum.Enum):
    """How a step ended, or why it never ran; exactly one per step."""

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
        return self in (Status.FAILED, Status.TIMED_OUT, Status.NOT_STARTED)


class _State(enum.Enum):
    WAITING = "waiting"
    READY = "ready"
    RUNNING = "running"
    DONE = "done"


@attrs.frozen
class Verdict:
    """The final status of a step, and the reason when it did not run."""

    status: Status
    reason: str = ""


def remaining_path(plan: Plan, durations: Mapping[str, float]) -> dict[str, float]:
    """Map each step to its duration plus the heaviest chain of steps after it."""
    dependents = plan.dependents()
    result: dict[str, float] = {}
    for step in reversed(plan.topological_order()):
        tail = max((result[d] for d in dependents[step.name]), default=0.0)
        result[step.name] = durations.get(step.name, DEFAULT_DURATION) + tail
    return result


class Scheduler:
    """Tracks every step of one build from waiting to its final status.

    `jobs` is the number of job slots; None means unlimited.
    """

    def __init__(
        self,
        plan: Plan,
        jobs: int | None,
        keep_going: bool = False,
        durations: Mapping[str, float] | None = None,
    ) -> None:
        self.plan = plan
        self.jobs = jobs
        self.keep_going = keep_going
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
        # One heap of ready steps per pool, and one for steps without a pool.
        self._ready: dict[str | None, list[tuple[float, int, str]]] = {}

        for step in plan.steps:
            self.waiting_on[step.name] = len(step.after)
            self.state[step.name] = _State.WAITING
        for step in plan.steps:
            if self.waiting_on[step.name] == 0:
                self._make_ready(step)

    def _make_ready(self, step: PlanStep) -> None:
        self.state[step.name] = _State.READY
        entry = (-self.priority[step.name], step.index, step.name)
        heapq.heappush(self._ready.setdefault(step.pool, []), entry)

    @property
    def stopping(self) -> bool:
        return self.stopped_reason is not None

    def has_free_slot(self) -> bool:
        return self.jobs is None or len(self.running) < self.jobs

    def start_ready(self) -> list[PlanStep]:
        """Mark as running, and return, every step that may start now, best first."""
        started: list[PlanStep] = []
        if self.stopping:
            return started
        while self.has_free_slot():
            best: tuple[float, int, str] | None = None
            best_pool: str | None = None
            for pool, heap in self._ready.items():
                if not heap:
                    continue
                if pool is not None and self.pool_running[pool] >= self.pool_limits[pool]:
                    continue
                if best is None or heap[0] < best:
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

    def skip(self, name: str, verdict: Verdict) -> None:
        """End a step that was started but did no work (up to date): like success."""
        self.finish(name, verdict)

    def finish(self, name: str, verdict: Verdict) -> list[str]:
        """Record the end of a running step. Returns the steps it newly blocks."""
        self.running.discard(name)
        self.state[name] = _State.DONE
        self.verdicts[name] = verdict
        pool = self.steps[name].pool
        if pool is not None:
            self.pool_running[pool] -= 1

        if verdict.status in (Status.SUCCEEDED, Status.UP_TO_DATE):
            for dependent in self.dependents[name]:
                self.waiting_on[dependent] -= 1
                if self.waiting_on[dependent] == 0 and self.state[dependent] is _State.WAITING:
                    self._make_ready(self.steps[dependent])
            return []

        blocked = self._block_dependents(name)
        if verdict.status.is_failure and not self.keep_going:
            self.stop(f"`{name}` failed")
        return blocked

    def _block_dependents(self, failed: str) -> list[str]:
        blocked: list[str] = []
        stack = list(self.dependents[failed])
        while stack:
            name = stack.pop()
            if self.state[name] in (_State.DONE, _State.RUNNING):
                continue
            if self.state[name] is _State.READY:
                self._remove_ready(name)
            self.state[name] = _State.DONE
            self.verdicts[name] = Verdict(Status.BLOCKED, f"`{failed}` failed")
            blocked.append(name)
            stack.extend(self.dependents[name])
        order = {step.name: step.index for step in self.plan.steps}
        return sorted(blocked, key=order.__getitem__)

    def _remove_ready(self, name: str) -> None:
        pool = self.steps[name].pool
        heap = self._ready.get(pool, [])
        heap[:] = [entry for entry in heap if entry[2] != name]
        heapq.heapify(heap)

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
        reason = self.stopped_reason or "the build ended"
        for step in self.plan.steps:
            if step.name not in self.verdicts:
                self.verdicts[step.name] = Verdict(
                    Status.CANCELLED, f"not started because {reason}"
                )
        return self.verdicts
