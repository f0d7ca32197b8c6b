"""The lot archive: one HDF5 file per lot, written while the lot runs, readable while it is written.

:class:`LotArchive` is a record sink (``handle(record)``) and a listener of the
lot monitor (``add_segment``, ``add_verdict``) and the alarm book
(``alarm_changed``). It buffers rows in memory and writes them every
``flush_interval_s`` seconds (and at once on segment decisions, alarms and lot
end), so a process killed mid-lot loses at most the last flush interval.

Order (h5py ``docs/swmr.rst``): the file, every group and every chunked,
resizable dataset are created when the first record after the stream
descriptions arrives (all streams are known then); the file then switches to
SWMR mode and only appends and flushes. Readers (:func:`open_archive`) can watch
it meanwhile. Layout: :mod:`analysis.archive.format`.

A lot left open by a killed process is closed with
:func:`analysis.archive.recovery.close_archive` (``oreline archive close LOT.h5
--reason ...``): everything flushed is copied into a clean file marked *aborted*.
:meth:`LotArchive.resume` reopens such a lot (same lot id, same streams) to append
the rest of it. Rows that arrive after the lot (lab results, custody) go in through
:mod:`analysis.archive.imports`; the command line is :mod:`analysis.archive.cli`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
import resource
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from conveyor.clock import Clock
from conveyor.records import Coverage, LineEvent, LotEnd, LotIdentity, LotStart, Measurement, Record, StreamDescription
from analysis.archive.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    STREAM_BASE,
    TABLES,
    ColumnGroup,
    append_columns,
    create_columns,
    dumps,
    h5_dtype,
    json_row,
    loads,
    read_table,
    software_version,
    table_length,
)
from analysis.archive.reader import open_archive
from analysis.archive.recovery import recover_archive
from analysis.errors import ArchiveError
from analysis.model import SEGMENT_CLASSES, VERDICT_CLASSES, Alarm, AuditEvent, LotVerdict, SegmentDecision

log = logging.getLogger(__name__)

__all__ = ["LotArchive", "room_bytes"]


def _clock_fn(clock: Clock | Callable[[], float] | None) -> Callable[[], float]:
    if clock is None:
        return time.monotonic
    if isinstance(clock, Clock):
        return clock.now_s
    if callable(clock):
        return clock
    raise ArchiveError(f"clock must be a conveyor Clock or a callable returning seconds, got {clock!r}")


def _description_json(d: StreamDescription) -> str:
    return dumps({"name": d.name, "station": d.station, "kind": d.kind,
                  "fields": {k: [list(shape), str(dtype)] for k, (shape, dtype) in d.fields.items()},
                  "units": dict(d.units), "metadata": d.metadata})


class _Buffer:
    """Rows waiting to be written to one column group (``nbytes``: about what they take on disk)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = defaultdict(list)
        self.rows = 0
        self.nbytes = 0

    def add(self, row: Mapping[str, Any]) -> None:
        for k, v in row.items():
            self.columns[k].append(v)
            self.nbytes += v.nbytes if isinstance(v, np.ndarray) else len(v) if isinstance(v, str) else 8
        self.rows += 1

    def take(self) -> dict[str, list[Any]]:
        cols, self.columns, self.rows, self.nbytes = dict(self.columns), defaultdict(list), 0, 0
        return cols


def room_bytes(path: Path) -> float:
    """Bytes the file ``path`` may still grow by: free space on its disk, within this process's file-size limit."""
    room = float(shutil.disk_usage(path.parent).free)
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        room = min(room, soft - (path.stat().st_size if path.exists() else 0))
    return room


class LotArchive:
    """Record sink writing one lot to ``path`` (HDF5, SWMR).

    ``flush_interval_s`` bounds what a crash loses (seconds of ``clock``, a
    :class:`~conveyor.clock.Clock` or a callable; default: monotonic wall time).
    ``max_buffer_rows`` forces a flush when that many rows wait. The file is
    created when the first record after the stream descriptions arrives; raises
    :class:`ArchiveError` when ``path`` exists (unless ``overwrite``), when records
    come out of order or for another lot, and when the file cannot be written.

    A write that fails inside HDF5 (disk full) leaves the library in a state where
    closing the file crashes the process (HDF5 2.0), so the writer does not try:
    before every write it checks the room left (:func:`room_bytes`: free disk space
    and the file-size limit) against ``reserve_bytes`` plus twice what waits, and
    raises ArchiveError instead, keeping the rows buffered for when room returns.
    """

    #: the source of this sink's fault events on the line (an "archive" alarm)
    sink_name = "archive"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        flush_interval_s: float = 5.0,
        clock: Clock | Callable[[], float] | None = None,
        overwrite: bool = False,
        max_buffer_rows: int = 50_000,
        reserve_bytes: int = 8 << 20,
        file_mode: int = 0o640,
    ) -> None:
        if not (flush_interval_s >= 0 and math.isfinite(flush_interval_s)):
            raise ArchiveError(f"flush_interval_s must be a finite value >= 0 s, got {flush_interval_s!r}")
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise ArchiveError(f"{self.path}: archive exists; refusing to overwrite (use resume, or overwrite=True)")
        if not self.path.parent.is_dir():
            raise ArchiveError(f"{self.path}: directory {self.path.parent} does not exist")
        self.flush_interval_s = float(flush_interval_s)
        self.max_buffer_rows = int(max_buffer_rows)
        self.reserve_bytes = int(reserve_bytes)
        self.file_mode = int(file_mode)  # the lot's file: no access for others by default
        self._now = _clock_fn(clock)
        self._lock = threading.RLock()
        self._file: h5py.File | None = None
        self._writers: dict[str, ColumnGroup] = {}
        self._start: LotStart | None = None
        self._streams: dict[str, StreamDescription] = {}
        self._stream_buf: dict[str, _Buffer] = {}
        self._table_buf: dict[str, _Buffer] = {name: _Buffer() for name in TABLES}
        self._seen_rows: dict[str, set[str]] = defaultdict(set)
        self._last_flush = self._now()
        self._pending_rows = 0
        self._resuming = False
        # a resumed lot continues its tonnage: shifts applied to the resumed run's records
        self._base_rel_t = 0.0
        self._mark_shift_t = 0.0
        self._rel_shift_t = 0.0
        self._index_shift = 0
        self._alarm_id_shift = 0
        self.ended: LotEnd | None = None
        self.closed = False
        self.flushes = 0
        self.rows_written = 0

    # ---- properties --------------------------------------------------------------------------------
    @property
    def lot_id(self) -> str:
        return self._start.lot.lot_id if self._start else ""

    @property
    def live(self) -> bool:
        """True once the file exists and is in SWMR mode (readers may watch it)."""
        return self._file is not None

    # ---- record sink -------------------------------------------------------------------------------
    def handle(self, record: Record) -> None:
        """Take one record of the lot (in the order the line emits them)."""
        with self._lock:
            self._check_open()
            if isinstance(record, LotStart):
                self._on_start(record)
                return
            if self._start is None:
                raise ArchiveError(f"{self.path}: {type(record).__name__} before LotStart")
            if isinstance(record, StreamDescription):
                self._on_description(record)
                return
            lot_id = getattr(record, "lot_id", self.lot_id)
            if lot_id and lot_id != self.lot_id:
                raise ArchiveError(f"{self.path}: record for lot {lot_id!r} in archive of lot {self.lot_id!r}")
            self._ensure_live()
            if self._mark_shift_t:
                record = self._shifted(record)
            if isinstance(record, Measurement):
                self._on_measurement(record)
            elif isinstance(record, Coverage):
                self._table_buf["coverage"].add({
                    "station": record.station, "start_mark_t": record.start_mark_t, "end_mark_t": record.end_mark_t,
                    "inspected": record.inspected, "reason": record.reason, "time_s": record.time_s})
            elif isinstance(record, LineEvent):
                self._table_buf["events"].add({
                    "time_s": record.time_s, "source": record.source, "kind": record.kind,
                    "severity": record.severity, "message": record.message, "mark_t": record.mark_t})
            elif isinstance(record, LotEnd):
                self.ended = record
                self._status(record.status, record.reason, {"lot_end": record})
                self.flush()
                return
            else:
                raise ArchiveError(f"{self.path}: unknown record type {type(record).__name__}")
            self._pending_rows += 1
            self._maybe_flush()

    def _on_start(self, start: LotStart) -> None:
        if self._resuming:
            if start.lot.lot_id != self.lot_id:
                raise ArchiveError(f"{self.path}: resuming lot {self.lot_id!r}, got LotStart of {start.lot.lot_id!r}")
            assert self._start is not None
            self._rel_shift_t = self._base_rel_t
            self._mark_shift_t = self._start.start_mark_t + self._base_rel_t - start.start_mark_t
            self._status("resumed", "lot resumed", {"lot_start": start, "resumed_at_t": self._base_rel_t,
                                                    "mark_shift_t": self._mark_shift_t,
                                                    "segment_index_shift": self._index_shift})
            return
        if self._start is not None:
            raise ArchiveError(f"{self.path}: second LotStart (lot {start.lot.lot_id!r} after {self.lot_id!r})")
        self._start = start

    def _on_description(self, d: StreamDescription) -> None:
        old = self._streams.get(d.name)
        if old is not None:
            if self._resuming and _description_json(old) == _description_json(d):
                return
            if self._resuming:
                raise ArchiveError(f"{self.path}: stream {d.name!r} on resume does not match the archived description")
            raise ArchiveError(f"{self.path}: stream {d.name!r} described twice")
        if self._file is not None and (not self._resuming or self._file.swmr_mode):
            raise ArchiveError(f"{self.path}: stream {d.name!r} described after measurements began")
        for key, (_shape, dtype) in d.fields.items():
            h5_dtype(dtype)  # raises for an unknown dtype now, not at flush time
            if key in STREAM_BASE or "/" in key:
                raise ArchiveError(f"{self.path}: stream {d.name!r} key {key!r} clashes with the archive layout")
        self._streams[d.name] = d
        self._stream_buf[d.name] = _Buffer()
        if self._file is not None:  # resuming a lot with a new stream: the file is not in SWMR mode yet
            self._create_stream(self._file, d)

    def _shifted(self, record: Record) -> Record:
        """A resumed run's record with its absolute marks moved onto the archived lot's tonnage."""
        d = self._mark_shift_t
        if isinstance(record, Measurement):
            return dataclasses.replace(record, tonnage_mark_t=record.tonnage_mark_t + d)
        if isinstance(record, Coverage):
            return dataclasses.replace(record, start_mark_t=record.start_mark_t + d, end_mark_t=record.end_mark_t + d)
        if isinstance(record, LineEvent):
            return dataclasses.replace(record, mark_t=record.mark_t + d)
        if isinstance(record, LotEnd):
            return dataclasses.replace(record, end_mark_t=record.end_mark_t + d)
        return record

    def _on_measurement(self, m: Measurement) -> None:
        desc = self._streams.get(m.stream)
        if desc is None:
            raise ArchiveError(f"{self.path}: measurement for undescribed stream {m.stream!r}; "
                               f"described: {sorted(self._streams)}")
        row = {"time_s": m.time_s, "tonnage_mark_t": m.tonnage_mark_t, "inspected": m.inspected, "note": m.note}
        data = m.data
        missing = set(desc.fields) - set(data)
        if missing:
            raise ArchiveError(f"{self.path}: stream {m.stream!r}: expected keys {sorted(desc.fields)}, "
                               f"missing {sorted(missing)}")
        for key in desc.fields:
            row["data/" + key] = data[key]
        self._stream_buf[m.stream].add(row)

    # ---- analysis listeners ------------------------------------------------------------------------
    def add_segment(self, decision: SegmentDecision) -> None:
        """Store a segment decision (flushes at once)."""
        with self._lock:
            self._check_open()
            self._ensure_live()
            if self._rel_shift_t or self._index_shift:
                decision = dataclasses.replace(decision, index=decision.index + self._index_shift,
                                               start_t=decision.start_t + self._rel_shift_t,
                                               end_t=decision.end_t + self._rel_shift_t)
            self._table_buf["segments"].add({
                "index": decision.index, "start_t": decision.start_t, "end_t": decision.end_t,
                "class_code": SEGMENT_CLASSES.index(decision.segment_class), "json": dumps(decision)})
            self.flush()

    def add_verdict(self, verdict: LotVerdict) -> None:
        """Store a verdict as it forms (the last stored one is the lot's)."""
        with self._lock:
            self._check_open()
            self._ensure_live()
            if self._rel_shift_t:
                verdict = dataclasses.replace(verdict, tonnage_t=verdict.tonnage_t + self._rel_shift_t,
                                              decided_at_t=verdict.decided_at_t + self._rel_shift_t)
            self._table_buf["verdicts"].add({
                "time_s": self._now(), "verdict_code": VERDICT_CLASSES.index(verdict.verdict),
                "final": verdict.final, "tonnage_t": verdict.tonnage_t, "json": dumps(verdict)})
            self._pending_rows += 1
            if verdict.final:
                self.flush()
            else:
                self._maybe_flush()

    def alarm_changed(self, action: str, alarm: Alarm) -> None:
        """AlarmBook listener: store the change (flushes at once)."""
        with self._lock:
            self._check_open()
            self._ensure_live()
            if self._resuming:
                alarm = dataclasses.replace(
                    alarm, alarm_id=alarm.alarm_id + self._alarm_id_shift, mark_t=alarm.mark_t + self._rel_shift_t,
                    segment_index=alarm.segment_index + self._index_shift if alarm.segment_index >= 0 else -1)
            self._table_buf["alarms"].add({
                "time_s": self._now(), "action": action, "alarm_id": alarm.alarm_id, "category": alarm.category,
                "state": alarm.state, "json": dumps(alarm)})
            self.flush()

    def add_audit(self, event: AuditEvent) -> None:
        """Store one control-room audit event (login, refusal, command); flushes at once."""
        with self._lock:
            self._check_open()
            self._ensure_live()
            self._table_buf["audit"].add({"epoch_s": event.epoch_s, "action": event.action, "person": event.person,
                                          "json": dumps(event)})
            self.flush()

    def add_custody_rows(self, rows: Iterable[Any], *, kind: str = "custody") -> int:
        """Store sampler rows (dicts or dataclasses with ``to_row``); identical rows already stored are skipped.

        ``kind`` names the row type ("custody" status changes, "increment", "sample"). Returns rows added.
        """
        return self._add_json_rows("custody", rows, lambda r: {"kind": kind, "sample_id": r.get("sample_id", "")})

    def add_model_version(self, name: str, version: str, **info: Any) -> None:
        """Record a model (or calibration) in use, e.g. ``add_model_version("nir", "2.1", digest=...)``."""
        self._add_json_rows("models", [{"name": name, "version": version, **info}],
                            lambda r: {"name": name, "version": version})

    def _add_json_rows(self, table: str, rows: Iterable[Any], key_cols: Callable[[dict], dict]) -> int:
        with self._lock:
            self._check_open()
            self._ensure_live()
            added = 0
            for r in rows:
                d, text, digest = json_row(r, self.path, table)
                if digest in self._seen_rows[table]:
                    continue
                self._seen_rows[table].add(digest)
                self._table_buf[table].add({"time_s": self._now(), **key_cols(d), "json": text})
                added += 1
            if added:
                self.flush()
            return added

    # ---- file --------------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.closed:
            raise ArchiveError(f"{self.path}: archive already closed")

    def _ensure_live(self) -> None:
        if self._file is not None:
            if self._resuming and not self._file.swmr_mode:
                self._file.swmr_mode = True
            return
        if self._start is None:
            raise ArchiveError(f"{self.path}: nothing can be archived before LotStart")
        self._create()

    def _create(self) -> None:
        start = self._start
        assert start is not None
        tmp = self.path.with_name(self.path.name + ".creating")
        self._check_room(0)
        try:
            f = h5py.File(tmp, "w", libver="latest")
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot create archive ({exc})") from exc
        try:
            f.attrs.update({
                "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "lot_id": start.lot.lot_id,
                "software": software_version(), "created_epoch_s": time.time(),
                "writer_host": os.uname().nodename, "writer_pid": os.getpid(),
            })
            meta = f.create_group("meta")
            meta.attrs["lot"] = dumps(start.lot)
            meta.attrs["lot_start"] = dumps(start)
            streams = f.create_group("streams")
            for d in self._streams.values():
                self._create_stream(f, d)
            tables = f.create_group("tables")
            for name, spec in TABLES.items():
                create_columns(tables.create_group(name), spec, max_chunk_rows=512)
            append_columns(tables["status"], {"epoch_s": [time.time()], "state": ["open"], "reason": [""],
                                              "json": [dumps({"lot_start": start})]})
            for d in self._streams.values():  # model versions named in stream metadata
                for key, value in d.metadata.items():
                    if "model" in key.lower() or "version" in key.lower():
                        append_columns(tables["models"], {"time_s": [self._now()], "name": [f"{d.name}.{key}"],
                                                          "version": [str(value if not isinstance(value, Mapping) else value.get("version", ""))],
                                                          "json": [dumps({"stream": d.name, key: value})]})
            del streams
            f.flush()
            f.close()
            os.chmod(tmp, self.file_mode)
            # switch to SWMR before the file takes its name: a reader never finds it locked and not yet live
            self._file = h5py.File(tmp, "r+", libver="latest")
            self._file.swmr_mode = True
            os.replace(tmp, self.path)
        except Exception as exc:
            try:
                f.close()
            except Exception:
                pass
            raise ArchiveError(f"{self.path}: cannot create archive ({type(exc).__name__}: {exc})") from exc
        self._last_flush = self._now()

    @staticmethod
    def _create_stream(f: h5py.File, d: StreamDescription) -> None:
        grp = f["streams"].create_group(d.name)
        grp.attrs["description"] = _description_json(d)
        create_columns(grp, STREAM_BASE)
        create_columns(grp.create_group("data"), {k: (tuple(s), dt) for k, (s, dt) in d.fields.items()})

    def _status(self, state: str, reason: str, details: Mapping[str, Any]) -> None:
        self._table_buf["status"].add({"epoch_s": time.time(), "state": state, "reason": reason,
                                       "json": dumps(details)})

    def _maybe_flush(self) -> None:
        if self._pending_rows >= self.max_buffer_rows or self._now() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write every buffered row and flush the file (readers see it after this)."""
        with self._lock:
            if self._file is None:
                return
            f = self._file
            self._check_room(sum(b.nbytes for b in (*self._stream_buf.values(), *self._table_buf.values())))
            try:
                for name, buf in self._stream_buf.items():
                    if buf.rows:
                        cols = buf.take()
                        base = {k: cols[k] for k in STREAM_BASE}
                        data = {k[5:]: _stack(v, self._streams[name].fields[k[5:]]) for k, v in cols.items()
                                if k.startswith("data/")}
                        self.rows_written += self._writer(f"streams/{name}/data").append(data)
                        self._writer(f"streams/{name}").append(base)
                for name, buf in self._table_buf.items():
                    if buf.rows:
                        self.rows_written += self._writer(f"tables/{name}").append(buf.take())
                f.flush()
            except ArchiveError:
                raise
            except Exception as exc:
                raise ArchiveError(f"{self.path}: writing the archive failed ({type(exc).__name__}: {exc})") from exc
            self.flushes += 1
            self._pending_rows = 0
            self._last_flush = self._now()

    def _check_room(self, pending_bytes: int) -> None:
        """Raise ArchiveError (touching nothing) when the disk may not take ``pending_bytes`` and the reserve."""
        need = self.reserve_bytes + 2 * pending_bytes
        room = room_bytes(self.path)
        if room < need:
            raise ArchiveError(f"{self.path}: no room to write the archive ({room / 1e6:.1f} MB left on the disk "
                               f"or under the file-size limit, {need / 1e6:.1f} MB needed); rows kept in memory")

    def _writer(self, group: str) -> ColumnGroup:
        w = self._writers.get(group)
        if w is None:
            assert self._file is not None
            w = self._writers[group] = ColumnGroup(self._file[group])
        return w

    def close(self) -> None:
        """Flush and close. A lot that never saw its LotEnd is marked aborted. Safe to call twice."""
        with self._lock:
            if self.closed:
                return
            try:
                if self._start is not None and self._file is None:
                    self._create()  # a lot with no measurements still gets its archive
                if self._file is not None and self.ended is None:
                    self._status("aborted", "archive closed before lot end", {})
                self.flush()
            finally:
                if self._file is not None:
                    self._file.close()
                self.closed = True

    def __enter__(self) -> LotArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- resume ------------------------------------------------------------------------------------
    @classmethod
    def resume(cls, path: str | os.PathLike[str], *, flush_interval_s: float = 5.0,
               clock: Clock | Callable[[], float] | None = None) -> LotArchive:
        """Reopen a lot left open (killed writer) or aborted, to append the rest of it.

        A killed writer's file is first recovered (:func:`recover_archive`). Feed
        it the resumed line's records: a LotStart with the same lot id, the same
        stream descriptions (new streams are added), then measurements. The
        resumed run's tonnage continues the archived lot's: its marks are shifted
        so lot tonnes go on from the furthest archived mark, and its segment
        indices, alarm ids and verdict tonnages are shifted likewise (the shift is
        kept in the "resumed" status row). Raises ArchiveError for a complete lot,
        another lot id or a changed stream.
        """
        p = Path(path)
        with open_archive(p) as reader:
            live, state = reader.live, reader.state
            alive = reader.writer_alive()
        if live and alive:
            raise ArchiveError(f"{p}: its writer (pid on this host) is still running; cannot resume")
        if state == "complete":
            raise ArchiveError(f"{p}: lot is complete; nothing to resume")
        if live:
            recover_archive(p)
        self = cls(p, flush_interval_s=flush_interval_s, clock=clock, overwrite=True)
        try:
            f = h5py.File(p, "r+", libver="latest")
        except OSError as exc:
            raise ArchiveError(f"{p}: cannot reopen for appending ({exc})") from exc
        try:
            start = loads(f["meta"].attrs["lot_start"], "lot_start")
            lot = LotIdentity(**start["lot"])
            self._start = LotStart(lot, start["time_s"], start["start_mark_t"], start["segment_mass_t"],
                                   start.get("sampling_plan") or {}, start.get("config") or {})
            for name, grp in f["streams"].items():
                d = loads(grp.attrs["description"], f"stream {name}")
                self._streams[name] = StreamDescription(
                    d["name"], d["station"], d["kind"], {k: (tuple(v[0]), v[1]) for k, v in d["fields"].items()},
                    d.get("units") or {}, d.get("metadata") or {})
                self._stream_buf[name] = _Buffer()
            starts = f["tables/coverage/end_mark_t"][: table_length(f["tables/coverage"])]
            marks = [float(starts.max())] if starts.size else []
            for grp in f["streams"].values():
                n = table_length(grp)
                if n:
                    marks.append(float(grp["tonnage_mark_t"][n - 1]))
            self._base_rel_t = max(marks) - self._start.start_mark_t if marks else 0.0
            seg_idx = f["tables/segments/index"][: table_length(f["tables/segments"])]
            self._index_shift = int(seg_idx.max()) + 1 if seg_idx.size else 0
            alarm_ids = f["tables/alarms/alarm_id"][: table_length(f["tables/alarms"])]
            self._alarm_id_shift = int(alarm_ids.max()) if alarm_ids.size else 0
            for table in ("custody", "lab_results", "models"):
                for text in read_table(f["tables"][table], ["json"])["json"]:
                    self._seen_rows[table].add(hashlib.sha1(str(text).encode()).hexdigest())
        except Exception as exc:
            f.close()
            raise ArchiveError(f"{p}: cannot resume ({type(exc).__name__}: {exc})") from exc
        f.attrs["writer_pid"] = os.getpid()
        f.attrs["writer_host"] = os.uname().nodename
        self._file = f
        self._resuming = True
        return self


def _stack(values: list[Any], spec: tuple[tuple[int, ...], str]) -> Any:
    shape, dtype = spec
    if h5_dtype(dtype) is h5_dtype("str"):
        return values
    return np.stack([np.asarray(v) for v in values]) if shape else np.asarray(values)
