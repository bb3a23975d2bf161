"""Durations as parc prints them, in a module light enough for the no-op build."""

from __future__ import annotations


def format_seconds(seconds: float) -> str:
    """Format a duration for people: `0.42s`, `12.3s`, `4m05s`, `1h02m`."""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
