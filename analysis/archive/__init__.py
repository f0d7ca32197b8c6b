"""The lot archive: one crash-safe HDF5 file per lot (format, writer, reader, recovery, imports, CLI).

Write with :class:`LotArchive` (a record sink), read with :func:`open_archive`;
:func:`close_archive` recovers and closes a lot whose writer died. The layout is
versioned by :data:`FORMAT_VERSION` (see docs/archive.md).
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
from analysis.archive.writer import (
    LotArchive,
    cli_archive,
    close_archive,
    describe_archive,
    import_custody_rows,
    import_lab_results,
    recover_archive,
)

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "MIN_READ_VERSION", "jsonable", "software_version",
    "ArchiveReader", "StreamInfo", "open_archive", "segment_positions",
    "LotArchive", "cli_archive", "close_archive", "describe_archive", "import_custody_rows", "import_lab_results",
    "recover_archive",
    "current_lab_verdict", "import_lab_file", "lab_history", "lab_verdicts", "latest_results", "record_review",
    "reviews", "sample_decisions", "export_field_spectra", "audit_events", "operator_commands", "COMMAND_ACTIONS",
]
