"""The incremental gate: skips up-to-date steps and records how steps end.

A step is up to date when it has both `reads` and `owns` and its last run
succeeded. Its commands, environment, `cwd` and the contents of the files its
globs match must equal those of its last success. And no dependency may have
run since then, neither in this build nor in an earlier one after its last
success (a dependency that was skipped as up to date did not run).

When fingerprints are taken:

- the inputs (`reads`) when the step is checked, before it runs, so an input
  edited while the step runs makes the next build run it again;
- the outputs (`owns`) in `record`, after the step succeeded, before any
  step that runs after it starts.

A step that is about to run is marked `running` in the state first, and only
a success replaces that mark. A step that fails, times out, is interrupted or
whose parc is killed is therefore never up to date on the next build. The
mark is left out where it cannot change a decision: for a step that always
runs and whose record holds no fingerprint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import trio

from parc.plan import PlanStep
from parc.runtime.executor import StepResult
from parc.runtime.scheduler import Status
from parc.runtime.state.files import DIRECTORY, Found, HashCache, Scanner, drop_covered, hash_files
from parc.runtime.state.fingerprint import (
    Fingerprint,
    counted,
    definition_changes,
    input_changes,
    output_changes,
)
from parc.runtime.state.store import RUNNING, SUCCEEDED, StateStore, StepRecord

logger = logging.getLogger("parc.state")

# Work small enough to do on the event loop; anything larger goes to a thread.
INLINE_HASH_BYTES = 64 * 1024
INLINE_HASH_FILES = 8
INLINE_LITERAL_GLOBS = 16
MAX_LISTED_REASONS = 4

LAST_RUN = {
    "failed": "its last run failed",
    "timed out": "its last run timed out",
    "could not start": "its last run could not start",
    "cancelled": "its last run was interrupted",
    RUNNING: "its last run did not finish (parc stopped during it)",
}


@attrs.frozen
class Decision:
    """The decision on one step: whether it runs, and the reason."""

    runs: bool
    reason: str


Explainer = Callable[[PlanStep, Decision], None]


class IncrementalGate:
    """A `StepGate` backed by the state store.

    `force` runs every step (and still records fingerprints). `explain`, when
    given, receives every decision as it is made, with every reason found;
    without it, the check stops at the first reason to run. A gate made with
    `predict` writes nothing: it only decides, for `predict_decisions`.
    """

    def __init__(
        self,
        store: StateStore,
        root: Path,
        force: bool = False,
        explain: Explainer | None = None,
        predict: bool = False,
    ) -> None:
        self.store = store
        self.predict = predict
        self.root = root
        self.force = force
        self.explain = explain
        self.scanner = Scanner(root)
        self.cache = HashCache(store.load_digests())
        self.decisions: dict[str, Decision] = {}
        self.results: dict[str, StepResult] = {}
        self.wall_offset: float | None = None
        self._inputs: dict[str, dict[str, str]] = {}
        self._unmarked: set[str] = set()
        """Steps that run without a `running` mark (see `_record_could_skip`)."""

    # The StepGate protocol.

    async def check(self, step: PlanStep, dependencies_ran: bool) -> str | None:
        """Return why the step is up to date, or None after marking it as running.

        Raises:
            StateError: the state cannot be written.
        """
        if self.wall_offset is None:
            self.wall_offset = time.time() - trio.current_time()
        reasons, recorded = await self._reasons_to_run(step, dependencies_ran)
        if reasons:
            decision = Decision(True, _join(reasons))
        else:
            assert recorded is not None
            inputs = counted(len(recorded.reads), "input")
            outputs = counted(len(recorded.owns), "output")
            decision = Decision(False, f"unchanged since its last success ({inputs}, {outputs})")
        self.decisions[step.name] = decision
        verb = "runs" if decision.runs else "is up to date"
        logger.debug("`%s` %s: %s", step.name, verb, decision.reason)
        if self.explain is not None:
            self.explain(step, decision)
        if not decision.runs:
            return decision.reason
        if not self.predict:
            if self._record_could_skip(step):
                self.store.mark_started(step.name)
            else:
                self._unmarked.add(step.name)
        return None

    async def record(self, result: StepResult) -> None:
        """Store how a started step ended; a success stores its fingerprint.

        The state in memory changes at once; the database at the next `flush`.

        Raises:
            StateError: the state cannot be written.
        """
        step = result.step
        status = result.verdict.status
        self.results[step.name] = result
        inputs = self._inputs.pop(step.name, None)
        started_ns = None
        if step.name in self._unmarked:
            self._unmarked.discard(step.name)
            if self.wall_offset is not None and result.started is not None:
                started_ns = int((self.wall_offset + result.started) * 1e9)
        if status is not Status.SUCCEEDED:
            self.store.record_end(
                step.name, status.value, result.duration, started_ns=started_ns, commit=False
            )
            return
        fingerprint: str | None = None
        if step.incremental and inputs is not None:
            outputs = await self._digests(step.owns)
            current = Fingerprint(step.commands, dict(step.env), step.cwd, inputs, outputs)
            if current.complete:
                fingerprint = current.to_json()
        self.store.record_end(
            step.name, SUCCEEDED, result.duration, fingerprint, started_ns, commit=False
        )

    def flush(self) -> None:
        """Commit the ends that `record` stored, in one transaction.

        Raises:
            StateError: the state cannot be written.
        """
        self.store.flush()

    def close(self) -> None:
        """Save the digests learned in this build.

        Raises:
            StateError: the state cannot be written.
        """
        changed, removed = self.cache.take_changes()
        if not self.predict:
            self.store.save_digests(changed, sorted(removed))

    def _record_could_skip(self, step: PlanStep) -> bool:
        """Tell whether the step's record could make it up to date in a later build.

        Only such a record needs the `running` mark before the step runs. A
        step without both `reads` and `owns` always runs, and a record without
        a fingerprint never makes a step up to date, whatever its definition
        becomes. Leaving out the mark saves a transaction per step of that
        kind, about a third of the state's cost on a build of `true` steps.
        """
        if step.incremental:
            return True
        record = self.store.steps.get(step.name)
        return record is not None and record.fingerprint is not None

    # Deciding.

    async def _reasons_to_run(
        self, step: PlanStep, dependencies_ran: bool
    ) -> tuple[list[str], Fingerprint | None]:
        """Return every reason the step must run (only the first without `explain`).

        Also returns the fingerprint of the step's last success, if one is recorded.
        """
        if not step.incremental:
            return [_why_always(step)], None

        # The inputs go into the fingerprint of a success, whatever we decide now.
        # Directories carry no content of their own, and one that the step
        # creates must not look like a new input on the next build. What the
        # step owns is an output only, even where its `reads` cover it too.
        found, reads_a_file = await self._scan_inputs(step)
        digests = await self._hash(found)
        inputs = {path: digest for path, digest in digests.items() if digest != DIRECTORY}
        self._inputs[step.name] = inputs

        # Phases: reasons that need no file, then the definition, inputs and outputs.
        thorough = self.explain is not None
        reasons: list[str] = []
        if self.force:
            reasons.append("-B/--force was given")
        record = self.store.steps.get(step.name)
        recorded = None
        if record is None:
            reasons.append("no earlier success is recorded")
        elif record.status != SUCCEEDED:
            reasons.append(LAST_RUN.get(record.status, f"its last run ended as {record.status}"))
        elif record.fingerprint is None:
            reasons.append("its last success left no fingerprint (a file could not be read)")
        if record is not None and record.fingerprint is not None:
            recorded = Fingerprint.from_json(record.fingerprint)
            if recorded is None:
                reasons.append("its recorded fingerprint comes from another version of parc")
        if not reads_a_file:
            reasons.append(_why_no_inputs(step))
        reasons.extend(self._dependency_reasons(step, dependencies_ran, record))
        if recorded is None or (reasons and not thorough):
            return reasons, recorded

        reasons.extend(definition_changes(recorded, step))
        reasons.extend(input_changes(recorded.reads, inputs))
        if reasons and not thorough:
            return reasons, recorded

        outputs = await self._digests(step.owns)
        reasons.extend(output_changes(recorded.owns, outputs))
        deleted_inputs = recorded.reads.keys() - inputs.keys()
        for path in deleted_inputs | (recorded.owns.keys() - outputs.keys()):
            self.cache.forget(path)
        return reasons, recorded

    def _dependency_reasons(
        self, step: PlanStep, dependencies_ran: bool, record: StepRecord | None
    ) -> list[str]:
        """Name the dependencies that ran in this build, or after the step's last success."""
        in_build = [name for name in step.after if self._ran(name)]
        if in_build:
            verb = "would run" if self.predict else "ran"
            return [f"{_dependencies(in_build)} {verb} in this build"]
        if dependencies_ran:
            return ["a dependency ran in this build"]
        if record is None or record.success_serial is None:
            return []
        later: list[str] = []
        for name in step.after:
            dependency = self.store.steps.get(name)
            serial = dependency.success_serial if dependency is not None else None
            if serial is None or serial > record.success_serial:
                later.append(name)
        if later:
            return [f"{_dependencies(later)} ran after its last success"]
        return []

    def _ran(self, name: str) -> bool:
        decision = self.decisions.get(name)
        return decision is not None and decision.runs

    # Files.

    async def _digests(self, texts: Sequence[str]) -> dict[str, str]:
        """Return the digest of every path the globs cover, hashing only what changed."""
        if self._scan_inline(texts):
            found = self.scanner.scan(texts)
        else:
            found = await trio.to_thread.run_sync(self.scanner.scan, texts)
        return await self._hash(found)

    async def _scan_inputs(self, step: PlanStep) -> tuple[dict[str, Found], bool]:
        """Return the paths the step's `reads` cover but its `owns` do not.

        The flag returned with them is whether the `reads` cover any file
        (any path but a directory), counting the files the step owns.
        """

        def scan() -> tuple[dict[str, Found], bool]:
            found = self.scanner.scan(step.reads)
            reads_a_file = any(item.digest != DIRECTORY for item in found.values())
            drop_covered(found, step.owns)
            return found, reads_a_file

        if self._scan_inline(step.reads):
            return scan()
        return await trio.to_thread.run_sync(scan)

    def _scan_inline(self, texts: Sequence[str]) -> bool:
        """Tell whether scanning the globs is quick enough for the event loop: no listing."""
        return len(texts) <= INLINE_LITERAL_GLOBS and not self.scanner.needs_walk(texts)

    async def _hash(self, found: dict[str, Found]) -> dict[str, str]:
        digests: dict[str, str] = {}
        missing: list[str] = []
        size = 0
        for path, item in found.items():
            if item.digest is not None:
                digests[path] = item.digest
                continue
            assert item.key is not None
            cached = self.cache.lookup(path, item.key)
            if cached is not None:
                digests[path] = cached
                continue
            missing.append(path)
            size += item.key.size

        if missing:
            if size <= INLINE_HASH_BYTES and len(missing) <= INLINE_HASH_FILES:
                hashed = hash_files(self.root, missing)
            else:
                hashed = await trio.to_thread.run_sync(hash_files, self.root, missing)
            self.cache.hashed += len(missing)
            for path, (digest, key, hashed_ns) in hashed.items():
                digests[path] = digest
                if key is not None:
                    self.cache.store(path, key, digest, hashed_ns)
        return dict(sorted(digests.items()))


async def predict_decisions(steps: Sequence[PlanStep], gate: IncrementalGate) -> None:
    """Decide every step as a build would, without running any.

    `steps` must be in dependency order. A step whose dependency would run
    would run too, so the prediction matches a build whose steps all succeed.
    """
    for step in steps:
        decisions = gate.decisions
        dependencies_run = any(decisions[name].runs for name in step.after if name in decisions)
        await gate.check(step, dependencies_run)


def _why_always(step: PlanStep) -> str:
    if not step.reads and not step.owns:
        missing = "neither `reads` nor `owns`"
    elif not step.reads:
        missing = "no `reads`"
    else:
        missing = "no `owns`"
    return f"it declares {missing}, so it always runs"


def _why_no_inputs(step: PlanStep) -> str:
    reason = "its `reads` match no file, so it always runs"
    if step.cwd != ".":
        first = step.reads[0]
        reason += (
            f" (globs are relative to the spec's directory, not to its cwd `{step.cwd}`, "
            f"so `{first}` may need to be `{step.cwd}/{first}`)"
        )
    return reason


def _join(reasons: list[str]) -> str:
    shown = reasons[:MAX_LISTED_REASONS]
    text = "; ".join(shown)
    hidden = len(reasons) - len(shown)
    if hidden:
        text += f"; and {hidden} more change{'' if hidden == 1 else 's'}"
    return text


def _dependencies(names: list[str]) -> str:
    noun = "dependency" if len(names) == 1 else "dependencies"
    return noun + " " + ", ".join(f"`{name}`" for name in names)
