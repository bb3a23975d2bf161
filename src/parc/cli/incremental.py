"""The project lock and the state store around a build, shared by `parc build` and `parc clean`.

Everything that must happen after a build (saving digests, writing
`.parc/last-build.json`, closing the database, releasing the lock) runs in
`finally` blocks and never prints, so it also happens when the output pipe
is closed and every write to it fails.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import click

from parc.cli.errors import UserError
from parc.plan import Plan, PlanStep
from parc.runtime import BuildResult, Options
from parc.runtime.interrupts import with_late_signal
from parc.runtime.state import (
    Decision,
    IncrementalGate,
    LockBusy,
    ProjectLock,
    StateError,
    StateStore,
    build_report,
    state_directory,
    write_last_build,
)
from parc.runtime.state.store import DATABASE_NAME

logger = logging.getLogger("parc.state")


def say(text: str) -> None:
    """Print a line on stderr; a closed stderr is not an error."""
    with suppress(OSError, ValueError):
        click.echo(f"parc: {text}", err=True)


@contextmanager
def locked_project(root: Path, wait: bool) -> Iterator[ProjectLock]:
    """Hold the project lock for the block, waiting for it unless `wait` is false.

    Raises:
        UserError: another parc holds the lock and `wait` is false, or the
            lock file cannot be created.
    """
    lock = ProjectLock(state_directory(root))
    try:
        lock.acquire(wait, on_wait=say)
    except LockBusy as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(
            f"cannot create the lock file `{lock.path}`: {error.strerror}; "
            f"check that the project directory is writable"
        ) from None
    try:
        yield lock
    finally:
        lock.release()


def open_store(root: Path) -> StateStore:
    """Open the project's state database.

    Raises:
        UserError: it cannot be opened; the message names the fix.
    """
    try:
        return StateStore.open(state_directory(root) / DATABASE_NAME)
    except StateError as error:
        raise UserError(str(error)) from None


def run_incremental(
    plan: Plan,
    options: Options,
    run: Callable[[Options], BuildResult],
    force: bool,
    explain: bool,
    wait: bool,
) -> int:
    """Run a build under the project lock with the incremental gate; return its exit code.

    Raises:
        UserError: the lock or the state is unavailable.
    """
    root = Path(plan.root)
    with locked_project(root, wait):
        store = open_store(root)
        try:
            try:
                gate = IncrementalGate(store, root, force, _explain if explain else None)
            except StateError as error:
                raise UserError(str(error)) from None
            options.gate = gate
            options.durations = store.durations()
            started = time.time()
            result: BuildResult | None = None
            try:
                result = run(options)
            except BaseException as error:
                found = find_state_error(error)
                if found is not None:
                    raise UserError(str(found)) from None
                raise
            finally:
                result = _finish(plan, gate, result, started)
        finally:
            store.close()
    assert result is not None
    return result.exit_code


def _finish(
    plan: Plan, gate: IncrementalGate, result: BuildResult | None, started: float
) -> BuildResult | None:
    """Save what the build learned and write its report; log failures, print nothing.

    Returns `result`, marked as interrupted when a signal came after its steps ended.
    """
    try:
        gate.close()
    except StateError as error:
        logger.warning("%s", error)
    result = with_late_signal(result)
    exit_code = result.exit_code if result is not None else None
    report = build_report(
        plan,
        result,
        gate.decisions,
        gate.results,
        gate.wall_offset,
        started,
        time.time(),
        exit_code,
    )
    try:
        write_last_build(state_directory(Path(plan.root)), report)
    except OSError as error:
        logger.warning("cannot write the build report: %s", error)
    return result


def find_state_error(error: BaseException) -> StateError | None:
    """Find a StateError in `error` or in the exception groups around it."""
    if isinstance(error, StateError):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = find_state_error(inner)
            if found is not None:
                return found
    return None


def predict_runs(plan: Plan, force: bool = False, explain: bool = False) -> set[str]:
    """Return the steps that `parc build` would run now, without running or writing anything.

    The prediction reads the recorded state as a build would, without the
    lock, and assumes that every step that runs succeeds. With `explain`,
    it prints why each step would run or is up to date.

    Raises:
        UserError: the state cannot be read.
    """
    if force and not explain:
        return {step.name for step in plan.steps}

    import trio

    from parc.runtime.state.gate import predict_decisions

    root = Path(plan.root)
    try:
        store = StateStore.open_snapshot(state_directory(root) / DATABASE_NAME)
    except StateError as error:
        raise UserError(str(error)) from None
    try:
        gate = IncrementalGate(
            store, root, force, _explain_predicted if explain else None, predict=True
        )
        trio.run(predict_decisions, plan.topological_order(), gate)
    finally:
        store.close()
    return {name for name, decision in gate.decisions.items() if decision.runs}


def _explain(step: PlanStep, decision: Decision) -> None:
    if decision.runs:
        say(f"explain: `{step.name}` runs: {decision.reason}")
    else:
        say(f"explain: `{step.name}` is up to date: {decision.reason}")


def _explain_predicted(step: PlanStep, decision: Decision) -> None:
    if decision.runs:
        say(f"explain: `{step.name}` would run: {decision.reason}")
    else:
        say(f"explain: `{step.name}` is up to date: {decision.reason}")
