"""Build parc's one optional C extension; the metadata is in pyproject.toml.

`parc.runtime._spawn` starts commands with vfork and a parent-death signal.
Without a C compiler the build goes on without it (`optional=True`), and parc
starts commands through subprocess instead, which is slower per command.
"""

import sys

from setuptools import Extension, setup

extensions = []
if sys.platform.startswith("linux"):
    extensions.append(
        Extension("parc.runtime._spawn", ["src/parc/runtime/_spawn.c"], optional=True)
    )

setup(ext_modules=extensions)
