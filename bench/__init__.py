"""Benchmarks that compare parc with GNU make and ninja on the same graphs.

A shape generator builds a `Graph`; the writers turn it into an equivalent
`build.par`, `Makefile` and `build.ninja`; the suite times the tools on it pair
by pair and reports medians, ranges, per-pair ratios and peak memory.
Run everything with `python -m bench run` (or `--quick`).
"""
