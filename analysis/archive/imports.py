"""Rows added to a closed lot: lab results and custody rows arrive days after the lot ended.

Rows identical to stored ones are skipped (by the SHA-1 of their JSON text), so an import can be repeated.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import h5py

from analysis.archive.format import append_columns, json_row
from analysis.archive.reader import open_archive
from analysis.errors import ArchiveError

__all__ = ["import_custody_rows", "import_lab_results"]


def import_lab_results(path: str | os.PathLike[str], results: Iterable[Any]) -> int:
    """Append lab results to a closed archive (they arrive days after the lot); returns rows added.

    Rows identical to stored ones are skipped. Raises ArchiveError for an archive still open for writing.
    """
    return _import_json_rows(path, "lab_results", results, lambda r: {"sample_id": str(r.get("sample_id", ""))})


def import_custody_rows(path: str | os.PathLike[str], rows: Iterable[Any], *, kind: str = "custody") -> int:
    """Append sampler rows to a closed archive (custody goes on in the lab: dispatched, received...).

    Same rows and kinds as :meth:`LotArchive.add_custody_rows`; returns rows added.
    """
    return _import_json_rows(path, "custody", rows,
                             lambda r: {"kind": kind, "sample_id": str(r.get("sample_id", ""))})


def _import_json_rows(path: str | os.PathLike[str], table: str, rows_in: Iterable[Any],
                      key_cols: Callable[[dict], dict]) -> int:
    p = Path(path)
    with open_archive(p, allow_live=False) as reader:
        if reader.state == "open":
            raise ArchiveError(f"{p}: lot still open; add rows through its LotArchive or close the lot first")
        stored = reader.table(table)["json"]
    seen = {hashlib.sha1(str(t).encode()).hexdigest() for t in stored}
    cols: dict[str, list[Any]] = defaultdict(list)
    for r in rows_in:
        d, text, digest = json_row(r, p, table)
        if digest in seen:
            continue
        seen.add(digest)
        for k, v in {"time_s": time.time(), **key_cols(d), "json": text}.items():
            cols[k].append(v)
    if not cols:
        return 0
    try:
        with h5py.File(p, "r+", libver="latest") as f:
            return append_columns(f["tables"][table], cols)
    except OSError as exc:
        raise ArchiveError(f"{p}: cannot append to {table} ({exc})") from exc
