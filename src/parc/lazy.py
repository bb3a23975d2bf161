"""Names of a package that load their module on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, table: Mapping[str, str], space: dict[str, Any]
) -> Callable[[str], Any]:
    """Return a module `__getattr__` that imports each name of `table` from its module.

    `table` maps a name to the module that defines it. The first use stores
    the value in `space`, the package's globals, so later uses cost nothing.
    """

    def load(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        space[name] = value
        return value

    return load
