"""Run the benchmark command line: `python -m bench run --quick`."""

from bench.cli import main

main()
