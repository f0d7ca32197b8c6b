"""Fleet re-analysis: re-score many lot archives with a model on dask, product fingerprints, summary tables."""

from analysis.fleet.rescore import (
    FleetError,
    analyse_archive,
    cli_fleet,
    find_archives,
    group_table,
    redecide,
    run_fleet,
    segment_scorer,
    write_tables,
)

__all__ = [
    "FleetError", "analyse_archive", "cli_fleet", "find_archives", "group_table", "redecide", "run_fleet",
    "segment_scorer", "write_tables",
]
