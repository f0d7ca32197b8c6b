"""A past lot opened from its archive: segments, evidence, increments and trends, read-only.

The catalogue row of a lot points to its HDF5 archive (``archive_path``); everything the control room shows of
a past lot in its live panels is read from there (the archive is the record): decided segments, the mean NIR
spectrum and identification of a segment, camera detections and their thumbnails, sampler increments, and the
trends (belt rate from the stations' coverage windows, NIR p(waste) along the lot) with their event markers.
An archive that is missing or cannot be read raises :class:`ArchiveUnavailable` naming the lot, the file and
what is wrong; the catalogue row is never touched.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from analysis.archive import ArchiveReader, open_archive, segment_positions
from analysis.catalogue.errors import ArchiveUnavailable
from analysis.decide import trend_markers
from analysis.errors import AnalysisError
from analysis.model import to_dict
from spectra.identify.unknown_rate import describe_features

#: A gap between coverage windows longer than this many ticks, or a window that moved no tonnes between two that
#: did, is a belt stop.
STOP_GAP_TICKS = 1.5


@contextmanager
def lot_archive(lot_id: str, path: str) -> Iterator[ArchiveReader]:
    """Open the archive a catalogue row points to; :class:`ArchiveUnavailable` when it is missing or corrupt."""
    if not path:
        raise ArchiveUnavailable(f"lot {lot_id!r}: the catalogue holds no archive path for it")
    if not Path(path).is_file():
        raise ArchiveUnavailable(f"lot {lot_id!r}: its archive {path} is missing (moved or deleted); the catalogue "
                                 f"row is kept: restore the file, or `oreline lots reindex DIR` where it now is")
    try:
        reader = open_archive(path, allow_live=True)
    except (AnalysisError, OSError) as exc:
        raise ArchiveUnavailable(f"lot {lot_id!r}: its archive cannot be read: {exc}") from exc
    try:
        yield reader
    except (AnalysisError, OSError, KeyError, ValueError) as exc:
        if isinstance(exc, ArchiveUnavailable):
            raise
        raise ArchiveUnavailable(f"lot {lot_id!r}: its archive {path} cannot be read: {exc}") from exc
    finally:
        reader.close()


def _py(value: Any) -> Any:
    """A numpy scalar as a Python value, NaN/inf as None."""
    v = value.item() if hasattr(value, "item") else value
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    return None if isinstance(v, float) and not math.isfinite(v) else v


def segments(reader: ArchiveReader) -> list[dict[str, Any]]:
    """Decided segments as the live ``/api/segments`` gives them, oldest first."""
    return [{k: _py(v) for k, v in to_dict(s).items()} for s in reader.segments()]


def _segment_of(reader: ArchiveReader, marks_t: np.ndarray) -> np.ndarray:
    """Segment index of each absolute mark (−1: none decided)."""
    seg = reader.segment_table()
    pos = segment_positions(seg["start_t"], seg["end_t"], reader.lot_tonnes(marks_t))
    return np.where(pos >= 0, seg["index"][np.maximum(pos, 0)], -1)


def _row_dicts(reader: ArchiveReader, stream: str, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    info = reader.streams[stream]
    keys = [k for k in ("time_s", "tonnage_mark_t", *info.fields) if k not in skip
            and len(info.fields.get(k, ((),))[0]) == 0]
    t = reader.stream_table(stream, keys)
    segs = _segment_of(reader, t["tonnage_mark_t"])
    rel = reader.lot_tonnes(t["tonnage_mark_t"])
    return [{**{k: _py(v[i]) for k, v in t.items()}, "mark_t": float(rel[i]), "segment": int(segs[i]),
             "stream": stream} for i in range(len(rel))]


def detections(reader: ArchiveReader) -> list[dict[str, Any]]:
    """Every camera detection (metadata; thumbnails by index), in stream then row order, with ``index``."""
    rows = [d for info in sorted(reader.streams_of_kind("vision"), key=lambda s: s.name)
            for d in _row_dicts(reader, info.name)]
    for i, d in enumerate(rows):
        d["index"] = i
    return rows


def thumbnail(reader: ArchiveReader, index: int) -> np.ndarray | None:
    """Detection ``index``'s thumbnail image (None: no such detection or no thumbnail)."""
    for info in sorted(reader.streams_of_kind("vision"), key=lambda s: s.name):
        if index < info.rows:
            return reader.stream_column(info.name, "thumbnail", slice(index, index + 1))[0] \
                if "thumbnail" in info.fields else None
        index -= info.rows
    return None


def increments(reader: ArchiveReader) -> list[dict[str, Any]]:
    """The sampler's increments (routine and targeted, with status and timing), oldest first."""
    rows = [d for info in reader.streams_of_kind("sampler") for d in _row_dicts(reader, info.name)]
    return sorted(rows, key=lambda d: d.get("time_s") or 0.0)


def _identification(cols: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """Per-spectrum identification of a segment's spectra (classes, top groups, unknown share and features)."""
    classes, groups = list(meta.get("id_classes") or []), list(meta.get("id_groups") or [])
    if not classes or "id_class" not in cols:
        return None
    codes = np.asarray(cols["id_class"]).reshape(-1)
    ok = codes >= 0
    if not ok.any():
        return None
    name = (lambda names, i: names[i] if 0 <= i < len(names) else "?")  # noqa: E731
    cls, n_cls = np.unique(codes[ok], return_counts=True)
    out: dict[str, Any] = {"spectra": int(ok.sum()), "classes": {name(classes, int(c)): int(n) for c, n in zip(cls, n_cls)}}
    gid = np.asarray(cols.get("id_group", np.full(codes.shape, -1))).reshape(-1)[ok]
    g, n_g = np.unique(gid[gid >= 0], return_counts=True)
    out["groups"] = [{"group": name(groups, int(a)), "spectra": int(b)} for a, b in
                     sorted(zip(g, n_g), key=lambda p: -p[1])[:5]]
    unknown = codes == classes.index("unknown") if "unknown" in classes else np.zeros(codes.shape, bool)
    out["unknown_share"] = round(float(unknown.sum() / ok.sum()), 4)
    depth = np.asarray(cols["band_depth"], float).reshape(codes.size, -1)[unknown] if "band_depth" in cols else None
    out["unknown_features"] = describe_features(depth, list(meta.get("id_features", []))) \
        if depth is not None and depth.size else ""
    return out


def spectrum(reader: ArchiveReader, index: int) -> dict[str, Any] | None:
    """Mean ± sd NIR reflectance of segment ``index`` and its identification, as the live spectrum endpoint."""
    for info in reader.streams_of_kind("nir"):
        if "reflectance" not in info.fields or not info.rows:
            continue
        marks = reader.stream_column(info.name, "tonnage_mark_t")
        rows = np.flatnonzero(_segment_of(reader, marks) == index)
        if "valid" in info.fields and rows.size:
            rows = rows[np.asarray(reader.stream_column(info.name, "valid"), bool)[rows]]
        if not rows.size:
            continue
        keys = [k for k in ("reflectance", "id_class", "id_group", "band_depth") if k in info.fields]
        cols = {k: reader.stream_column(info.name, k)[rows] for k in keys}
        spectra = np.asarray(cols["reflectance"], float).reshape(-1, np.shape(cols["reflectance"])[-1])
        wl = reader.wavelength_nm(info.name)
        axis = "wavelength_nm" if wl is not None and wl.size == spectra.shape[1] else "channel"
        x = np.asarray(wl if wl is not None and axis == "wavelength_nm" else np.arange(spectra.shape[1]), float)
        mean = np.asarray(np.nanmean(spectra, axis=0), float)
        sd = np.asarray(np.nanstd(spectra, axis=0), float)
        return {"lot_id": reader.lot_id, "segment": index, "stream": info.name, "n_spectra": int(spectra.shape[0]),
                "axis": axis, "wavelength_nm": [round(float(v), 3) for v in x.tolist()],
                "mean_reflectance": [round(float(v), 6) for v in mean.tolist()],
                "std_reflectance": [round(float(v), 6) for v in sd.tolist()],
                "identification": _identification(cols, info.metadata)}
    return None


def _rate_points(reader: ArchiveReader) -> tuple[list[dict[str, Any]], list[list[float]]]:
    """Belt rate (t/h) per tick from one station's coverage windows, and the belt stops as [start, end] spans."""
    cov = reader.coverage()
    if not len(cov["time_s"]):
        return [], []
    station = sorted(set(cov["station"].tolist()))[0]
    sel = cov["station"] == station
    t, lo, hi = cov["time_s"][sel], cov["start_mark_t"][sel], cov["end_mark_t"][sel]
    order = np.argsort(t, kind="stable")
    t, lo, hi = t[order], lo[order], hi[order]
    dt = np.diff(t, prepend=t[0] - (np.median(np.diff(t)) if t.size > 1 else 1.0))
    tick = float(np.median(dt)) if dt.size else 1.0
    rate = np.where(dt > 0, (hi - lo) / np.maximum(dt, 1e-9) * 3600.0, 0.0)
    lot_t = reader.lot_tonnes(hi)
    points = [{"time_s": float(a), "lot_t": float(b), "rate_t_h": float(c)} for a, b, c in zip(t, lot_t, rate)]
    moving = np.flatnonzero(hi - lo > 1e-9)
    stops: list[list[float]] = []
    if moving.size:
        first, last = moving[0], moving[-1]
        for i in range(first + 1, last + 1):
            if hi[i] - lo[i] <= 1e-9 or dt[i] > STOP_GAP_TICKS * tick:
                start = float(t[i - 1]) if dt[i] > STOP_GAP_TICKS * tick else float(t[i] - dt[i])
                if stops and abs(stops[-1][1] - start) <= tick * 1.01:
                    stops[-1][1] = float(t[i])
                else:
                    stops.append([start, float(t[i])])
    return points, stops


def _nir_points(reader: ArchiveReader) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for info in reader.streams_of_kind("nir"):
        keys = [k for k in ("tonnage_mark_t", "p_waste", "t2", "valid") if k == "tonnage_mark_t" or k in info.fields]
        if "p_waste" not in keys:
            continue
        c = reader.stream_table(info.name, keys)
        ok = np.asarray(c.get("valid", np.ones(len(c["p_waste"]), bool)), bool) & np.isfinite(c["p_waste"])
        rel = reader.lot_tonnes(c["tonnage_mark_t"])
        out += [{"lot_t": float(rel[i]), "p_waste": float(c["p_waste"][i]),
                 "t2": _py(c["t2"][i]) if "t2" in c else None} for i in np.flatnonzero(ok)]
    return sorted(out, key=lambda p: p["lot_t"])


def trends(reader: ArchiveReader) -> dict[str, Any]:
    """The whole lot's trends: ``rate`` (time_s, lot_t, rate_t_h), ``nir`` (lot_t, p_waste, t2), ``stops``
    ([start_s, end_s] belt stops) and ``markers`` (:func:`analysis.decide.markers.trend_markers`)."""
    rate, stops = _rate_points(reader)
    return {"lot_id": reader.lot_id, "rate": rate, "nir": _nir_points(reader), "stops": stops,
            "markers": trend_markers(reader.alarms(), increments(reader))}


def lot_summary(reader: ArchiveReader) -> dict[str, Any]:
    """What ``oreline lots show`` prints of the archive: segments, detection and increment counts, markers."""
    incs = increments(reader)
    by_status: dict[str, int] = {}
    for inc in incs:
        by_status[str(inc.get("status"))] = by_status.get(str(inc.get("status")), 0) + 1
    return {"archive": str(reader.path), "state": reader.state, "segments": segments(reader),
            "detections": len(detections(reader)), "increments": incs, "increments_by_status": by_status}


__all__ = ["ArchiveUnavailable", "lot_archive", "segments", "detections", "thumbnail", "increments", "spectrum",
           "trends", "lot_summary"]
