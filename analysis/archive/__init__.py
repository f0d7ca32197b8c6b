"""The lot archive: one crash-safe HDF5 file per lot.

Modules by job: ``format`` (layout, columns, JSON), ``writer`` (:class:`LotArchive`, a record sink),
``reader`` (:func:`open_archive`), ``recovery`` (:func:`close_archive` / :func:`recover_archive` for a lot
whose writer died), ``imports`` (rows added to a closed lot), ``lab`` (lab results, verdicts, reviews),
``field_spectra`` and ``cli`` (``oreline archive``). The layout is versioned by :data:`FORMAT_VERSION`
(module docstring of :mod:`analysis.archive.format`).
"""

from analysis.archive.format import FORMAT_NAME, FORMAT_VERSION, MIN_READ_VERSION, jsonable, software_version
from analysis.archive.audit import COMMAND_ACTIONS, audit_events, operator_commands
from analysis.archive.field_spectra import export_field_spectra
from analysis.archive.lab import (
    current_lab_verdict,
    import_lab_file,
    lab_history,
    lab_verdicts,
    latest_results,
    record_review,
    reviews,
    sample_decisions,
)
from analysis.archive.reader import ArchiveReader, StreamInfo, open_archive, segment_positions
from analysis.archive.writer import LotArchive
from analysis.archive.recovery import close_archive, recover_archive
from analysis.archive.imports import import_custody_rows, import_lab_results
from analysis.archive.cli import cli_archive, describe_archive

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "MIN_READ_VERSION", "jsonable", "software_version",
    "ArchiveReader", "StreamInfo", "open_archive", "segment_positions",
    "LotArchive", "cli_archive", "close_archive", "describe_archive", "import_custody_rows", "import_lab_results",
    "recover_archive",
    "current_lab_verdict", "import_lab_file", "lab_history", "lab_verdicts", "latest_results", "record_review",
    "reviews", "sample_decisions", "export_field_spectra", "audit_events", "operator_commands", "COMMAND_ACTIONS",
]
