"""Fleet re-analysis: re-score many lot archives with a model on dask, product fingerprints, summary tables.

Modules by job: ``rescore`` (one archive → one row, the pure function the fleet maps), ``runner`` (the dask
bag, schedulers), ``malloc`` (glibc tuning inside dask workers), ``tables`` (CSV and markdown),
``fingerprints`` (product fingerprints) and ``cli`` (``oreline fleet``).
"""

from analysis.errors import FleetError
from analysis.lazy import lazy_exports

#: What the package offers → its module, imported on first use (``oreline fleet --help`` and a refused option load no
#: model, scikit-learn or dask).
EXPORTS = {
    "analyse_archive": "rescore", "redecide": "rescore", "segment_scorer": "rescore",
    "find_archives": "runner", "run_fleet": "runner", "group_table": "tables", "write_tables": "tables",
    "cli_fleet": "cli",
}

__all__ = ["FleetError", *sorted(EXPORTS)]

__getattr__ = lazy_exports(__name__, EXPORTS)
