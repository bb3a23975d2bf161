"""The canonical text of a fingerprint, and the comparison the no-op build makes with it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import hypothesis.strategies as st
from hypothesis import given

from parc.runtime.state.fingerprint import (
    FINGERPRINT_VERSION,
    fingerprint_json,
    fingerprint_matches,
)

# Quotes, backslashes, control characters, non-ASCII and lone surrogates
# (from undecodable file names) are what an encoder can get wrong.
texts = st.text(st.one_of(st.characters(), st.sampled_from('"\\\n\t\x00\x7f\u2028/')), max_size=8)
mappings = st.dictionaries(texts, texts, max_size=3)
lists = st.lists(texts, max_size=3)


def _reference(
    commands: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    reads: Mapping[str, str],
    owns: Mapping[str, str],
    read_globs: Sequence[str] | None,
    own_globs: Sequence[str] | None,
) -> str:
    """The text as `json.dumps` writes it, which fingerprints stored before matched."""
    data: dict[str, object] = {
        "version": FINGERPRINT_VERSION,
        "commands": list(commands),
        "env": dict(sorted(env.items())),
        "cwd": cwd,
        "reads": dict(sorted(reads.items())),
        "owns": dict(sorted(owns.items())),
    }
    if read_globs is not None:
        data["read_globs"] = list(read_globs)
    if own_globs is not None:
        data["own_globs"] = list(own_globs)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@given(lists, mappings, texts, mappings, mappings, st.none() | lists, st.none() | lists)
def test_text_is_what_json_dumps_writes(
    commands: list[str],
    env: dict[str, str],
    cwd: str,
    reads: dict[str, str],
    owns: dict[str, str],
    read_globs: list[str] | None,
    own_globs: list[str] | None,
) -> None:
    expected = _reference(commands, env, cwd, reads, owns, read_globs, own_globs)
    text = fingerprint_json(commands, env, cwd, reads, owns, read_globs, own_globs)
    assert text == expected
    assert json.loads(text) == json.loads(expected)


@given(lists, mappings, texts, mappings, mappings, lists, lists)
def test_matches_its_own_text_and_one_without_globs(
    commands: list[str],
    env: dict[str, str],
    cwd: str,
    reads: dict[str, str],
    owns: dict[str, str],
    read_globs: list[str],
    own_globs: list[str],
) -> None:
    values = (commands, env, cwd, reads, owns)
    stored = fingerprint_json(*values, read_globs, own_globs)
    assert fingerprint_matches(stored, *values, read_globs, own_globs)
    # Stored with other globs, or by a parc that recorded none: parsed, still equal.
    assert fingerprint_matches(stored, *values, [*read_globs, "x"], own_globs)
    assert fingerprint_matches(fingerprint_json(*values), *values, read_globs, own_globs)


@given(lists, mappings, texts, mappings, mappings, texts)
def test_fingerprint_changed_digest_mismatch(
    commands: list[str],
    env: dict[str, str],
    cwd: str,
    reads: dict[str, str],
    owns: dict[str, str],
    path: str,
) -> None:
    stored = fingerprint_json(commands, env, cwd, reads, owns, [], [])
    changed = {**reads, path: reads.get(path, "") + "0"}
    assert not fingerprint_matches(stored, commands, env, cwd, changed, owns, [], [])
    assert not fingerprint_matches("not json", commands, env, cwd, reads, owns, [], [])
