"""The compile-time scale benchmark: `parc check` on 1k to 50k tracks next to `make -n`."""
