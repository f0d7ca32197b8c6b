"""Reading a lot archive: :func:`open_archive` and the typed accessors of :class:`ArchiveReader`.

The reader opens finished archives normally and archives still being written (or
left open by a killed writer) in SWMR read mode; :attr:`ArchiveReader.live` tells
which. Every failure to read (not HDF5, truncated, corrupt, older or newer format,
missing parts) raises :class:`analysis.errors.ArchiveError` naming the file and
what was expected.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

import h5py
import numpy as np

from analysis.archive.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MIN_READ_VERSION,
    STREAM_BASE,
    OPTIONAL_TABLES,
    TABLES,
    loads,
    read_column,
    read_table,
    table_length,
)
from analysis.errors import ArchiveError
from conveyor.records import StreamDescription
from analysis.model import Alarm, LotVerdict, SegmentDecision, StationCoverage

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_T = TypeVar("_T")


def _wrap(what: str) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """Turn h5py/JSON failures inside an accessor into ArchiveError naming the file and ``what``."""

    def deco(fn: Callable[..., _T]) -> Callable[..., _T]:
        @functools.wraps(fn)
        def inner(self: "ArchiveReader", *args: Any, **kwargs: Any) -> _T:
            try:
                return fn(self, *args, **kwargs)
            except ArchiveError:
                raise
            except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
                raise ArchiveError(f"{self.path}: cannot read {what}: archive corrupt or truncated "
                                   f"({type(exc).__name__}: {exc})") from exc
        return inner
    return deco


@dataclass(frozen=True)
class StreamInfo(StreamDescription):
    """A stream as stored: its description (:class:`conveyor.records.StreamDescription`) and how many rows were
    flushed."""

    rows: int = 0


def _nan(v: Any) -> float:
    return math.nan if v is None else float(v)


def segment_positions(seg_start_t: np.ndarray, seg_end_t: np.ndarray, rel_t: np.ndarray) -> np.ndarray:
    """Row in the segment table holding each lot tonnage ``rel_t`` (t); −1 where no decided segment holds it.

    ``seg_start_t``/``seg_end_t`` (n_segments,) in lot tonnes, in any order; returns (len(rel_t),) int64.
    """
    rel_t = np.asarray(rel_t, dtype=float)
    if len(seg_start_t) == 0:
        return np.full(rel_t.shape, -1, np.int64)
    order = np.argsort(seg_start_t, kind="stable")
    pos = np.searchsorted(np.asarray(seg_start_t)[order], rel_t, side="right") - 1
    ok = pos >= 0
    idx = np.where(ok, order[np.clip(pos, 0, None)], -1)
    inside = ok & (rel_t < np.asarray(seg_end_t)[np.clip(idx, 0, None)] + 1e-9)
    return np.where(inside, idx, -1).astype(np.int64)


def segment_from_dict(d: Mapping[str, Any]) -> SegmentDecision:
    """Rebuild a :class:`SegmentDecision` from its stored JSON."""
    cov = tuple(StationCoverage(c["station"], _nan(c["inspected_t"]), _nan(c["uninspected_t"]), tuple(c.get("reasons", ())))
                for c in d.get("coverage", ()))
    return SegmentDecision(
        lot_id=d["lot_id"], index=int(d["index"]), start_t=_nan(d["start_t"]), end_t=_nan(d["end_t"]),
        segment_class=d["segment_class"], decided_time_s=_nan(d.get("decided_time_s")), coverage=cov,
        nir_waste_score=_nan(d.get("nir_waste_score")), nir_contaminant_score=_nan(d.get("nir_contaminant_score")),
        nir_novelty_fraction=_nan(d.get("nir_novelty_fraction")), nir_spectra=int(d.get("nir_spectra") or 0),
        detections=int(d.get("detections") or 0), detection_kinds=tuple(d.get("detection_kinds", ())),
        reasons=tuple(d.get("reasons", ())), evidence=dict(d.get("evidence") or {}),
    )


def alarm_from_dict(d: Mapping[str, Any]) -> Alarm:
    """Rebuild an :class:`Alarm` from its stored JSON: every field it stores (older archives lack the newer
    ones, which keep their defaults); null numbers are NaN."""
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(Alarm):
        if f.name not in d:
            continue
        value = d[f.name]
        if isinstance(f.default, float):
            value = _nan(value)
        elif isinstance(f.default, int) or f.name == "alarm_id":
            value = int(value)
        elif f.name == "evidence":
            value = dict(value or {})
        kwargs[f.name] = value
    return Alarm(**kwargs)


def verdict_from_dict(d: Mapping[str, Any]) -> LotVerdict:
    """Rebuild a :class:`LotVerdict` from its stored JSON."""
    return LotVerdict(
        lot_id=d["lot_id"], verdict=d["verdict"], confidence=_nan(d.get("confidence")), final=bool(d["final"]),
        tonnage_t=_nan(d.get("tonnage_t")), decided_at_t=_nan(d.get("decided_at_t")),
        log_likelihood_ratio=_nan(d.get("log_likelihood_ratio")), segments_total=int(d.get("segments_total") or 0),
        segments_by_class=dict(d.get("segments_by_class") or {}), uninspected_fraction=_nan(d.get("uninspected_fraction")),
        alpha=_nan(d.get("alpha")), beta=_nan(d.get("beta")), reasons=tuple(d.get("reasons", ())),
    )


class ArchiveReader:
    """Typed read access to one lot archive. Use :func:`open_archive`; close it (or use ``with``)."""

    def __init__(self, path: Path, file: h5py.File, live: bool) -> None:
        self.path = path
        self.file = file
        #: True when the file is flagged open for writing (a writer is running, or was killed).
        self.live = live
        attrs = file.attrs
        self.format_version = int(attrs["format_version"])
        self.lot_id = str(attrs["lot_id"])
        self.software = str(attrs.get("software", ""))
        self.writer_host = str(attrs.get("writer_host", ""))
        self.writer_pid = int(attrs.get("writer_pid", -1))
        meta = file["meta"].attrs
        self.lot: dict[str, Any] = loads(meta["lot"], f"{path}: /meta lot")
        self.start: dict[str, Any] = loads(meta["lot_start"], f"{path}: /meta lot_start")
        self.config: dict[str, Any] = self.start.get("config") or {}
        self.sampling_plan: dict[str, Any] = self.start.get("sampling_plan") or {}

    # ---- life cycle --------------------------------------------------------------------------------
    def close(self) -> None:
        try:
            self.file.close()
        except Exception:  # closing a broken file must not hide the original error
            pass

    def __enter__(self) -> "ArchiveReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @_wrap("live datasets")
    def refresh(self) -> None:
        """Re-read the extent of every dataset (SWMR readers watching a live archive)."""
        if not self.live:
            return
        def visit(_name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                obj.refresh()
        self.file.visititems(visit)

    def verify(self, batch_rows: int = 65536) -> int:
        """Read every dataset in full (checksums are checked on read); return the bytes read.

        Raises ArchiveError naming the first dataset that cannot be read.
        """
        total = 0
        names: list[str] = []
        self.file.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for name in names:
            try:
                ds = self.file[name]
                for lo in range(0, ds.shape[0] if ds.shape else 1, batch_rows):
                    block = read_column(ds, slice(lo, lo + batch_rows)) if ds.shape else ds[()]
                    total += int(getattr(block, "nbytes", 0))
            except (OSError, KeyError, ValueError, RuntimeError) as exc:
                raise ArchiveError(f"{self.path}: dataset /{name} cannot be read: corrupt or truncated "
                                   f"({type(exc).__name__}: {exc})") from exc
        return total

    @property
    def size_bytes(self) -> int:
        return os.path.getsize(self.path)

    # ---- lot ---------------------------------------------------------------------------------------
    @property
    def lot_start_mark_t(self) -> float:
        """Absolute tonnage mark at lot start (t); subtract from stream marks for lot tonnes."""
        return float(self.start.get("start_mark_t") or 0.0)

    @property
    def segment_mass_t(self) -> float:
        return float(self.start.get("segment_mass_t") or 100.0)

    @_wrap("status table")
    def status_history(self) -> list[dict[str, Any]]:
        """Every state change: dicts with epoch_s, state, reason and the stored details."""
        t = read_table(self.file["tables/status"])
        out = []
        for i in range(len(t["state"])):
            row = {"epoch_s": float(t["epoch_s"][i]), "state": str(t["state"][i]), "reason": str(t["reason"][i])}
            row.update(loads(t["json"][i], f"{self.path}: status row {i}") or {})
            out.append(row)
        return out

    @property
    def state(self) -> str:
        """"open" (being written, or its writer died), "complete" or "aborted"."""
        hist = self.status_history()
        last = hist[-1]["state"] if hist else "open"
        return last if last in ("complete", "aborted") else "open"

    @property
    def end(self) -> dict[str, Any] | None:
        """The LotEnd (as stored) or the close-by-tool record; None while open."""
        for h in reversed(self.status_history()):
            if h["state"] in ("complete", "aborted"):
                return h
        return None

    def writer_alive(self) -> bool | None:
        """For a live archive on this host: is the writing process still running? None when unknown."""
        if not self.live or self.writer_pid <= 0 or self.writer_host != os.uname().nodename:
            return None
        try:
            os.kill(self.writer_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    # ---- streams -----------------------------------------------------------------------------------
    @property
    def streams(self) -> dict[str, StreamInfo]:
        """Stream descriptions and flushed rows, by name (read once for a closed archive, every time for a live one)."""
        cached = self.__dict__.get("_streams_read")
        if cached is None or self.live:
            cached = self._read_streams()
            self.__dict__["_streams_read"] = cached
        return dict(cached)

    @_wrap("stream descriptions")
    def _read_streams(self) -> dict[str, StreamInfo]:
        out: dict[str, StreamInfo] = {}
        for name, grp in self.file["streams"].items():
            d = loads(grp.attrs["description"], f"{self.path}: stream {name} description")
            fields = {k: (tuple(v[0]), str(v[1])) for k, v in d["fields"].items()}
            rows = min(table_length(grp), table_length(grp["data"])) if len(grp["data"]) else table_length(grp)
            out[name] = StreamInfo(name, d["station"], d["kind"], fields, d.get("units") or {},
                                   d.get("metadata") or {}, rows)
        return out

    def streams_of_kind(self, kind: str) -> list[StreamInfo]:
        return [s for s in self.streams.values() if s.kind == kind]

    def _stream_ds(self, stream: str, key: str) -> h5py.Dataset:
        if stream not in self.file["streams"]:
            raise ArchiveError(f"{self.path}: no stream {stream!r}; archive has {sorted(self.file['streams'])}")
        grp = self.file["streams"][stream]
        if key in STREAM_BASE:
            return grp[key]
        if key in grp["data"]:
            return grp["data"][key]
        raise ArchiveError(f"{self.path}: stream {stream!r} has no key {key!r}; "
                           f"expected one of {sorted(STREAM_BASE) + sorted(grp['data'])}")

    @_wrap("stream data")
    def stream_column(self, stream: str, key: str, rows: slice | None = None) -> np.ndarray:
        """One column of a stream: ``time_s``, ``tonnage_mark_t``, ``inspected``, ``note`` or a data key.

        Shape (N, *field shape); rows beyond the flushed length of the stream are not returned.
        """
        n = self.streams[stream].rows
        sel = rows if rows is not None else slice(0, n)
        start, stop, step = sel.indices(n)
        return read_column(self._stream_ds(stream, key), slice(start, stop, step))

    @_wrap("stream data")
    def stream_table(self, stream: str, keys: Sequence[str] | None = None, rows: slice | None = None) -> dict[str, np.ndarray]:
        """Several columns of a stream (all when ``keys`` is None)."""
        info = self.streams[stream]
        keys = list(keys) if keys is not None else list(STREAM_BASE) + list(info.fields)
        return {k: self.stream_column(stream, k, rows) for k in keys}

    def iter_stream(self, stream: str, keys: Sequence[str], batch_rows: int = 65536) -> Iterator[dict[str, np.ndarray]]:
        """Columns of a stream in batches of ``batch_rows`` rows (bounded memory for large lots)."""
        n = self.streams[stream].rows
        for lo in range(0, n, batch_rows):
            yield self.stream_table(stream, keys, slice(lo, min(n, lo + batch_rows)))

    def lot_tonnes(self, marks_t: np.ndarray) -> np.ndarray:
        """Lot-relative tonnes of absolute marks."""
        return np.asarray(marks_t, dtype=float) - self.lot_start_mark_t

    def wavelength_nm(self, stream: str) -> np.ndarray | None:
        """The wavelength grid (n,) in nm from a stream's metadata, or None when it has none."""
        meta = self.streams[stream].metadata
        for key in ("wavelength_nm", "wavelengths_nm"):
            if key in meta and meta[key] is not None:
                return np.asarray(meta[key], dtype=float)
        grid = meta.get("grid")
        if isinstance(grid, Mapping):
            for key in ("wavelength_nm", "center_nm", "centers_nm"):
                if key in grid:
                    return np.asarray(grid[key], dtype=float)
        return None

    # ---- tables ------------------------------------------------------------------------------------
    @_wrap("table")
    def table(self, name: str) -> dict[str, np.ndarray]:
        """A raw table (see ``analysis.archive.format.TABLES``) as column arrays."""
        if name not in TABLES:
            raise ArchiveError(f"{self.path}: unknown table {name!r}; expected one of {sorted(TABLES)}")
        if name in OPTIONAL_TABLES and name not in self.file["tables"]:
            return {col: np.asarray([]) for col in TABLES[name]}
        return read_table(self.file["tables"][name])

    def coverage(self) -> dict[str, np.ndarray]:
        """Coverage rows: station, start_mark_t, end_mark_t (absolute t), inspected, reason, time_s."""
        return self.table("coverage")

    def events(self) -> dict[str, np.ndarray]:
        return self.table("events")

    def segment_table(self) -> dict[str, np.ndarray]:
        """Segments as arrays: index, start_t, end_t (lot t), class_code (``SEGMENT_CLASSES`` index)."""
        t = self.table("segments")
        return {k: t[k] for k in ("index", "start_t", "end_t", "class_code")}

    def _json_rows(self, table: str) -> list[Any]:
        col = self.table(table)["json"]
        return [loads(s, f"{self.path}: {table} row {i}") for i, s in enumerate(col)]

    @_wrap("segments")
    def segments(self) -> list[SegmentDecision]:
        return [segment_from_dict(d) for d in self._json_rows("segments")]

    @_wrap("alarms")
    def alarm_history(self) -> list[tuple[float, str, Alarm]]:
        """Every alarm change in order: (time_s, action, alarm in its new state)."""
        t = self.table("alarms")
        return [(float(t["time_s"][i]), str(t["action"][i]), alarm_from_dict(loads(t["json"][i], "alarm")))
                for i in range(len(t["json"]))]

    def alarms(self) -> list[Alarm]:
        """Each alarm in its last recorded state, by id."""
        last: dict[int, Alarm] = {}
        for _t, _action, alarm in self.alarm_history():
            last[alarm.alarm_id] = alarm
        return [last[k] for k in sorted(last)]

    @_wrap("verdicts")
    def verdicts(self) -> list[LotVerdict]:
        return [verdict_from_dict(d) for d in self._json_rows("verdicts")]

    def final_verdict(self) -> LotVerdict | None:
        """The last verdict recorded (final when the lot ended normally), None when none was."""
        v = self.verdicts()
        return v[-1] if v else None

    @_wrap("custody rows")
    def custody(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Sampler rows (``kind``: "custody", "increment", "sample"... as added), oldest first."""
        t = self.table("custody")
        return [loads(t["json"][i], "custody row") for i in range(len(t["json"]))
                if kind is None or t["kind"][i] == kind]

    def lab_results(self) -> list[dict[str, Any]]:
        return self._json_rows("lab_results")

    def model_versions(self) -> list[dict[str, Any]]:
        return self._json_rows("models")


_NOT_YET_SWMR = ("unable to lock file", "not already open for SWMR writing")


def _writer_switching(exc: OSError) -> bool:
    """The file is held by a writer that has opened it but not yet switched it to SWMR mode."""
    return any(m in str(exc) for m in _NOT_YET_SWMR)


def _open_h5(p: Path, size: int, allow_live: bool) -> tuple[h5py.File, bool]:
    """One attempt: the file and whether it is live (flagged open for writing)."""
    try:
        return h5py.File(p, "r"), False
    except OSError as exc:
        if _writer_switching(exc):
            raise
        if "already open for write" not in str(exc):
            raise ArchiveError(f"{p}: cannot open as HDF5 ({size} bytes): truncated or corrupt ({exc})") from exc
        if not allow_live:
            raise ArchiveError(f"{p}: archive is open for writing (writer running or killed); "
                               f"run `oreline archive close {p}` if its writer is gone") from exc
    try:
        return h5py.File(p, "r", swmr=True, libver="latest"), True
    except OSError as exc2:
        if _writer_switching(exc2):
            raise
        raise ArchiveError(f"{p}: cannot open live archive ({size} bytes): truncated or corrupt ({exc2})") from exc2


def open_archive(path: str | os.PathLike[str], *, allow_live: bool = True,
                 lock_wait_s: float = 5.0) -> ArchiveReader:
    """Open a lot archive for reading.

    A file flagged open for writing (a running writer or one killed mid-lot) is
    opened in SWMR read mode with ``live=True`` unless ``allow_live`` is False.
    A file locked by another process (a writer between creating the archive
    and switching to SWMR) is retried for up to ``lock_wait_s`` seconds.
    Raises :class:`ArchiveError` for a missing, non-HDF5, truncated or corrupt
    file, a file that is not an oreline lot archive, or a format version outside
    ``MIN_READ_VERSION..FORMAT_VERSION``.
    """
    p = Path(path)
    if not p.is_file():
        raise ArchiveError(f"{p}: no such archive file")
    size = p.stat().st_size
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head != _HDF5_SIGNATURE:
        raise ArchiveError(f"{p}: not an HDF5 file (expected signature {_HDF5_SIGNATURE!r}, got {head!r}; "
                           f"{size} bytes)")
    deadline_s = time.monotonic() + lock_wait_s
    while True:
        try:
            f, live = _open_h5(p, size, allow_live)
            break
        except ArchiveError:
            raise
        except OSError as exc:  # a writer between opening the file and switching it to SWMR: wait for it
            if time.monotonic() >= deadline_s:
                raise ArchiveError(f"{p}: held open for writing, not in live SWMR mode, for more than "
                                   f"{lock_wait_s:g} s: another tool has it open, or a process was killed holding "
                                   f"it ({exc})") from exc
            time.sleep(0.05)
    try:
        _check_layout(p, f)
        return ArchiveReader(p, f, live)
    except ArchiveError:
        f.close()
        raise
    except Exception as exc:
        f.close()
        raise ArchiveError(f"{p}: archive corrupt or truncated ({type(exc).__name__}: {exc})") from exc


def _check_layout(p: Path, f: h5py.File) -> None:
    fmt = f.attrs.get("format")
    if fmt is None or str(fmt) != FORMAT_NAME:
        raise ArchiveError(f"{p}: not an oreline lot archive (expected root attribute format={FORMAT_NAME!r}, "
                           f"got {fmt!r})")
    version = f.attrs.get("format_version")
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ArchiveError(f"{p}: format_version must be an integer, got {version!r}") from None
    if version < MIN_READ_VERSION:
        raise ArchiveError(f"{p}: archive format version {version} is older than this reader supports "
                           f"({MIN_READ_VERSION}..{FORMAT_VERSION}); no migration is available for it")
    if version > FORMAT_VERSION:
        raise ArchiveError(f"{p}: archive format version {version} is newer than this reader supports "
                           f"({MIN_READ_VERSION}..{FORMAT_VERSION}); upgrade oreline to read it")
    missing = [g for g in ("meta", "streams", "tables") if g not in f]
    missing += [f"tables/{t}" for t in TABLES if "tables" in f and t not in f["tables"] and t not in OPTIONAL_TABLES]
    if missing:
        raise ArchiveError(f"{p}: archive incomplete, missing {missing}")
    for name in TABLES:  # touch every table so truncation shows up now, not mid-report
        if name in f["tables"]:
            table_length(f["tables"][name])
    for grp in f["streams"].values():
        table_length(grp)
