"""A package's names imported on first use (PEP 562): a room's front door that loads none of its heavy modules
(FastAPI, SQLAlchemy, the archive) until one of its names is asked for, so light commands start fast."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module-level ``__getattr__`` of ``package``: the name ``n`` is imported from ``package.<exports[n]>`` when it
    is first asked for and kept in the package's namespace; any other name raises AttributeError."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
