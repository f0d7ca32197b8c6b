"""Fleet re-analysis: re-score many lot archives with a model on dask, product fingerprints, summary tables.

Modules by job: ``rescore`` (one archive → one row, the pure function the fleet maps), ``runner`` (the dask
bag, schedulers), ``malloc`` (glibc tuning inside dask workers), ``tables`` (CSV and markdown),
``fingerprints`` (product fingerprints) and ``cli`` (``oreline fleet``).
"""

import importlib
from typing import Any

from analysis.errors import FleetError

#: What the package offers → the module defining it, imported on first use (``oreline fleet --help`` and a refused
#: option load no model, scikit-learn or dask).
EXPORTS = {
    "analyse_archive": "analysis.fleet.rescore", "redecide": "analysis.fleet.rescore",
    "segment_scorer": "analysis.fleet.rescore", "find_archives": "analysis.fleet.runner",
    "run_fleet": "analysis.fleet.runner", "group_table": "analysis.fleet.tables", "write_tables": "analysis.fleet.tables",
    "cli_fleet": "analysis.fleet.cli",
}

__all__ = ["FleetError", *sorted(EXPORTS)]


def __getattr__(name: str) -> Any:
    """``name`` of :data:`EXPORTS`, from its module (imported now)."""
    if name in EXPORTS:
        return getattr(importlib.import_module(EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
