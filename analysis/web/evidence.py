"""Evidence the control room shows: mean NIR spectra per segment and detection thumbnails.

The lot monitor keeps per-segment NIR arrays only until the segment is decided,
so :class:`SpectrumCache` is a record sink of its own (attach it with
``service.line.add_sink(cache)``): it keeps, per segment, the running sum and sum
of squares of the NIR reflectance of valid, inspected measurements, for the last
``max_segments`` segments (bounded memory: ``3 × channels × 8`` bytes per segment).

:func:`thumbnail_png` encodes a detection's thumbnail array as PNG.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import math
import threading
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from conveyor.records import LotStart, Measurement, Record, StreamDescription
from conveyor.segments import SegmentPlan
from analysis.model import to_dict
from analysis.web.errors import EvidenceError
from spectra.identify.labels import detected_features, feature_text, relative_noise

#: Data keys tried first for the spectrum of a NIR stream, in order.
SPECTRUM_KEYS = ("reflectance", "spectrum", "mean_reflectance", "absorbance")
#: Data keys tried first for a detection thumbnail, in order.
THUMBNAIL_KEYS = ("thumbnail", "thumb", "image", "crop")
#: Largest thumbnail side served, px (bigger arrays are refused, not resized).
MAX_THUMBNAIL_PX = 1024


def _spectrum_key(desc: StreamDescription) -> str | None:
    """The data key of a NIR stream holding spectra: a known name, else the first float field of ≥ 8 channels."""
    for key in SPECTRUM_KEYS:
        if key in desc.fields:
            return key
    for key, (shape, dtype) in desc.fields.items():
        if np.dtype(dtype).kind == "f" and len(shape) in (1, 2) and shape[-1] >= 8:
            return key
    return None


def _wavelengths(meta: Mapping[str, Any], n: int) -> np.ndarray | None:
    for src in (meta, meta.get("grid") if isinstance(meta.get("grid"), Mapping) else None):
        if src and "wavelength_nm" in src:
            wl = np.asarray(src["wavelength_nm"], dtype=float).ravel()
            if wl.size == n:
                return wl
    return None


@dataclass
class _Accum:
    stream: str
    n: int
    sum: np.ndarray
    sumsq: np.ndarray
    id_class: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    id_group: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    #: per group code: [spectra, sum of band depths, sum of relative channel noise]; per class code likewise
    group_depth: dict[int, list] = dataclasses.field(default_factory=dict)
    class_depth: dict[int, list] = dataclasses.field(default_factory=dict)
    group_class: dict[int, collections.Counter] = dataclasses.field(default_factory=dict)


def _features(stats: list | None, keys: list[str]) -> str:
    """Features detected in the mean band depths of [spectra, depth sum, noise sum] (:mod:`spectra.identify.labels`)."""
    if not stats or not stats[0]:
        return ""
    n, depth_sum, noise_sum = stats
    return feature_text(detected_features(depth_sum[None, :] / n, keys, noise_sum / n))


def _identification(acc: _Accum, meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """Per-spectrum identification of a segment (spectra.identify): class counts, the material groups (most
    first) with their class, share and the features detected in their spectra, the unknown share and the
    features seen in the unknown spectra; None when the stream has none."""
    classes, groups = meta.get("id_classes"), meta.get("id_groups")
    if not classes or not groups or not acc.id_class:
        return None
    total = sum(acc.id_class.values())
    keys = list(meta.get("id_features", []))
    name = lambda codes, i: codes[i] if 0 <= i < len(codes) else "?"  # noqa: E731
    unknown = classes.index("unknown") if "unknown" in classes else -1
    rows = []
    for g, v in acc.id_group.most_common(5):
        klass = name(classes, acc.group_class[g].most_common(1)[0][0]) if acc.group_class.get(g) else "?"
        feats = _features(acc.group_depth.get(g), keys)
        rows.append({"group": name(groups, g), "class": klass, "spectra": v, "share": round(v / total, 4),
                     "features": feats, "label": f"{name(groups, g)} {100 * v / total:.0f} %" + (
                         f" ({feats})" if feats else "")})
    return {"spectra": total, "classes": {name(classes, k): v for k, v in sorted(acc.id_class.items())},
            "groups": rows, "unknown_share": round(acc.id_class.get(unknown, 0) / total, 4),
            "unknown_features": _features(acc.class_depth.get(unknown), keys)}


def _add_depths(table: dict[int, list], codes: np.ndarray, depth: np.ndarray, noise: np.ndarray) -> None:
    for c in np.unique(codes):
        sel = codes == c
        acc = table.setdefault(int(c), [0, 0.0, 0.0])
        acc[0] += int(sel.sum())
        acc[1] = acc[1] + depth[sel].sum(axis=0)
        acc[2] += float(noise[sel].sum())


class SpectrumCache:
    """Record sink keeping the mean NIR spectrum of the last ``max_segments`` segments. Thread-safe."""

    def __init__(self, max_segments: int = 256) -> None:
        if max_segments < 1:
            raise ValueError(f"max_segments must be >= 1, got {max_segments}")
        self.max_segments = max_segments
        self._lock = threading.Lock()
        self._reset(None)

    def _reset(self, start: LotStart | None) -> None:
        self.lot_id = start.lot.lot_id if start else ""
        self._plan = SegmentPlan(start.segment_mass_t, start.start_mark_t) if start else None
        self._keys: dict[str, str] = {}
        self._wl: dict[str, np.ndarray | None] = {}
        self._meta: dict[str, Mapping[str, Any]] = {}
        self._segments: collections.OrderedDict[int, _Accum] = collections.OrderedDict()

    def handle(self, record: Record) -> None:
        """Record-sink entry point (called by the line thread)."""
        with self._lock:
            if isinstance(record, LotStart):
                self._reset(record)
            elif isinstance(record, StreamDescription) and record.kind == "nir":
                key = _spectrum_key(record)
                if key is not None:
                    self._keys[record.name] = key
                    n = int(record.fields[key][0][-1])
                    self._wl[record.name] = _wavelengths(record.metadata, n)
                    self._meta[record.name] = record.metadata
            elif isinstance(record, Measurement) and record.stream in self._keys and self._plan is not None:
                self._add(record)

    def _add(self, m: Measurement) -> None:
        if not m.inspected or not bool(np.all(m.data.get("valid", True))):
            return
        spectra = np.asarray(m.data[self._keys[m.stream]], dtype=float)
        spectra = spectra.reshape(-1, spectra.shape[-1])
        rows = spectra
        spectra = spectra[np.all(np.isfinite(spectra), axis=1)]
        if spectra.shape[0] == 0 or self._plan is None:
            return
        seg = int(self._plan.index_of(m.tonnage_mark_t))
        if seg < 0:
            return
        acc = self._segments.get(seg)
        if acc is None or acc.stream != m.stream:
            if acc is not None:  # a second NIR stream: keep the first one seen for this segment
                return
            n_ch = spectra.shape[1]
            acc = _Accum(m.stream, 0, np.zeros(n_ch), np.zeros(n_ch))
            self._segments[seg] = acc
            while len(self._segments) > self.max_segments:
                self._segments.popitem(last=False)
        acc.n += spectra.shape[0]
        acc.sum += spectra.sum(axis=0)
        acc.sumsq += np.square(spectra).sum(axis=0)
        self._add_identification(acc, m, rows)

    def _add_identification(self, acc: _Accum, m: Measurement, spectra: np.ndarray) -> None:
        """Class and group counts of the measurement's spectra (rows of ``spectra``, as recorded) and the band
        depths and channel noise of each class and group."""
        if "id_class" not in m.data:
            return
        codes = np.asarray(m.data["id_class"]).reshape(-1)
        group = np.asarray(m.data.get("id_group", np.full(codes.size, -1))).reshape(-1)
        acc.id_class.update(int(c) for c in codes if c >= 0)
        acc.id_group.update(int(g) for g in group if g >= 0)
        for g, c in zip(group, codes):
            if g >= 0 and c >= 0:
                acc.group_class.setdefault(int(g), collections.Counter())[int(c)] += 1
        if "band_depth" not in m.data or spectra.shape[0] != codes.size:
            return
        depth = np.asarray(m.data["band_depth"], dtype=float).reshape(codes.size, -1)
        noise = relative_noise(spectra)
        ok = np.all(np.isfinite(depth), axis=1) & np.isfinite(noise) & (codes >= 0)
        if ok.any():
            _add_depths(acc.class_depth, codes[ok], depth[ok], noise[ok])
            _add_depths(acc.group_depth, group[ok], depth[ok], noise[ok])

    def segments(self) -> list[int]:
        """Indices of the segments held (oldest first)."""
        with self._lock:
            return list(self._segments)

    def spectrum(self, index: int) -> dict[str, Any]:
        """Mean and standard deviation of segment ``index``'s spectra.

        Returns ``{"lot_id", "segment", "stream", "n_spectra", "wavelength_nm" (or channel index when the
        stream gives no grid), "axis", "mean_reflectance", "std_reflectance", "identification"}`` (the last: class
        counts, top material groups (class, share, detected features, label), unknown share and the features of the unknown spectra; None when the stream
        archives no identification); raises EvidenceError when the
        segment has no spectra here (no NIR stream, nothing valid, or evicted).
        """
        with self._lock:
            acc = self._segments.get(index)
            if acc is None:
                held = f"{min(self._segments)}..{max(self._segments)}" if self._segments else "none"
                raise EvidenceError(f"no NIR spectra held for segment {index} of lot {self.lot_id!r} (held: {held})")
            mean = acc.sum / acc.n
            var = np.maximum(acc.sumsq / acc.n - mean**2, 0.0)
            wl = self._wl.get(acc.stream)
            n, stream = acc.n, acc.stream
            ident = _identification(acc, self._meta.get(stream, {}))
        axis = "wavelength_nm" if wl is not None else "channel"
        x = wl if wl is not None else np.arange(mean.size, dtype=float)
        return {
            "lot_id": self.lot_id, "segment": index, "stream": stream, "n_spectra": n, "axis": axis,
            "wavelength_nm": [round(float(v), 3) for v in x],
            "mean_reflectance": [float(v) for v in np.round(mean, 6)],
            "std_reflectance": [float(v) for v in np.round(np.sqrt(var), 6)],
            "identification": ident,
        }


def thumbnail_array(detection: Mapping[str, Any]) -> np.ndarray | None:
    """The image array of a detection dict (H×W or H×W×{1,3,4}), or None when it carries none."""
    keys = [k for k in THUMBNAIL_KEYS if k in detection] + [k for k in detection if k not in THUMBNAIL_KEYS]
    for key in keys:
        value = detection[key]
        if isinstance(value, np.ndarray) and value.ndim in (2, 3) and min(value.shape[:2]) >= 2:
            if value.ndim == 2 or value.shape[2] in (1, 3, 4):
                return value
    return None


def thumbnail_png(image: np.ndarray) -> bytes:
    """Encode a thumbnail array as PNG bytes.

    uint8 arrays are taken as they are; other numeric arrays are scaled from their
    finite min..max to 0..255. Raises EvidenceError for an empty, non-numeric or
    larger than ``MAX_THUMBNAIL_PX`` image.
    """
    from PIL import Image

    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or arr.size == 0 or arr.dtype.kind not in "uifb":
        raise EvidenceError(f"expected an H×W or H×W×3/4 numeric image, got shape {arr.shape} dtype {arr.dtype}")
    if max(arr.shape[:2]) > MAX_THUMBNAIL_PX:
        raise EvidenceError(f"expected a thumbnail of at most {MAX_THUMBNAIL_PX} px, got {arr.shape[:2]}")
    if arr.dtype != np.uint8:
        f = arr.astype(float)
        finite = np.isfinite(f)
        lo = float(f[finite].min()) if finite.any() else 0.0
        hi = float(f[finite].max()) if finite.any() else 1.0
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        arr = np.clip(np.where(finite, (f - lo) * scale, 0.0), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def plain(value: Any, *, max_list: int = 64) -> Any:
    """JSON-ready copy of record data: numpy scalars to Python, NaN/inf to None, numpy arrays of more than
    ``max_list`` elements replaced by ``{"shape": [...], "dtype": str}`` (Python lists are kept whole)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(to_dict(value), max_list=max_list)
    if isinstance(value, Mapping):
        return {str(k): plain(v, max_list=max_list) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return plain(value.item())
        if value.size > max_list:
            return {"shape": list(value.shape), "dtype": str(value.dtype)}
        return plain(value.tolist(), max_list=max_list)
    if isinstance(value, (list, tuple)):
        return [plain(v, max_list=max_list) for v in value]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
