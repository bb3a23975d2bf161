"""Globs: parsing, matching, and the exact overlap test.

One definition serves the compiler (which decides whether two globs can match
the same path) and the runtime (which matches the files on disk), so the two
can never disagree.

Paths are relative, use `/`, and consist of one or more segments; a segment is
a non-empty name other than `.` and `..`. In a glob:

- `*` matches any run of characters within one segment, the empty run included;
- `?` matches one character other than `/`;
- `[abc]`, `[a-z]` and `[!abc]` match one character from (or not from) a set;
  a `]` right after `[` or `[!` is a member, and so is a `-` at either end;
- `**` as a whole segment matches zero or more segments, so `a/**` matches
  `a` and everything below it, and `a/**/b` matches `a/b`;
- every other character, `\\` included, matches itself.

`*` and `?` also match a leading `.`: parc has no hidden files.

A `reads` or `owns` glob stands for the paths it matches and everything below
them, as if `/**` followed it (`Glob.covering`), so `reads "build"` covers the
files inside `build`. The runtime and the compiler both use that rule, through
`Glob.covers` and `overlap_covering`.

The overlap test intersects the globs' automata, together with an automaton
for valid paths, by breadth-first search, so it is exact and the example it
returns is a shortest path that both globs match.
"""

from __future__ import annotations

import bisect
import enum
import functools
import itertools
import os
import re
from collections import deque
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import attrs

MAX_CODEPOINT = 0x10FFFF
SLASH = ord("/")
DOT = ord(".")

Interval = tuple[int, int]


@attrs.frozen
class CharSet:
    """A set of characters as sorted, disjoint, non-adjacent closed intervals of code points."""

    intervals: tuple[Interval, ...]

    @classmethod
    def of(cls, *chars: str) -> CharSet:
        if len(chars) == 1:
            code = ord(chars[0])
            return cls(((code, code),))
        return cls.from_intervals([(ord(char), ord(char)) for char in chars])

    @classmethod
    def from_intervals(cls, intervals: Sequence[Interval]) -> CharSet:
        merged: list[Interval] = []
        for low, high in sorted(intervals):
            if merged and low <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        return cls(tuple(merged))

    def __and__(self, other: CharSet) -> CharSet:
        result: list[Interval] = []
        i = j = 0
        while i < len(self.intervals) and j < len(other.intervals):
            low = max(self.intervals[i][0], other.intervals[j][0])
            high = min(self.intervals[i][1], other.intervals[j][1])
            if low <= high:
                result.append((low, high))
            if self.intervals[i][1] < other.intervals[j][1]:
                i += 1
            else:
                j += 1
        return CharSet(tuple(result))

    def __sub__(self, other: CharSet) -> CharSet:
        return self & other.complement()

    def complement(self) -> CharSet:
        result: list[Interval] = []
        next_low = 1
        for low, high in self.intervals:
            if low > next_low:
                result.append((next_low, low - 1))
            next_low = high + 1
        if next_low <= MAX_CODEPOINT:
            result.append((next_low, MAX_CODEPOINT))
        return CharSet(tuple(result))

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __contains__(self, char: str) -> bool:
        code = ord(char)
        return any(low <= code <= high for low, high in self.intervals)

    def example(self) -> str:
        """Return a readable member: a lower-case letter, a digit or `_` if there is one."""
        for preferred in _PREFERRED:
            found = self & preferred
            if found:
                return chr(found.intervals[0][0])
        return chr(self.intervals[0][0])

    def to_regex(self) -> str:
        """Return a regex for one character of the set, as short as it can be.

        A set that excludes a few characters, such as `[!abc]`, is written as a
        negated class of what it excludes. Characters are written as they are,
        escaped where `re` needs it, so the pattern stays readable.
        """
        if len(self.intervals) == 1 and self.intervals[0][0] == self.intervals[0][1]:
            return re.escape(chr(self.intervals[0][0]))
        # NUL never occurs in a path, so a class may match it or not.
        excluded = ALL - self
        if len(excluded.intervals) < len(self.intervals):
            return "[^" + _class_body(excluded) + "]"
        return "[" + _class_body(self) + "]"


def _class_body(chars: CharSet) -> str:
    parts = []
    for low, high in chars.intervals:
        if low == high:
            parts.append(_class_char(low))
        elif low + 1 == high:
            parts.append(_class_char(low) + _class_char(high))
        else:
            parts.append(f"{_class_char(low)}-{_class_char(high)}")
    return "".join(parts)


def _class_char(code: int) -> str:
    char = chr(code)
    return "\\" + char if char in "\\]^-[" else char


ALL = CharSet(((1, MAX_CODEPOINT),))
"""Every character that may appear in a path (NUL never does)."""

NAME_CHARS = ALL - CharSet.of("/")
"""Every character that may appear in a path segment."""

_PREFERRED = (
    CharSet((((ord("a"), ord("z"))),)),
    CharSet((((ord("0"), ord("9"))),)),
    CharSet.of("_", "-"),
    CharSet((((ord("A"), ord("Z"))),)),
)


class GlobError(ValueError):
    """An invalid glob.

    `offset` and `width` give the offending characters as an index into
    the text and a length, so an error can underline them.
    """

    def __init__(self, message: str, offset: int, help: str, width: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.help = help
        self.width = width


class PathEscape(GlobError):
    """A glob whose `..` segments leave the root."""


class AbsolutePath(GlobError):
    """A glob that starts with `/`."""


class TokenKind(enum.Enum):
    CHAR = "char"  # one character from a set: a literal, `?` or a class
    STAR = "star"  # `*`


@attrs.frozen
class Token:
    kind: TokenKind
    chars: CharSet


Segment = tuple[Token, ...] | None
"""The tokens of one glob segment, or None for `**`."""


@attrs.frozen
class Glob:
    """A parsed, normalised glob.

    `text` is the normalised form: `./` and empty segments removed, and each
    `..` applied to the segment before it. It determines everything else, so
    two globs are equal when their texts are. A text without `*`, `?` or `[`
    is plain: it matches the one path it spells, and its segments are only
    built if a caller asks for them.
    """

    text: str

    @cached_property
    def is_plain(self) -> bool:
        """Whether the text has no `*`, `?` or `[`, so it matches exactly itself."""
        return _is_plain(self.text)

    @cached_property
    def segments(self) -> tuple[Segment, ...]:
        """The tokens of each segment, None for `**`."""
        return tuple(None if raw == "**" else _segment_tokens(raw) for raw in self.text.split("/"))

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The glob as a regular expression that matches `path + "/"`."""
        parts = []
        for segment in self.segments:
            if segment is None:
                parts.append("(?:[^/]+/)*")
            else:
                parts.append(_segment_regex(segment) + "/")
        return re.compile("".join(parts))

    def match(self, path: str) -> bool:
        """Tell whether the normalised relative `path` matches."""
        if self.is_plain:
            return path == self.text
        return self.regex.fullmatch(path + "/") is not None

    @cached_property
    def names(self) -> tuple[str | None, ...]:
        """Each segment's text if it has no wildcard, else None."""
        if self.is_plain:
            return tuple(self.text.split("/"))
        return tuple(
            raw if _is_plain(raw) else None if raw == "**" else _literal_text(_segment_tokens(raw))
            for raw in self.text.split("/")
        )

    @property
    def is_literal(self) -> bool:
        """Whether the glob has no wildcard, so it matches at most one path."""
        return None not in self.names

    @cached_property
    def literal_path(self) -> str | None:
        """The one path a glob without wildcards matches, or None.

        None also when the glob has wildcards. A glob such as `[.]` has no
        wildcard but matches no path, because `.` is not a path segment; it
        gets the empty string.
        """
        if self.is_plain:
            return self.text
        names = self.names
        if None in names:
            return None
        if "." in names or ".." in names:
            return ""
        return "/".join(name for name in names if name is not None)

    @cached_property
    def literal_prefix(self) -> tuple[str, ...]:
        """The leading segments that are plain names, without any wildcard."""
        if self.is_plain:
            return tuple(self.text.split("/"))
        prefix = []
        for name in self.names:
            if name is None:
                break
            prefix.append(name)
        return tuple(prefix)

    @property
    def has_recursive(self) -> bool:
        return any(segment is None for segment in self.segments)

    @cached_property
    def covering(self) -> Glob:
        """The glob `G/**`: what this glob matches, and everything below it.

        parc reads every `reads` and `owns` glob this way, so a glob that
        matches a directory stands for the files inside it too. `**` matches
        zero segments, so `G/**` still matches every path that `G` matches.
        """
        if self.text == "**" or self.text.endswith("/**"):
            return self
        return Glob(self.text + "/**")

    def covers(self, path: str) -> bool:
        """Tell whether `path` or a directory above it matches the glob."""
        return self.covering.match(path)

    def segment_patterns(self) -> list[re.Pattern[str] | None]:
        """Return one regex per segment (None for `**`), for walking directories."""
        return [None if raw == "**" else _segment_pattern(raw) for raw in self.text.split("/")]

    @cached_property
    def automaton(self) -> _Automaton:
        return _compile(self)

    def __str__(self) -> str:
        return self.text


def _segment_regex(segment: tuple[Token, ...]) -> str:
    return "".join(
        "[^/]*" if token.kind is TokenKind.STAR else token.chars.to_regex() for token in segment
    )


def _literal_text(segment: Segment) -> str | None:
    if segment is None:
        return None
    chars = []
    for token in segment:
        if token.kind is TokenKind.STAR:
            return None
        intervals = token.chars.intervals
        if len(intervals) != 1 or intervals[0][0] != intervals[0][1]:
            return None
        chars.append(chr(intervals[0][0]))
    return "".join(chars)


def parse_glob(text: str) -> Glob:
    """Parse and normalise a glob.

    Raises:
        GlobError: the glob is empty, has an unclosed or empty `[`, or a `**`
            that is not a whole segment.
        AbsolutePath: the glob starts with `/`.
        PathEscape: a `..` segment leaves the root.
    """
    if _is_plain(text) and "\0" not in text:
        names = text.split("/")
        if "" not in names and "." not in names and ".." not in names:
            # Already normal, as most paths in a spec are. Filling in the
            # properties now skips attrs' slower first access to each.
            glob = Glob(text)
            prefix = tuple(names)
            _set_cached(glob, "is_plain", True)
            _set_cached(glob, "names", prefix)
            _set_cached(glob, "literal_prefix", prefix)
            _set_cached(glob, "literal_path", text)
            return glob
    if not text:
        raise GlobError("empty glob", 0, "write a path relative to the spec's directory")
    kept = _normal_segments(text)
    if not kept:
        raise GlobError(
            f"`{text}` names the project root itself, not a file",
            0,
            "name the files inside it, such as `**`",
            width=len(text),
        )
    # Parsing the segments here reports errors at their offsets in `text`.
    # Plain segments cannot be invalid.
    for raw, start in kept:
        if raw != "**" and not _is_plain(raw):
            _located_segment(raw, start)
    return Glob("/".join(raw for raw, _ in kept))


def _located_segment(raw: str, start: int) -> tuple[Token, ...]:
    """Parse a segment that starts at offset `start` of its glob.

    Raises:
        GlobError: at its offset in the glob.
    """
    try:
        return _segment_tokens(raw)
    except GlobError as error:
        raise GlobError(error.message, start + error.offset, error.help, error.width) from None


@functools.lru_cache(maxsize=4096)
def _segment_tokens(raw: str) -> tuple[Token, ...]:
    """Parse a segment, once for all the globs that share it, such as `*.c`."""
    return _parse_segment(raw, 0)


@functools.lru_cache(maxsize=4096)
def _segment_pattern(raw: str) -> re.Pattern[str]:
    return re.compile(_segment_regex(_segment_tokens(raw)))


def _is_plain(text: str) -> bool:
    return "*" not in text and "?" not in text and "[" not in text


def _set_cached(glob: Glob, name: str, value: object) -> None:
    """Store the value of one of the glob's cached properties, computed already."""
    object.__setattr__(glob, name, value)


def _normal_segments(text: str) -> list[tuple[str, int]]:
    """Apply `./`, `//` and `..` to a relative path or glob.

    Returns the segments that remain, each with its offset in `text`.

    Raises:
        AbsolutePath: the text starts with `/`.
        PathEscape: a `..` segment leaves the root.
        GlobError: the text contains a NUL character, or a `..` follows `**`.
    """
    if text.startswith("/"):
        raise AbsolutePath(
            f"absolute path `{text}`",
            0,
            "paths are relative to the directory of the spec file; remove the leading `/`",
        )
    if "\0" in text:
        raise GlobError("a path cannot contain the NUL character", text.index("\0"), "remove it")

    kept: list[tuple[str, int]] = []
    offset = 0
    for raw in text.split("/"):
        start = offset
        offset += len(raw) + 1
        if raw in ("", "."):
            continue
        if raw == "..":
            if kept and kept[-1][0] == "**":
                raise GlobError(
                    "`..` after `**` is ambiguous",
                    start,
                    "write the directories out, or remove the `**/..`",
                    width=2,
                )
            if not kept:
                raise PathEscape(
                    f"`{text}` leaves the project root",
                    start,
                    "paths must stay inside the directory of the spec file",
                    width=2,
                )
            kept.pop()
            continue
        if raw == "**" and kept and kept[-1][0] == "**":
            continue  # `**/**` matches what `**` matches
        kept.append((raw, start))
    return kept


def _parse_segment(raw: str, start: int) -> tuple[Token, ...]:
    tokens: list[Token] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "*":
            if index + 1 < len(raw) and raw[index + 1] == "*":
                raise GlobError(
                    "`**` must be a whole path segment",
                    start + index,
                    "use `*` within a name, or `/**/` for any number of directories",
                    width=2,
                )
            if not tokens or tokens[-1].kind is not TokenKind.STAR:
                tokens.append(Token(TokenKind.STAR, NAME_CHARS))
            index += 1
        elif char == "?":
            tokens.append(Token(TokenKind.CHAR, NAME_CHARS))
            index += 1
        elif char == "[":
            chars, index = _parse_class(raw, index, start)
            tokens.append(Token(TokenKind.CHAR, chars))
        else:
            tokens.append(_literal_token(char))
            index += 1
    return tuple(tokens)


@functools.lru_cache(maxsize=4096)
def _literal_token(char: str) -> Token:
    return Token(TokenKind.CHAR, CharSet.of(char))


def _parse_class(raw: str, index: int, start: int) -> tuple[CharSet, int]:
    """Parse the class that opens at `raw[index]`; return it and the index after `]`."""
    opening = index
    index += 1
    negated = index < len(raw) and raw[index] == "!"
    if negated:
        index += 1
    members: list[Interval] = []
    first = True
    while True:
        if index >= len(raw):
            raise GlobError(
                "unclosed `[` in glob",
                start + opening,
                "close the class with `]`, or write `[[]` for a literal `[`",
            )
        char = raw[index]
        if char == "]" and not first:
            index += 1
            break
        first = False
        if index + 2 < len(raw) and raw[index + 1] == "-" and raw[index + 2] != "]":
            low, high = ord(char), ord(raw[index + 2])
            if low > high:
                raise GlobError(
                    f"invalid range `{char}-{raw[index + 2]}` in glob",
                    start + index,
                    f"write the lower bound first: `{raw[index + 2]}-{char}`",
                    width=3,
                )
            members.append((low, high))
            index += 3
        else:
            members.append((ord(char), ord(char)))
            index += 1

    chars = CharSet.from_intervals(members)
    chars = NAME_CHARS - chars if negated else chars & NAME_CHARS
    if not chars:
        raise GlobError(
            "character class matches no character",
            start + opening,
            "a class cannot match `/`; list at least one other character",
            width=index - opening,
        )
    return chars, index


# The automata.
#
# A glob is compiled to a nondeterministic automaton over `path + "/"`: each
# ordinary segment consumes its characters and then a `/`, and `**` loops over
# whole `name/` runs. Appending the `/` makes every segment end the same way,
# so `**` needs no special case for the first or last position.


@attrs.frozen
class _Automaton:
    """A glob's automaton with its epsilon moves already followed.

    `moves[state]` lists the edges that leave any state in the epsilon
    closure of `state`. `accepts[state]` is True when that closure contains
    the accepting state.
    """

    moves: tuple[tuple[tuple[CharSet, int], ...], ...]
    accepts: tuple[bool, ...]


def _compile(glob: Glob) -> _Automaton:
    edges: list[list[tuple[CharSet, int]]] = [[]]
    epsilon: list[list[int]] = [[]]

    def new_state() -> int:
        edges.append([])
        epsilon.append([])
        return len(edges) - 1

    current = 0
    for segment in glob.segments:
        if segment is None:
            inside = new_state()
            after = new_state()
            edges[current].append((NAME_CHARS, inside))
            edges[inside].append((NAME_CHARS, inside))
            edges[inside].append((_SLASH_SET, current))
            epsilon[current].append(after)
            current = after
            continue
        for token in segment:
            if token.kind is TokenKind.STAR:
                edges[current].append((token.chars, current))
            else:
                target = new_state()
                edges[current].append((token.chars, target))
                current = target
        target = new_state()
        edges[current].append((_SLASH_SET, target))
        current = target

    accepting = current
    moves = []
    accepts = []
    for state in range(len(edges)):
        closure = [state]
        for member in closure:  # the list grows while it is walked
            closure.extend(nxt for nxt in epsilon[member] if nxt not in closure)
        moves.append(tuple(edge for member in closure for edge in edges[member]))
        accepts.append(accepting in closure)
    return _Automaton(tuple(moves), tuple(accepts))


# The automaton of valid paths: segments that are non-empty and neither `.` nor `..`.
_V_INITIAL, _V_START, _V_DOT, _V_DOTDOT, _V_NAME = range(5)
_DOT_SET = CharSet.of(".")
_SLASH_SET = CharSet.of("/")
_OTHER_SET = NAME_CHARS - _DOT_SET
_VALID_MOVES: tuple[tuple[tuple[CharSet, int], ...], ...] = (
    ((_DOT_SET, _V_DOT), (_OTHER_SET, _V_NAME)),
    ((_DOT_SET, _V_DOT), (_OTHER_SET, _V_NAME)),
    ((_DOT_SET, _V_DOTDOT), (_OTHER_SET, _V_NAME)),
    ((NAME_CHARS, _V_NAME),),
    ((NAME_CHARS, _V_NAME), (_SLASH_SET, _V_START)),
)


def overlap_covering(first: Glob, second: Glob) -> str | None:
    """Return a shortest path that both globs cover, or None if there is none.

    The result equals `overlap(first.covering, second.covering)`. A glob
    without wildcards, the common case in large specs, takes a shortcut that
    needs no automaton.
    """
    first_path, second_path = first.literal_path, second.literal_path
    if first_path is not None and second_path is not None:
        if not first_path or not second_path:
            return None  # a glob such as `[.]` matches no path
        shorter, longer = sorted((first_path, second_path), key=len)
        # `shorter` covers everything that `longer` covers, and `longer` is its shortest.
        return longer if longer == shorter or longer.startswith(shorter + "/") else None

    for literal, other in ((first, second), (second, first)):
        path = literal.literal_path
        if path is None:
            continue
        if not path:
            return None
        if other.covers(path):
            return path  # no path that `literal` covers is shorter
        if not _has_path_below(other.automaton, path):
            return None
        break
    return _intersect(first.covering.automaton, second.covering.automaton)


def _has_path_below(automaton: _Automaton, path: str) -> bool:
    """Tell whether the automaton may accept a path below `path`.

    False is exact: no path that the automaton accepts starts with `path/`.
    True may still be wrong for the rare glob whose remaining segments match
    only `.` or `..`, so callers confirm it with `_intersect`.
    """
    states = {0}
    for char in path + "/":
        states = {
            target for state in states for chars, target in automaton.moves[state] if char in chars
        }
        if not states:
            return False
    return True


def overlap(first: Glob, second: Glob) -> str | None:
    """Return a shortest path that both globs match, or None if there is none.

    Where the globs allow it, each character of the example is a lower-case
    letter, a digit or `_`, so the example reads like a file name.
    """
    for literal, other in ((first, second), (second, first)):
        path = literal.literal_path
        if path is not None:
            return path if path and _match_segments(other, path) else None
    return _intersect(first.automaton, second.automaton)


def _match_segments(glob: Glob, path: str) -> bool:
    """Tell whether `glob` matches `path`, as `Glob.match` does, segment by segment.

    A spec compares each path with only a few globs, and compiling a regex
    for a whole glob costs more than walking its segments, whose patterns
    are shared between globs.
    """
    if glob.is_plain:
        return path == glob.text
    raws = glob.text.split("/")
    names = glob.names
    end = len(raws)

    def closure(positions: set[int]) -> set[int]:
        # `**` may match no segment, so the position after it is reached too.
        for position in sorted(positions):
            while position < end and raws[position] == "**":
                position += 1
                positions.add(position)
        return positions

    positions = closure({0})
    for part in path.split("/"):
        reached: set[int] = set()
        for position in positions:
            if position == end:
                continue
            raw = raws[position]
            name = names[position]
            if raw == "**":
                if part:
                    reached.add(position)
            elif part == name if name is not None else _segment_pattern(raw).fullmatch(part):
                reached.add(position + 1)
        if not reached:
            return False
        positions = closure(reached)
    return end in positions


def _intersect(a: _Automaton, b: _Automaton) -> str | None:
    """Search the product of two glob automata and the valid-path automaton.

    Breadth-first search finds a shortest path. Character sets are replaced
    by bit masks over the atoms (the cells of the partition that all sets of
    this pair induce), so intersecting two sets is one `&` of integers.
    """
    to_mask, atoms = _atom_masks(a, b)
    moves_a = [[(to_mask[chars], target) for chars, target in edges] for edges in a.moves]
    moves_b = [[(to_mask[chars], target) for chars, target in edges] for edges in b.moves]
    moves_v = [[(to_mask[chars], target) for chars, target in edges] for edges in _VALID_MOVES]

    start = (0, 0, _V_INITIAL)
    parents: dict[tuple[int, int, int], tuple[tuple[int, int, int], int] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        state_a, state_b, state_v = state
        if state_v == _V_START and a.accepts[state_a] and b.accepts[state_b]:
            return _example(parents, state, atoms)
        for mask_v, next_v in moves_v[state_v]:
            for mask_a, next_a in moves_a[state_a]:
                shared = mask_a & mask_v
                if not shared:
                    continue
                for mask_b, next_b in moves_b[state_b]:
                    both = shared & mask_b
                    if not both:
                        continue
                    nxt = (next_a, next_b, next_v)
                    if nxt not in parents:
                        parents[nxt] = (state, both)
                        queue.append(nxt)
    return None


def _atom_masks(a: _Automaton, b: _Automaton) -> tuple[dict[CharSet, int], list[Interval]]:
    """Split the code points into atoms that no set of either automaton divides.

    Returns each set's mask (bit i set when atom i is in the set) and the atoms
    as intervals.
    """
    sets = {chars for automaton in (a, b) for edges in automaton.moves for chars, _ in edges}
    sets.update(chars for edges in _VALID_MOVES for chars, _ in edges)
    cuts = sorted(
        {bound for chars in sets for low, high in chars.intervals for bound in (low, high + 1)}
    )
    atoms = [(low, high - 1) for low, high in itertools.pairwise(cuts)]
    to_mask = {}
    for chars in sets:
        mask = 0
        for low, high in chars.intervals:
            first = bisect.bisect_left(cuts, low)
            last = bisect.bisect_left(cuts, high + 1)
            mask |= ((1 << (last - first)) - 1) << first
        to_mask[chars] = mask
    return to_mask, atoms


def _example(
    parents: dict[tuple[int, int, int], tuple[tuple[int, int, int], int] | None],
    state: tuple[int, int, int],
    atoms: list[Interval],
) -> str:
    # The readable character of each atom, ranked like `CharSet.example`.
    ranked = [_ranked_member(atom) for atom in atoms]
    chars = []
    step = parents[state]
    while step is not None:
        previous, mask = step
        members = (ranked[index] for index in range(mask.bit_length()) if mask >> index & 1)
        chars.append(min(members)[1])
        step = parents[previous]
    path = "".join(reversed(chars))
    return path[:-1]  # drop the `/` that ends every segment


def _ranked_member(atom: Interval) -> tuple[int, str]:
    low, high = atom
    for rank, preferred in enumerate(_PREFERRED):
        for preferred_low, preferred_high in preferred.intervals:
            if preferred_low <= high and low <= preferred_high:
                return rank, chr(max(low, preferred_low))
    return len(_PREFERRED), chr(low)


def first_match(root: Path, glob: Glob, skip: str | None = None) -> str | None:
    """Return a path under `root` that `glob` matches, or None if there is none.

    Files, directories and other entries all count, as `Glob.match` would
    count their paths: `a/**` matches a file named `a`. The walk follows
    symbolic links to directories where a segment names them, but `**` does
    not descend through them, so a link cycle cannot trap it. Directories
    that cannot be read are skipped, and so is the entry `skip` of `root`
    with everything below it.
    """
    if glob.is_plain:
        if glob.names[0] == skip:
            return None
        # Each directory on the way must exist for the last name to exist.
        return glob.text if os.path.lexists(os.path.join(root, glob.text)) else None
    names = glob.names
    patterns: list[re.Pattern[str] | None] = [
        None if raw == "**" or name is not None else _segment_pattern(raw)
        for raw, name in zip(glob.text.split("/"), names, strict=True)
    ]
    base = os.fspath(root)
    # `**` lists a directory once to descend and once more to match the
    # segment after it, so each listing is kept for the walk.
    listings: dict[str, list[os.DirEntry[str]]] = {}
    seen: set[tuple[str, int]] = set()
    stack: list[tuple[str, int]] = [("", 0)]  # a directory relative to root, a segment index
    while stack:
        directory, index = stack.pop()
        if (directory, index) in seen:
            continue
        seen.add((directory, index))
        if index == len(patterns):
            if directory:
                return directory
            continue

        pattern = patterns[index]
        last = index + 1 == len(patterns)
        name = names[index]
        if name is not None:
            # A plain name needs no directory listing.
            path = f"{directory}/{name}" if directory else name
            if path != skip and os.path.lexists(os.path.join(base, path)):
                stack.append((path, index + 1))
            continue

        entries = listings.get(directory)
        if entries is None:
            entries = listings[directory] = _entries(os.path.join(base, directory))
        for entry in entries:
            path = f"{directory}/{entry.name}" if directory else entry.name
            if path == skip:
                continue
            if pattern is None:
                # `**` takes this entry as one more segment.
                if last:
                    return path
                if entry.is_dir(follow_symlinks=False):
                    stack.append((path, index))
            elif pattern.fullmatch(entry.name):
                if last:
                    return path
                stack.append((path, index + 1))
        if pattern is None:
            stack.append((directory, index + 1))  # `**` matching no segment
    return None


def _entries(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=_entry_name)
    except OSError:
        return []


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def normalize_path(text: str) -> str:
    """Normalise a relative path the way globs are normalised; the root is `.`.

    Raises:
        AbsolutePath, PathEscape, GlobError: as `parse_glob`.
    """
    return "/".join(raw for raw, _ in _normal_segments(text)) or "."
