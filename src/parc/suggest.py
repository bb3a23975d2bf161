"""Suggestions for misspelled names, shared by the compiler and the command line."""

from __future__ import annotations

from collections.abc import Iterable


def closest_name(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to a misspelled name, if one is close enough.

    Closeness is the optimal string alignment distance (Damerau-Levenshtein
    where each part of the text is edited once), so a swap of two adjacent
    letters, as in `tset` for `test`, counts as one edit. A name may be at
    most a third of its length away, and one edit for names of up to five
    letters. Ties go to the candidate whose length is closest, then to the
    first in alphabetical order.
    """
    from rapidfuzz.distance import OSA

    limit = max(1, len(name) // 3)
    best: tuple[int, int, str] | None = None
    for candidate in candidates:
        distance = OSA.distance(name, candidate, score_cutoff=limit)
        if distance > limit:
            continue
        key = (distance, abs(len(candidate) - len(name)), candidate)
        if best is None or key < best:
            best = key
    return best[2] if best is not None else None
