"""The compiled-plan cache: a hit returns what a compile returns; anything doubtful is a miss."""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path

import pytest

from parc.cli import plan_cache as cache
from parc.compiler import Compiled, compile_source
from parc.source import Source

SPECS = Path(__file__).parents[2] / "specs"

WARNINGS_SPEC = """\
let unused = "x"
pool link = 1
env LC_ALL = "C"

track lib {
    desc "the {{step}} library"
    reads "src/*.c", "include/core.h"
    owns "build/lib/**"
    run "make lib"
    timeout 30s
    retries 2
}

track cli after lib {
    reads "build/lib/lib.a", "docs/*.md"
    env CC = "clang"
    cwd "cli"
}

integrate release {
    run "tar czf release.tgz build"
}

default release
"""


def compile_text(text: str, root: Path, overrides: dict[str, str] | None = None) -> Compiled:
    return compile_source(Source("build.par", text), overrides or {}, root=root)


def key_of(text: str, root: Path, overrides: dict[str, str] | None = None) -> bytes:
    return cache.cache_key(text.encode(), "build.par", root, overrides or {})


def stored(root: Path, text: str) -> tuple[Compiled, bytes]:
    compiled = compile_text(text, root)
    key = key_of(text, root)
    cache.store(root, key, compiled)
    return compiled, key


def assert_same_compile(hit: Compiled, compiled: Compiled) -> None:
    assert hit.plan == compiled.plan
    assert hit.warnings == compiled.warnings
    assert hit.unowned_reads == compiled.unowned_reads
    assert hit.source is compiled.source


def test_hit_returns_plan_warnings_and_unowned_reads(tmp_path: Path) -> None:
    compiled, key = stored(tmp_path, WARNINGS_SPEC)
    assert [warning.code.id for warning in compiled.warnings] == ["W0102", "W0103", "W0101"]
    assert len(compiled.unowned_reads) == 3

    hit = cache.load(tmp_path, key, compiled.source or Source("build.par", ""))
    assert hit is not None
    assert_same_compile(hit, compiled)
    assert hit.plan.to_json() == compiled.plan.to_json()


@pytest.mark.parametrize(
    "spec", sorted(SPECS.glob("*/build.par")), ids=lambda path: path.parent.name
)
def test_hit_matches_compile_of_example(spec: Path) -> None:
    root = spec.parent
    text = spec.read_text(encoding="utf-8")
    compiled = compile_text(text, root)
    payload = cache._encode(compiled)
    assert payload is not None
    assert compiled.source is not None
    assert_same_compile(cache._decode(marshal.loads(payload), compiled.source), compiled)


def test_key_depends_on_every_input(tmp_path: Path) -> None:
    text = 'let cc = "gcc"\ntrack a {\n    run "{{cc}}"\n}\n'
    key = key_of(text, tmp_path)
    assert key == key_of(text, tmp_path)
    others = [
        key_of(text + "\n", tmp_path),
        key_of(text, tmp_path, {"cc": "clang"}),
        key_of(text, tmp_path / "sub"),
        cache.cache_key(text.encode(), "../build.par", tmp_path, {}),
    ]
    assert key not in others
    assert len(set(others)) == len(others)


def test_key_separates_overrides_from_each_other(tmp_path: Path) -> None:
    text = 'let a = ""\nlet b = ""\ntrack t {\n    run "{{a}}{{b}}"\n}\n'
    assert key_of(text, tmp_path, {"a": "x=y"}) != key_of(text, tmp_path, {"a": "x", "b": "y"})
    assert key_of(text, tmp_path, {"a": "1", "b": "2"}) == key_of(
        text, tmp_path, {"b": "2", "a": "1"}
    )


def test_other_key_is_miss(tmp_path: Path) -> None:
    compiled, _ = stored(tmp_path, WARNINGS_SPEC)
    assert compiled.source is not None
    other = key_of(WARNINGS_SPEC, tmp_path, {"unused": "y"})
    assert cache.load(tmp_path, other, compiled.source) is None


def test_missing_cache_is_miss(tmp_path: Path) -> None:
    source = Source("build.par", WARNINGS_SPEC)
    assert cache.load(tmp_path, key_of(WARNINGS_SPEC, tmp_path), source) is None


@pytest.mark.parametrize(
    "damage",
    ["empty", "truncated header", "truncated payload", "flipped byte", "not a cache"],
)
def test_damaged_cache_is_miss(tmp_path: Path, damage: str) -> None:
    compiled, key = stored(tmp_path, WARNINGS_SPEC)
    assert compiled.source is not None
    path = cache.cache_path(tmp_path)
    data = path.read_bytes()
    damaged = {
        "empty": b"",
        "truncated header": data[:40],
        "truncated payload": data[:-10],
        "flipped byte": data[:-5] + bytes([data[-5] ^ 0x01]) + data[-4:],
        "not a cache": b"track a {\n}\n" * 20,
    }[damage]
    path.write_bytes(damaged)
    assert cache.load(tmp_path, key, compiled.source) is None


def test_payload_of_another_layout_is_miss(tmp_path: Path) -> None:
    """A file with the right key and digest, but tuples of another shape, is a miss."""
    compiled, key = stored(tmp_path, WARNINGS_SPEC)
    assert compiled.source is not None
    for payload in [marshal.dumps((1, 2)), marshal.dumps(None), b"\xff\xfe"]:
        digest = hashlib.blake2b(payload, digest_size=32).digest()
        cache.cache_path(tmp_path).write_bytes(cache._MAGIC + key + digest + payload)
        assert cache.load(tmp_path, key, compiled.source) is None


def test_store_replaces_the_entry(tmp_path: Path) -> None:
    first, first_key = stored(tmp_path, WARNINGS_SPEC)
    second_text = 'track only {\n    run "x"\n}\n'
    second, second_key = stored(tmp_path, second_text)
    assert first.source is not None
    assert second.source is not None
    assert cache.load(tmp_path, first_key, first.source) is None
    hit = cache.load(tmp_path, second_key, second.source)
    assert hit is not None
    assert_same_compile(hit, second)
    assert sorted(os.listdir(tmp_path / ".parc")) == [".gitignore", "plan-cache"]


def test_store_without_a_writable_directory(tmp_path: Path) -> None:
    (tmp_path / ".parc").write_text("a file where the directory should be", encoding="utf-8")
    compiled, key = stored(tmp_path, WARNINGS_SPEC)
    assert compiled.source is not None
    assert cache.load(tmp_path, key, compiled.source) is None
    assert (tmp_path / ".parc").read_text(encoding="utf-8").startswith("a file")


def test_key_depends_on_values_not_objects(tmp_path: Path) -> None:
    """Equal inputs built as different objects (interned or not) give the same key."""
    text = 'let cc = "gcc"\ntrack a {\n    run "{{cc}}"\n}\n'
    built = {"".join(["c", "c"]): "".join(["g", "cc"])}
    assert key_of(text, tmp_path, {"cc": "gcc"}) == key_of(text, tmp_path, built)
    name = "".join(["build", ".par"])
    assert cache.cache_key(text.encode(), name, Path(str(tmp_path)), {}) == key_of(text, tmp_path)


def test_key_changes_when_parc_changes(tmp_path: Path) -> None:
    """A new modification time on one of parc's source files is another key."""
    text = 'track a {\n    run "x"\n}\n'
    module = Path(cache.__file__)
    before = module.stat()
    key = key_of(text, tmp_path)
    try:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        assert key_of(text, tmp_path) != key
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert key_of(text, tmp_path) == key
