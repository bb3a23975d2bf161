"""A step's fingerprint, and the differences between two fingerprints in words.

The fingerprint of a step with both `reads` and `owns` holds its resolved
commands, its environment, its `cwd`, and the digest of every path its
`reads` and `owns` globs match. The state keeps the fingerprint of each
step's last success; the step is up to date while the current one is equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, NamedTuple

from parc.runtime.state.files import DIRECTORY, is_unreadable

if TYPE_CHECKING:
    from parc.plan import PlanStep

FINGERPRINT_VERSION = 1
MAX_SHOWN_TEXT = 60
CONTEXT_BEFORE_CHANGE = 20


class Fingerprint(NamedTuple):
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
    read_globs: tuple[str, ...] | None = None
    """The step's `reads` globs; None in a fingerprint from a parc that did not record them."""
    own_globs: tuple[str, ...] | None = None

    @property
    def complete(self) -> bool:
        """Whether every path could be read; an incomplete fingerprint is never stored."""
        digests = [*self.reads.values(), *self.owns.values()]
        return not any(is_unreadable(digest) for digest in digests)

    def to_json(self) -> str:
        return fingerprint_json(
            self.commands,
            self.env,
            self.cwd,
            self.reads,
            self.owns,
            self.read_globs,
            self.own_globs,
        )

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
                _optional_texts(data.get("read_globs")),
                _optional_texts(data.get("own_globs")),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _optional_texts(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise TypeError("a list of globs was expected")
    return tuple(str(text) for text in value)


def fingerprint_json(
    commands: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    reads: Mapping[str, str],
    owns: Mapping[str, str],
    read_globs: Sequence[str] | None = None,
    own_globs: Sequence[str] | None = None,
) -> str:
    """Return the canonical JSON text of a fingerprint, as the state stores it.

    Equal fingerprints give equal texts, so the no-op build compares texts
    without parsing the stored ones. The text is what `json.dumps` writes
    with `ensure_ascii=False` and no spaces, with the mappings sorted by
    key, joined here from its parts: that takes a third of the time.
    """
    text = (
        f'{{"version":{FINGERPRINT_VERSION},"commands":{_array(commands)},'
        f'"env":{_object(env)},"cwd":{encode_basestring(cwd)},'
        f'"reads":{_object(reads)},"owns":{_object(owns)}'
    )
    # Only for the wording of --explain: the decision compares files, not globs.
    if read_globs is not None:
        text += f',"read_globs":{_array(read_globs)}'
    if own_globs is not None:
        text += f',"own_globs":{_array(own_globs)}'
    return text + "}"


def _array(texts: Sequence[str]) -> str:
    return f"[{','.join(map(encode_basestring, texts))}]"


def _object(mapping: Mapping[str, str]) -> str:
    if len(mapping) == 1:  # the most common case, made quicker
        for key, value in mapping.items():
            return f"{{{encode_basestring(key)}:{encode_basestring(value)}}}"
    members = [
        f"{encode_basestring(key)}:{encode_basestring(value)}"
        for key, value in sorted(mapping.items())
    ]
    return f"{{{','.join(members)}}}"


def fingerprint_matches(
    text: str,
    commands: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    reads: Mapping[str, str],
    owns: Mapping[str, str],
    read_globs: Sequence[str],
    own_globs: Sequence[str],
) -> bool:
    """Tell whether the stored JSON `text` is the fingerprint with these values.

    It is when `Fingerprint.from_json(text)` equals them field by field, so
    no difference would be described; the globs do not count. The text
    that the same values give is compared first: a fingerprint stored
    with these globs has it exactly, and parsing the text costs more.
    """
    if text == fingerprint_json(commands, env, cwd, reads, owns, read_globs, own_globs):
        return True
    try:
        data = json.loads(text)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    data.pop("read_globs", None)
    data.pop("own_globs", None)
    expected = {
        "version": FINGERPRINT_VERSION,
        "commands": list(commands),
        "env": dict(env),
        "cwd": cwd,
        "reads": reads,
        "owns": owns,
    }
    return bool(data == expected)


def up_to_date_reason(
    inputs: Mapping[str, str], outputs: Mapping[str, str], modified: Sequence[str] = ()
) -> str:
    """Return why a step whose fingerprint is unchanged is up to date.

    The counts are of files: a directory that an `owns` glob matches has no
    content of its own. `modified` lists the inputs whose timestamp changed
    though their content did not, as after `touch`; the first is named.
    """
    files = sum(1 for digest in outputs.values() if digest != DIRECTORY)
    counts = f"{counted(len(inputs), 'input')}, {counted(files, 'output')}"
    reason = f"unchanged since its last success ({counts})"
    if len(modified) == 1:
        reason += f"; content unchanged though `{modified[0]}` was modified"
    elif modified:
        others = counted(len(modified) - 1, "other file")
        reason += f"; content unchanged though `{modified[0]}` and {others} were modified"
    return reason


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
            changes.append(f"command {number} changed {_change(old, new)}")

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
            changes.append(f"env `{name}` changed {_change(old_value, new_value)}")

    if step.cwd != recorded.cwd:
        changes.append(f"cwd changed from `{recorded.cwd}` to `{step.cwd}`")
    return changes


def glob_change(recorded: Fingerprint, step: PlanStep, keyword: str) -> list[str]:
    """Describe how the step's `reads` or `owns` globs differ from `recorded`.

    A changed glob is no reason to run by itself: the decision compares the
    files the globs match. It names the cause when those files changed.
    """
    if keyword == "reads":
        old_globs, new_globs = recorded.read_globs, step.reads
    else:
        old_globs, new_globs = recorded.own_globs, step.owns
    if old_globs is None or tuple(old_globs) == tuple(new_globs):
        return []
    return [f"`{keyword}` changed from {_globs(old_globs)} to {_globs(new_globs)}"]


def _globs(texts: Sequence[str]) -> str:
    return ", ".join(f"`{text}`" for text in texts) if texts else "nothing"


class _Phrases(NamedTuple):
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

Exists = Callable[[str], bool]
"""Tells whether a path relative to the project root exists on disk."""


def input_changes(
    recorded: Mapping[str, str], current: Mapping[str, str], exists: Exists | None = None
) -> list[str]:
    """Describe how the files that `reads` matches differ from `recorded`.

    A recorded path that the globs no longer match but `exists` finds on
    disk is named as no longer matched rather than deleted.
    """
    return _file_changes(_INPUT, "reads", recorded, current, exists)


def output_changes(
    recorded: Mapping[str, str], current: Mapping[str, str], exists: Exists | None = None
) -> list[str]:
    """Describe how the files that `owns` matches differ from `recorded`, like `input_changes`."""
    return _file_changes(_OUTPUT, "owns", recorded, current, exists)


def _file_changes(
    phrases: _Phrases,
    keyword: str,
    recorded: Mapping[str, str],
    current: Mapping[str, str],
    exists: Exists | None,
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
            matched = exists is not None and exists(path)
            verb = f"is no longer matched by its `{keyword}`" if matched else phrases.vanished
        else:
            verb = phrases.changed
        changes.append(f"{phrases.noun} `{path}` {verb}")
    return changes


def counted(number: int, noun: str) -> str:
    """Return `number` with `noun`, in the plural unless it is 1."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _change(old: str, new: str) -> str:
    """Describe the change between two different texts, as `from 'a' to 'b'` in backticks.

    Runs of whitespace count as one space, so a reflowed command reads
    well, unless whitespace is all that changed: then both texts are shown
    with their whitespace made visible (`·` for a space, `\\t`, `\\n`).
    """
    squeezed_old = " ".join(old.split())
    squeezed_new = " ".join(new.split())
    if squeezed_old != squeezed_new:
        before, after = _shown_pair(squeezed_old, squeezed_new)
        return f"from {before} to {after}"
    before, after = _shown_pair(_visible_whitespace(old), _visible_whitespace(new))
    return f"only in whitespace, from {before} to {after}"


_VISIBLE_WHITESPACE = str.maketrans({" ": "·", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _visible_whitespace(text: str) -> str:
    return text.translate(_VISIBLE_WHITESPACE)


def _shown_pair(old: str, new: str) -> tuple[str, str]:
    """Quote two versions of a text, cut to a readable length around their first difference."""
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
