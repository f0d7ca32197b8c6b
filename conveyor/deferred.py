"""A command's work, imported once its options are checked: ``--help`` and a bad option answer before the heavy
modules (the models, scikit-learn, the line, the web server, dask) load."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from conveyor.errors import MissingOptionalDependency

#: Top-level packages of oreline; a missing one of these is a broken install, never an optional extra.
PROJECT_PACKAGES = ("conveyor", "spectra", "vision", "sampler", "plc", "analysis")


def load_function(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported on first use.

    Raises :class:`~conveyor.errors.MissingOptionalDependency` only when a third-party package is missing; a broken
    oreline module (an ImportError inside it, a missing function) raises as it is.
    """
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] in PROJECT_PACKAGES:
            raise
        raise MissingOptionalDependency(f"{module}.{name} needs {exc.name!r}, which is not installed") from exc
    function: Callable[..., Any] = getattr(mod, name)
    return function
