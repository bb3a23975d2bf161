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
  step that runs after it starts. A success after which an `owns` path
  without wildcards does not exist gets a warning and no fingerprint, so the
  step runs again, as make reruns a rule whose target is missing.

A step that is about to run is marked `running` in the state first, and only
a success replaces that mark. A step that fails, times out, is interrupted or
whose parc is killed is therefore never up to date on the next build. The
mark is left out where it cannot change a decision: for a step that always
runs and whose record has no fingerprint.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import trio

from parc.plan import PlanStep
from parc.runtime import STATE_DIR
from parc.runtime.executor import StepResult
from parc.runtime.scheduler import Status
from parc.runtime.state.files import (
    DIRECTORY,
    Found,
    HashCache,
    Scanner,
    drop_covered,
    hash_files,
    is_literal,
)
from parc.runtime.state.fingerprint import (
    Fingerprint,
    definition_changes,
    glob_change,
    input_changes,
    output_changes,
    up_to_date_reason,
)
from parc.runtime.state.lock import LOCK_NAME
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
        self._modified: set[str] = set()
        """Files hashed again in this build because their mtime changed; same digest."""

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
            modified = [path for path in recorded.reads if path in self._modified]
            reason = up_to_date_reason(recorded.reads, recorded.owns, modified)
            decision = Decision(False, reason)
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
        missing = self._missing_outputs(step)
        for path in missing:
            logger.warning(
                "`%s` succeeded but did not create `%s`, which it owns; "
                "it runs again in the next build until it does",
                step.name,
                path,
            )
        fingerprint: str | None = None
        if step.incremental and inputs is not None and not missing:
            outputs = await self._digests(step.owns)
            current = Fingerprint(
                step.commands, dict(step.env), step.cwd, inputs, outputs, step.reads, step.owns
            )
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

    def _missing_outputs(self, step: PlanStep) -> list[str]:
        """Return the `owns` paths without wildcards that do not exist.

        A glob with wildcards may match nothing legitimately, such as
        `build/*.o` for a directory without sources, so only a literal path
        must exist after a success.
        """
        return [text for text in step.owns if is_literal(text) and not self._exists(text)]

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
            reasons.append(self._last_run(record.status))
        elif record.fingerprint is None:
            reasons.append(self._why_no_fingerprint(step))
        if record is not None and record.fingerprint is not None:
            recorded = Fingerprint.from_json(record.fingerprint)
            if recorded is None:
                reasons.append("its recorded fingerprint comes from another version of parc")
        # When the same `reads` matched files at the last success, the files
        # that went explain why they match none now, not a mistake in the spec.
        no_inputs = not reads_a_file and not _read_files_before(step, recorded)
        if no_inputs:
            reasons.append(_why_no_inputs(step))
        reasons.extend(self._dependency_reasons(step, dependencies_ran, record))
        if recorded is None or (reasons and not thorough):
            return reasons, recorded

        reasons.extend(definition_changes(recorded, step))
        changed_inputs = input_changes(recorded.reads, inputs, self._exists)
        if changed_inputs:
            reasons.extend(glob_change(recorded, step, "reads"))
            reasons.extend(changed_inputs)
        if reasons and not thorough:
            return reasons, recorded

        outputs = await self._digests(step.owns)
        changed_outputs = output_changes(recorded.owns, outputs, self._exists)
        if changed_outputs:
            reasons.extend(glob_change(recorded, step, "owns"))
            reasons.extend(changed_outputs)
        if not reads_a_file and not reasons:
            reasons.append(_why_no_inputs(step))  # no file change explains it after all
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

    def _last_run(self, status: str) -> str:
        """Say how the step's last run ended, from the status its record holds."""
        if status == RUNNING and self.predict:
            # A prediction takes no lock, so another parc may be running the step now.
            holder = lock_holder(self.root / STATE_DIR / LOCK_NAME)
            if holder is not None and holder != os.getpid():
                return f"another parc (process {holder}) is running it now"
        return LAST_RUN.get(status, f"its last run ended as {status}")

    def _why_no_fingerprint(self, step: PlanStep) -> str:
        """Say why a success left no fingerprint: a missing output, or an unreadable file."""
        missing = self._missing_outputs(step)
        if missing:
            return f"its last success did not create `{missing[0]}`, which it owns"
        return "its last success left no fingerprint (a file could not be read)"

    def _exists(self, path: str) -> bool:
        return os.path.lexists(self.root / path)

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
                before = self.cache.entries.get(path)
                if (
                    before is not None
                    and key is not None
                    and before.digest == digest
                    and before.key.mtime_ns != key.mtime_ns
                ):
                    self._modified.add(path)
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


def _read_files_before(step: PlanStep, recorded: Fingerprint | None) -> bool:
    """Tell whether the step's `reads`, as they are now, matched a file at its last success.

    Files it owns count too, as they do for the decision, though the
    fingerprint lists them among the outputs only.
    """
    if recorded is None:
        return False
    if recorded.read_globs is not None and tuple(recorded.read_globs) != tuple(step.reads):
        return False
    if recorded.reads:
        return True
    owned: dict[str, Found] = dict.fromkeys(recorded.owns, Found(digest=DIRECTORY))
    drop_covered(owned, step.reads)
    return len(owned) < len(recorded.owns)


def lock_holder(path: Path) -> int | None:
    """Return the id of the process that holds an exclusive `flock` on `path`, if any.

    It reads `/proc/locks` rather than trying the lock, which would make a
    parc that starts at that instant fail with `--no-wait`. Elsewhere than
    on Linux, and for a process in another PID namespace, it returns None.
    """
    try:
        status = os.stat(path)
        locks = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    device = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
    for line in locks.splitlines():
        fields = line.split()
        # `1: FLOCK  ADVISORY  WRITE 4242 08:01:131090 0 EOF`; the pid is 0
        # when its process is outside our PID namespace.
        if len(fields) < 6 or fields[1:4] != ["FLOCK", "ADVISORY", "WRITE"]:
            continue
        if fields[5] == device and fields[4].isdigit() and int(fields[4]) > 0:
            return int(fields[4])
    return None


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
