"""A step's fingerprint, and the differences between two fingerprints in words.

The fingerprint of a step with both `reads` and `owns` holds its resolved
commands, its environment, its `cwd`, and the digest of every path its
`reads` and `owns` globs match. The state keeps the fingerprint of each
step's last success; the step is up to date while the current one is equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from parc.runtime.state.files import is_unreadable

if TYPE_CHECKING:
    from parc.plan import PlanStep

FINGERPRINT_VERSION = 1
MAX_SHOWN_TEXT = 60
CONTEXT_BEFORE_CHANGE = 20


@attrs.frozen
class Fingerprint:
    """What a step's last success depended on.

    `reads` and `owns` map each matched path to its digest. A path that both
    a `reads` and an `owns` glob of the step match counts as owned only: its
    content after the step's success is what matters.
    """

    commands: tuple[str, ...]
    env: Mapping[str, str]
    cwd: str
    reads: Mapping[str, str]
    owns: Mapping[str, str]

    @property
    def complete(self) -> bool:
        """Whether every path could be read; an incomplete fingerprint is never stored."""
        digests = [*self.reads.values(), *self.owns.values()]
        return not any(is_unreadable(digest) for digest in digests)

    def to_json(self) -> str:
        return fingerprint_json(self.commands, self.env, self.cwd, self.reads, self.owns)

    @classmethod
    def from_json(cls, text: str) -> Fingerprint | None:
        """Parse `to_json` output; return None for text of another version or shape."""
        try:
            data: Any = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("version") != FINGERPRINT_VERSION:
            return None
        try:
            return cls(
                tuple(data["commands"]),
                dict(data["env"]),
                str(data["cwd"]),
                dict(data["reads"]),
                dict(data["owns"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def fingerprint_json(
    commands: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    reads: Mapping[str, str],
    owns: Mapping[str, str],
) -> str:
    """Return the canonical JSON text of a fingerprint, as the state stores it.

    Equal fingerprints give equal texts, so the no-op build compares texts
    without parsing the stored ones.
    """
    data = {
        "version": FINGERPRINT_VERSION,
        "commands": list(commands),
        "env": dict(sorted(env.items())),
        "cwd": cwd,
        "reads": dict(sorted(reads.items())),
        "owns": dict(sorted(owns.items())),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def fingerprint_matches(
    text: str,
    commands: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    reads: Mapping[str, str],
    owns: Mapping[str, str],
) -> bool:
    """Tell whether the stored JSON `text` is the fingerprint with these values.

    It is when `Fingerprint.from_json(text)` equals them field by field, so
    no difference would be described; parsing the stored text costs half of
    writing the current one with `fingerprint_json`.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return False
    expected = {
        "version": FINGERPRINT_VERSION,
        "commands": list(commands),
        "env": dict(env),
        "cwd": cwd,
        "reads": reads,
        "owns": owns,
    }
    return bool(data == expected)


def up_to_date_reason(inputs: int, outputs: int) -> str:
    """Return why a step whose fingerprint is unchanged is up to date."""
    counts = f"{counted(inputs, 'input')}, {counted(outputs, 'output')}"
    return f"unchanged since its last success ({counts})"


def definition_changes(recorded: Fingerprint, step: PlanStep) -> list[str]:
    """Describe how the step's commands, environment and `cwd` differ from `recorded`."""
    changes: list[str] = []
    commands = step.commands
    if len(commands) != len(recorded.commands):
        changes.append(
            f"it has {counted(len(commands), 'command')}, "
            f"its last success had {len(recorded.commands)}"
        )
    for number, (old, new) in enumerate(zip(recorded.commands, commands, strict=False), 1):
        if old != new:
            before, after = _shown_pair(old, new)
            changes.append(f"command {number} changed from {before} to {after}")

    env = dict(step.env)
    for name in sorted(env.keys() | recorded.env.keys()):
        old_value = recorded.env.get(name)
        new_value = env.get(name)
        if old_value == new_value:
            continue
        if old_value is None:
            changes.append(f"env `{name}` is new")
        elif new_value is None:
            changes.append(f"env `{name}` was removed")
        else:
            before, after = _shown_pair(old_value, new_value)
            changes.append(f"env `{name}` changed from {before} to {after}")

    if step.cwd != recorded.cwd:
        changes.append(f"cwd changed from `{recorded.cwd}` to `{step.cwd}`")
    return changes


@attrs.frozen
class _Phrases:
    """How changes to one kind of file read: `noun` `path` then one of the verbs."""

    noun: str
    appeared: str
    vanished: str
    changed: str


_INPUT = _Phrases("input", "is new", "was deleted", "changed")
_OUTPUT = _Phrases(
    "output",
    "appeared after its last success",
    "is missing",
    "changed after its last success",
)


def input_changes(recorded: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """Describe how the files that `reads` matches differ from `recorded`."""
    return _file_changes(_INPUT, recorded, current)


def output_changes(recorded: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """Describe how the files that `owns` matches differ from `recorded`."""
    return _file_changes(_OUTPUT, recorded, current)


def _file_changes(
    phrases: _Phrases, recorded: Mapping[str, str], current: Mapping[str, str]
) -> list[str]:
    changes: list[str] = []
    for path in sorted(recorded.keys() | current.keys()):
        old = recorded.get(path)
        new = current.get(path)
        if new is not None and is_unreadable(new):
            verb = f"is {new}"
        elif old == new:
            continue
        elif old is None:
            verb = phrases.appeared
        elif new is None:
            verb = phrases.vanished
        else:
            verb = phrases.changed
        changes.append(f"{phrases.noun} `{path}` {verb}")
    return changes


def counted(number: int, noun: str) -> str:
    """Return `number` with `noun`, in the plural unless it is 1."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _shown_pair(old: str, new: str) -> tuple[str, str]:
    """Quote two versions of a text, cut to a readable length around their first difference."""
    old = " ".join(old.split())
    new = " ".join(new.split())
    common = 0
    while common < min(len(old), len(new)) and old[common] == new[common]:
        common += 1
    start = max(0, common - CONTEXT_BEFORE_CHANGE)
    return _cut(old, start), _cut(new, start)


def _cut(text: str, start: int) -> str:
    head = "..." if start > 0 else ""
    body = text[start:]
    if len(body) > MAX_SHOWN_TEXT:
        body = body[: MAX_SHOWN_TEXT - 3] + "..."
    return f"`{head}{body}`"
