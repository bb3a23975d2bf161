"""parc: a declarative spec compiler and parallel runner for tracks of shell commands."""

__version__ = "0.1.0"
