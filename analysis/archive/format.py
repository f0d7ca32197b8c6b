"""Layout of the lot archive (HDF5) and the column tables it is made of.

One file per lot, format ``FORMAT_NAME`` version ``FORMAT_VERSION`` (root attributes)::

    /                       attrs: format, format_version, lot_id, software, created_epoch_s, writer_host, writer_pid
    /meta                   attrs: lot (LotIdentity JSON), lot_start (LotStart JSON), config, sampling_plan
    /streams/<name>         attrs: description (StreamDescription JSON)
        time_s (N,) f8, tonnage_mark_t (N,) f8 (absolute mark), inspected (N,) bool, note (N,) str
        data/<key> (N, *shape) dtype        one dataset per field of the stream description
    /tables/<table>/<column>               coverage, events, segments, alarms, verdicts, custody, lab_results,
                                           models, status (see TABLES)

Every dataset is chunked and resizable along its first axis so the writer can
append under SWMR; a table's length is the shortest of its columns (a writer
killed between two column writes leaves no half row visible). Rich objects
(segment decisions, alarms, verdicts, sampler rows) are stored as JSON strings
beside the columns a reader filters on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import h5py
import numpy as np

from analysis.errors import ArchiveError

FORMAT_NAME = "oreline.lot-archive"
#: Version written by this code. Bump on any layout change; add a reader migration for the old one.
FORMAT_VERSION = 1
#: Oldest version this reader understands.
MIN_READ_VERSION = 1

STR = h5py.string_dtype(encoding="utf-8")

ColumnSpec = Mapping[str, tuple[tuple[int, ...], Any]]

#: Fixed tables: name -> {column: (shape, dtype)}. ``json`` columns hold the full record.
TABLES: dict[str, dict[str, tuple[tuple[int, ...], Any]]] = {
    "coverage": {"station": ((), STR), "start_mark_t": ((), "f8"), "end_mark_t": ((), "f8"),
                 "inspected": ((), "bool"), "reason": ((), STR), "time_s": ((), "f8")},
    "events": {"time_s": ((), "f8"), "source": ((), STR), "kind": ((), STR), "severity": ((), STR),
               "message": ((), STR), "mark_t": ((), "f8")},
    "segments": {"index": ((), "i8"), "start_t": ((), "f8"), "end_t": ((), "f8"), "class_code": ((), "i1"),
                 "json": ((), STR)},
    "alarms": {"time_s": ((), "f8"), "action": ((), STR), "alarm_id": ((), "i8"), "category": ((), STR),
               "state": ((), STR), "json": ((), STR)},
    "verdicts": {"time_s": ((), "f8"), "verdict_code": ((), "i1"), "final": ((), "bool"), "tonnage_t": ((), "f8"),
                 "json": ((), STR)},
    "custody": {"time_s": ((), "f8"), "kind": ((), STR), "sample_id": ((), STR), "json": ((), STR)},
    "lab_results": {"time_s": ((), "f8"), "sample_id": ((), STR), "json": ((), STR)},
    "models": {"time_s": ((), "f8"), "name": ((), STR), "version": ((), STR), "json": ((), STR)},
    "status": {"epoch_s": ((), "f8"), "state": ((), STR), "reason": ((), STR), "json": ((), STR)},
    "audit": {"epoch_s": ((), "f8"), "action": ((), STR), "person": ((), STR), "json": ((), STR)},
}
#: Tables archives written before they existed lack (readers see them empty).
OPTIONAL_TABLES = frozenset({"audit"})
#: Base columns of every stream (besides data/<key>).
STREAM_BASE: dict[str, tuple[tuple[int, ...], Any]] = {
    "time_s": ((), "f8"), "tonnage_mark_t": ((), "f8"), "inspected": ((), "bool"), "note": ((), STR),
}
#: Lot states in the status table. "open" while written; the others are final.
STATES = ("open", "complete", "aborted", "resumed")

_TARGET_CHUNK_BYTES = 1 << 18


def h5_dtype(dtype: Any) -> Any:
    """HDF5 storage dtype of a description dtype string ("str" → variable-length UTF-8)."""
    if isinstance(dtype, str) and dtype in ("str", "string", "U", "O"):
        return STR
    if dtype is STR or (isinstance(dtype, np.dtype) and h5py.check_string_dtype(dtype) is not None):
        return STR
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ArchiveError(f"expected a numpy dtype or 'str', got {dtype!r}") from exc
    if dt.kind in ("U", "S", "O"):
        return STR
    return dt


def chunk_rows(shape: tuple[int, ...], dtype: Any, max_rows: int = 8192) -> int:
    """Rows per chunk so one chunk holds about 256 KiB (between 16 and ``max_rows`` rows)."""
    itemsize = 16 if dtype is STR else np.dtype(dtype).itemsize
    row_bytes = max(1, int(np.prod(shape, dtype=np.int64)) * itemsize)
    return int(np.clip(_TARGET_CHUNK_BYTES // row_bytes, 16, max(16, max_rows)))


def create_columns(group: h5py.Group, spec: ColumnSpec, *, max_chunk_rows: int = 8192) -> None:
    """Create one empty, chunked, resizable dataset per column of ``spec`` in ``group``.

    Chunks hold about 256 KiB and at most ``max_chunk_rows`` rows (small tables use small chunks).
    Numeric chunks carry a Fletcher-32 checksum, so corrupted data is an error on read, not silent garbage.
    """
    for name, (shape, dtype) in spec.items():
        shape = tuple(int(s) for s in shape)
        dt = h5_dtype(dtype)
        rows = chunk_rows(shape, dt, max_chunk_rows)
        group.create_dataset(name, shape=(0, *shape), maxshape=(None, *shape), chunks=(rows, *shape), dtype=dt,
                             fletcher32=dt is not STR)


class ColumnGroup:
    """Appender for the columns of one group, with the datasets and their dtypes looked up once.

    The writer appends through this (h5py's per-call lookups dominate small appends).
    """

    def __init__(self, group: h5py.Group) -> None:
        self.name = group.name
        self.columns: dict[str, tuple[h5py.Dataset, bool, np.dtype, tuple[int, ...]]] = {}
        self.lengths: dict[str, int] = {}
        for key, ds in group.items():
            if isinstance(ds, h5py.Dataset):
                is_str = h5py.check_string_dtype(ds.dtype) is not None
                self.columns[key] = (ds, is_str, ds.dtype, tuple(ds.shape[1:]))
                self.lengths[key] = int(ds.shape[0])

    def append(self, columns: Mapping[str, Any]) -> int:
        """Append equal-length columns; returns rows appended. Raises ArchiveError on a mismatch."""
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ArchiveError(f"{self.name}: expected equal column lengths, got "
                               f"{dict((k, len(v)) for k, v in columns.items())}")
        n = lengths.pop() if lengths else 0
        if n == 0:
            return 0
        for key, values in columns.items():
            try:
                ds, is_str, dtype, row_shape = self.columns[key]
            except KeyError:
                raise ArchiveError(f"{self.name}: no column {key!r}; has {sorted(self.columns)}") from None
            if is_str:
                arr = np.array(["" if v is None else str(v) for v in values], dtype=object)
            else:
                arr = np.asarray(values, dtype=dtype)
            if arr.shape[1:] != row_shape:
                raise ArchiveError(f"{ds.name}: expected rows of shape {row_shape}, got {arr.shape[1:]}")
            start = self.lengths[key]
            ds.resize(start + n, axis=0)
            ds[start:start + n] = arr
            self.lengths[key] = start + n
        return n


def append_columns(group: h5py.Group, columns: Mapping[str, Any]) -> int:
    """Append equal-length column arrays to the datasets of ``group``; return the rows appended.

    Raises ArchiveError when lengths differ or a column does not exist or has the wrong row shape.
    """
    return ColumnGroup(group).append(columns)


def table_length(group: h5py.Group) -> int:
    """Rows of a column table: the shortest column (0 for a group without columns)."""
    lengths = [obj.shape[0] for obj in group.values() if isinstance(obj, h5py.Dataset)]
    return min(lengths) if lengths else 0


def read_column(ds: h5py.Dataset, rows: slice | None = None) -> np.ndarray:
    """A column as numpy (strings as an object array of str)."""
    sel = rows if rows is not None else slice(None)
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.asarray(ds.asstr()[sel], dtype=object)
    return ds[sel]


def read_table(group: h5py.Group, columns: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Every (or the named) column of a table, cut to the table length."""
    n = table_length(group)
    names = list(columns) if columns is not None else [k for k, v in group.items() if isinstance(v, h5py.Dataset)]
    return {name: read_column(group[name], slice(0, n)) for name in names}


def jsonable(obj: Any) -> Any:
    """JSON-ready copy: dataclasses and mappings recursively, numpy to lists/scalars, NaN/inf to None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    return str(obj)


def dumps(obj: Any) -> str:
    """Compact JSON of :func:`jsonable` ``obj``."""
    return json.dumps(jsonable(obj), separators=(",", ":"), allow_nan=False)


def loads(text: str | bytes, what: str) -> Any:
    """Parse JSON stored in the archive; raises ArchiveError naming ``what`` when it is not JSON."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ArchiveError(f"{what}: expected JSON text, got {str(text)[:80]!r} ({exc})") from exc


def json_row(row: Any, path: Any, table: str) -> tuple[dict, str, str]:
    """A table row (a mapping, or anything with ``to_row()``) as (dict, its JSON text, the text's SHA-1): the digest
    is how a row already stored is recognised. Raises ArchiveError for a row that is not a mapping."""
    to_row = getattr(row, "to_row", None)
    d = jsonable(to_row() if callable(to_row) else row)
    if not isinstance(d, dict):
        raise ArchiveError(f"{path}: {table} rows must be mappings, got {type(row).__name__}")
    text = dumps(d)
    return d, text, hashlib.sha1(text.encode()).hexdigest()


def software_version() -> str:
    """``oreline <version>`` of the installed package, recorded in each archive and report."""
    try:
        return f"oreline {version('oreline')}"
    except PackageNotFoundError:
        return "oreline (version unknown)"
