"""The lot archive: one crash-safe HDF5 file per lot (format, writer, reader, recovery, imports, CLI).

Write with :class:`LotArchive` (a record sink), read with :func:`open_archive`;
:func:`close_archive` recovers and closes a lot whose writer died. The layout is
versioned by :data:`FORMAT_VERSION` (see docs/archive.md).
"""

from analysis.archive.format import FORMAT_NAME, FORMAT_VERSION, MIN_READ_VERSION, jsonable
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
    "FORMAT_NAME", "FORMAT_VERSION", "MIN_READ_VERSION", "jsonable",
    "ArchiveReader", "StreamInfo", "open_archive", "segment_positions",
    "LotArchive", "cli_archive", "close_archive", "describe_archive", "import_custody_rows", "import_lab_results",
    "recover_archive",
]
