"""Fleet re-analysis: re-score many lot archives with a model on dask, product fingerprints, summary tables.

Modules by job: ``rescore`` (one archive → one row, the pure function the fleet maps), ``runner`` (the dask
bag, schedulers), ``malloc`` (glibc tuning inside dask workers), ``tables`` (CSV and markdown),
``fingerprints`` (product fingerprints) and ``cli`` (``oreline fleet``).
"""

from analysis.errors import FleetError
from analysis.fleet.rescore import analyse_archive, redecide, segment_scorer
from analysis.fleet.runner import find_archives, run_fleet
from analysis.fleet.tables import group_table, write_tables
from analysis.fleet.cli import cli_fleet

__all__ = [
    "FleetError", "analyse_archive", "cli_fleet", "find_archives", "group_table", "redecide", "run_fleet",
    "segment_scorer", "write_tables",
]
