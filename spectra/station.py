"""The NIR spectrometer as a line station.

``from_config(name, section, context)`` builds a :class:`SpectrometerStation` from a site-configuration table
``[stations.<name>]``. Keys (defaults in brackets):

* ``kind`` — must be ``"spectrometer"``.
* ``position_m`` — metres downstream of the belt scale, > 0 (required).
* ``backend`` — ``"simulated"`` | ``"replay"`` | ``"ocean"`` [simulated].
* ``grid`` — ``"ingaas256"`` (900–1700 nm) | ``"full"`` (400–2400 nm) [ingaas256; the full range is not
  demonstrably better on held-out lots, see docs/spectra.md "Default grid"].
* ``spectra_per_s`` — averaged spectra per second, each covering the material that passed meanwhile [2.0].
* ``model`` — path of a trained model (.npz) on the same grid, or ``"default"`` (built-in model, trained on
  first use and cached by training-data hash) [default].
* ``white_reference_every_s`` — dark + white reference interval in line seconds [600].
* ``integration_time_ms`` [10], ``n_average`` [16], ``timeout_s`` per acquisition [2.0].
* ``reference_repeats`` — acquisitions averaged into each dark and white reference [64]. A reference is
  shared by every spectrum until the next one, so its noise does not average out over a segment; with a
  single 16-scan acquisition it steps every segment mean at each re-reference and the lot detector flags
  genuine ore (its limits assume reference noise well below one spectrum's noise).
* ``replay_path`` — file or folder of spectra (required for ``replay``); ``replay_loop`` [true].
* ``serial`` — device serial number (``ocean``, optional).
* simulator only: ``dropout_at_t`` / ``saturate_at_t`` — lists of [start, end] lot-relative tonnes where the
  spectrometer returns nothing / saturates; ``window_dirt_rate`` — loss of window transmission per hour [0];
  ``seed`` — overrides the line seed.

Per spectrum one :class:`Measurement` on stream ``<name>`` (kind ``"nir"``; fields in :meth:`describe`), and
per window :class:`Coverage` records: inspected, or not with reason ``dropout`` / ``saturated`` /
``invalid spectrum`` / ``empty belt`` / ``no reference``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from conveyor.config import check_station_section
from conveyor.errors import ConfigError
from conveyor.records import Coverage, LotStart, Measurement, Record, StreamDescription
from conveyor.station import MaterialWindow, Station, StationContext
from spectra.detector import DetectorConfig
from spectra.driver import Spectrometer, open_spectrometer
from spectra.errors import (AcquisitionTimeout, BackendError, GridError, InvalidSpectrumError, ModelError,
                            ReferencingError, SpectraError)
from spectra.cache import default_model, default_model_path
from spectra.grid import GRIDS, InstrumentGrid, grid_by_name
from spectra.models.bundle import SpectraModel
from spectra.models.training import TrainConfig
from spectra.scene import CargoScene

#: The line's default instrument grid (docs/spectra.md, "Default grid").
DEFAULT_GRID = "ingaas256"
#: Acquisitions averaged into each dark/white reference (``reference_repeats``): 64 × 16 scans × 10 ms ≈ 10 s.
DEFAULT_REFERENCE_REPEATS = 64

KEYS = {"kind", "position_m", "backend", "grid", "spectra_per_s", "model", "white_reference_every_s",
        "integration_time_ms", "n_average", "timeout_s", "replay_path", "replay_loop", "serial",
        "dropout_at_t", "saturate_at_t", "window_dirt_rate", "seed", "reference_repeats"}
SIM_ONLY = {"dropout_at_t", "saturate_at_t", "window_dirt_rate"}


def _number(name: str, section: Mapping[str, Any], key: str, default: float | None, *, positive: bool = True,
            minimum: float | None = None) -> float:
    path = f"stations.{name}.{key}"
    if key not in section:
        if default is None:
            raise ConfigError(path, "expected a number, key missing")
        return float(default)
    v = section[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(path, f"expected a finite number, got {v!r}")
    if positive and not v > 0:
        raise ConfigError(path, f"expected a number > 0, got {v!r}")
    if minimum is not None and v < minimum:
        raise ConfigError(path, f"expected a number >= {minimum}, got {v!r}")
    return float(v)


def _intervals(name: str, section: Mapping[str, Any], key: str) -> list[tuple[float, float]]:
    path = f"stations.{name}.{key}"
    raw = section.get(key, [])
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(path, f"expected a list of [start_t, end_t] pairs, got {raw!r}")
    out = []
    for item in raw:
        if (not isinstance(item, (list, tuple)) or len(item) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in item)
                or not item[1] > item[0]):
            raise ConfigError(path, f"expected [start_t, end_t] with end > start, got {item!r}")
        out.append((float(item[0]), float(item[1])))
    return out


def _in(intervals: list[tuple[float, float]], mark_t: float) -> bool:
    return any(a <= mark_t < b for a, b in intervals)


class SpectrometerStation(Station):
    """Acquires, references and scores NIR spectra of the material passing under the probe."""

    def __init__(self, name: str, position_m: float, spectrometer: Spectrometer, model: SpectraModel,
                 context: StationContext, *, spectra_per_s: float = 2.0, white_reference_every_s: float = 600.0,
                 scene: CargoScene | None = None, dropout_at_t: Sequence[tuple[float, float]] = (),
                 saturate_at_t: Sequence[tuple[float, float]] = (), model_path: str | Path | None = None) -> None:
        super().__init__(name, position_m)
        self.model_path = str(model_path) if model_path is not None else ""
        model.grid.check_same(spectrometer.grid, what=f"station {name}: model vs spectrometer")
        self.spectrometer = spectrometer
        self.model = model
        self.context = context
        self.period_s = 1.0 / float(spectra_per_s)
        self.white_reference_every_s = float(white_reference_every_s)
        self.scene = scene
        self.dropout_at_t = list(dropout_at_t)
        self.saturate_at_t = list(saturate_at_t)
        self.lot_id = ""
        self._next_t: float | None = None
        self._last_reference_s = -math.inf
        self._last_status = ""
        self._reference_error = ""

    # --- protocol ----------------------------------------------------------------------------------
    def describe(self) -> Sequence[StreamDescription]:
        n, k = self.model.grid.n_channels, len(self.model.minerals)
        scalar = ((), "float32")
        fields = {
            "reflectance": ((n,), "float32"), "p_ore": scalar, "p_waste": scalar, "p_contaminant": scalar,
            "t2": scalar, "q": scalar, "novel": ((), "bool"), "abundances": ((k,), "float32"),
            "unmix_residual": scalar, "valid": ((), "bool"),
        }
        units = {"reflectance": "1", "p_ore": "1", "p_waste": "1", "p_contaminant": "1", "t2": "1", "q": "1",
                 "abundances": "mass fraction", "unmix_residual": "albedo rms"}
        metadata = {
            "wavelength_nm": self.model.grid.wavelength_nm.tolist(),
            "fwhm_nm": self.model.grid.fwhm_nm.tolist(),
            "grid": self.model.grid.name,
            "model_version": self.model.model_version,
            "model_hash": self.model.training_hash,
            "minerals": list(self.model.minerals),
            "t2_limit": float(self.model.novelty.t2_limit_),
            "q_limit": float(self.model.novelty.q_limit_),
            "classes": list(self.model.classes),
            "spectra_per_s": 1.0 / self.period_s,
            "backend": type(self.spectrometer).__name__,
            "segment_calibration": self.model.calibration.to_dict(),
            # for spectra.segment.LotSegmentScorer.from_metadata: the model file and its lot-detector limits
            "model_path": self.model_path,
            "lot_detector": (self.model.lot_detector.header()["thresholds"]
                             if self.model.lot_detector is not None else None),
        }
        return [StreamDescription(self.name, self.name, "nir", fields, units, metadata)]

    def start_lot(self, start: LotStart) -> Sequence[Record]:
        self.lot_id = start.lot.lot_id
        self._next_t = None
        self._last_status = ""
        if self.scene is not None:
            self.scene.start_lot(start.lot.lot_id)
        self._reference(start.time_s)
        return ()

    def _reference(self, now_s: float) -> None:
        dark = self.spectrometer.take_dark()
        white = self.spectrometer.take_white() if dark.success else dark
        self._last_reference_s = now_s
        self._reference_error = "" if (dark.success and white.success) else (dark.error or white.error)

    def process(self, window: MaterialWindow) -> Sequence[Record]:
        if window.empty:
            self._next_t = None
            self._last_status = "empty belt"
            return [window.coverage(False, "empty belt")]
        if window.end_time_s - self._last_reference_s >= self.white_reference_every_s or self._reference_error:
            self._reference(window.start_time_s)
        if self._next_t is None or self._next_t < window.start_time_s:
            self._next_t = window.start_time_s + self.period_s
        out: list[Record] = []
        cuts: list[tuple[float, str]] = []  # (mark at record, status) in time order
        dur = window.duration_s
        while self._next_t <= window.end_time_s + 1e-9:
            t = self._next_t
            frac = (t - window.start_time_s) / dur if dur > 0 else 1.0
            mark = window.start_mark_t + frac * (window.end_mark_t - window.start_mark_t)
            rel = mark - window.lot_start_mark_t
            prev = window.start_mark_t + max(0.0, frac - self.period_s / max(dur, 1e-9)) * (
                window.end_mark_t - window.start_mark_t)
            rec, status = self._measure(t, mark, prev - window.lot_start_mark_t, rel)
            if rec is not None:
                out.append(rec)
            cuts.append((mark, status))
            self._next_t += self.period_s
        out.extend(self._coverage(window, cuts))
        return out

    def _coverage(self, window: MaterialWindow, cuts: list[tuple[float, str]]) -> list[Coverage]:
        """Contiguous runs of equal status; the stretch before a record belongs to that record, the tail after
        the last record to the last status (the next record will tell)."""
        spans: list[tuple[float, float, str]] = []
        start = window.start_mark_t
        for mark, status in cuts:
            spans.append((start, mark, status))
            start = mark
        tail_status = cuts[-1][1] if cuts else self._last_status
        spans.append((start, max(start, window.end_mark_t), tail_status))
        if cuts:
            self._last_status = cuts[-1][1]
        merged: list[list] = []
        for a, b, s in spans:
            if b <= a and merged:
                continue
            if merged and merged[-1][2] == s:
                merged[-1][1] = b
            else:
                merged.append([a, b, s])
        return [Coverage(window.lot_id, window.station, a, max(a, b), s == "", s, window.end_time_s)
                for a, b, s in merged]

    def _measure(self, t_s: float, mark_t: float, from_rel_t: float, rel_t: float) -> tuple[Measurement | None, str]:
        spec = self.spectrometer
        sim = hasattr(spec, "set_fault")
        if sim:
            spec.set_fault("dropout", _in(self.dropout_at_t, rel_t))
            spec.set_fault("saturate", _in(self.saturate_at_t, rel_t))
            if self.scene is not None:
                spec.present(self.scene.reflectance(from_rel_t, rel_t))
        if self._reference_error:
            return None, "no reference"
        try:
            acq = spec.acquire(mark_t)
        except AcquisitionTimeout:
            return None, "dropout"
        except BackendError as exc:
            return None, f"dropout: {exc}"
        try:
            r = spec.reflectance(acq)
            note = ""
        except InvalidSpectrumError as exc:
            r = np.full(self.model.grid.n_channels, np.nan)
            note = str(exc)
            status = "saturated" if "saturated" in note else "invalid spectrum"
            return self._record(t_s, mark_t, r, None, note), status
        except ReferencingError as exc:
            return None, f"no reference: {exc}"
        batch = self.model.score(r[None, :])
        if not batch.valid[0]:
            return self._record(t_s, mark_t, r, None, batch.reasons[0]), "invalid spectrum"
        return self._record(t_s, mark_t, r, batch, note), ""

    def _record(self, t_s: float, mark_t: float, r: np.ndarray, b, note: str) -> Measurement:
        k = len(self.model.minerals)
        f32 = np.float32
        nan = f32(np.nan)
        if b is None:
            data = {"reflectance": np.asarray(r, f32), "p_ore": nan, "p_waste": nan, "p_contaminant": nan,
                    "t2": nan, "q": nan, "novel": np.bool_(False), "abundances": np.full(k, np.nan, f32),
                    "unmix_residual": nan, "valid": np.bool_(False)}
        else:
            data = {"reflectance": np.asarray(r, f32), "p_ore": f32(b.p[0, 0]), "p_waste": f32(b.p[0, 1]),
                    "p_contaminant": f32(b.p[0, 2]), "t2": f32(b.t2[0]), "q": f32(b.q[0]),
                    "novel": np.bool_(b.novel[0]), "abundances": np.asarray(b.abundances[0], f32),
                    "unmix_residual": f32(b.unmix_residual[0]), "valid": np.bool_(True)}
        return Measurement(self.lot_id, self.name, t_s, mark_t, data, inspected=bool(data["valid"]), note=note)

    def close(self) -> None:
        self.spectrometer.close()


def from_config(name: str, section: Mapping[str, Any], context: StationContext) -> SpectrometerStation:
    """Build the NIR station ``name`` from its config table (keys in the module docstring).

    Raises :class:`ConfigError` naming ``stations.<name>.<key>`` for a missing/unknown key or a bad value,
    including a model on another grid, an unreadable model, or a replay folder without spectra.
    """
    backend = check_station_section(name, section, kind="spectrometer", keys=KEYS,
                                    backends=("simulated", "replay", "ocean"))
    position_m = _number(name, section, "position_m", None)
    grid_name = section.get("grid", DEFAULT_GRID)
    if grid_name not in GRIDS:
        raise ConfigError(f"stations.{name}.grid", f"expected one of {sorted(GRIDS)}, got {grid_name!r}")
    grid: InstrumentGrid = grid_by_name(grid_name)
    spectra_per_s = _number(name, section, "spectra_per_s", 2.0)
    white_every = _number(name, section, "white_reference_every_s", 600.0)
    integration_ms = _number(name, section, "integration_time_ms", 10.0)
    n_average = section.get("n_average", 16)
    if isinstance(n_average, bool) or not isinstance(n_average, int) or n_average < 1:
        raise ConfigError(f"stations.{name}.n_average", f"expected an integer >= 1, got {n_average!r}")
    timeout_s = _number(name, section, "timeout_s", 2.0)
    repeats = section.get("reference_repeats", DEFAULT_REFERENCE_REPEATS)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"stations.{name}.reference_repeats", f"expected an integer >= 1, got {repeats!r}")
    dirt = _number(name, section, "window_dirt_rate", 0.0, positive=False, minimum=0.0)
    dropout = _intervals(name, section, "dropout_at_t")
    saturate = _intervals(name, section, "saturate_at_t")
    if backend != "simulated":
        used = SIM_ONLY & set(section)
        if used:
            raise ConfigError(f"stations.{name}.{sorted(used)[0]}", f"fault injection needs backend 'simulated', got {backend!r}")
    seed = section.get("seed", context.seed)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"stations.{name}.seed", f"expected an integer, got {seed!r}")

    model_key = section.get("model", "default")
    if not isinstance(model_key, str) or not model_key:
        raise ConfigError(f"stations.{name}.model", f"expected a model path or 'default', got {model_key!r}")
    try:
        if model_key == "default":
            model = default_model(grid_name)
            model_path = default_model_path(TrainConfig(grid=grid_name))
        else:
            path = Path(model_key)
            if not path.is_absolute() and not path.exists():
                path = Path(context.run_dir) / path
            if not path.is_file():
                raise ConfigError(f"stations.{name}.model", f"expected an existing model file, got {model_key!r}")
            model = SpectraModel.load(path, grid)
            model_path = path.resolve()
    except (GridError, ModelError) as exc:
        raise ConfigError(f"stations.{name}.model", str(exc)) from exc

    common = dict(integration_time_ms=integration_ms, n_average=n_average, timeout_s=timeout_s,
                  reference_repeats=repeats)
    scene = None
    try:
        if backend == "simulated":
            det = DetectorConfig(integration_time_ms=integration_ms, n_average=n_average, window_dirt_per_h=dirt)
            clock = context.clock
            spec = open_spectrometer("simulated", grid, seed=seed, detector=det, clock=clock.now_s, timeout_s=timeout_s,
                                     reference_repeats=repeats)
            if context.cargo is not None:
                scene = CargoScene(grid, context.cargo, seed=seed, segment_mass_t=context.segment_mass_t)
        elif backend == "replay":
            if "replay_path" not in section:
                raise ConfigError(f"stations.{name}.replay_path", "expected a spectrum file or folder for backend 'replay'")
            loop = section.get("replay_loop", True)
            if not isinstance(loop, bool):
                raise ConfigError(f"stations.{name}.replay_loop", f"expected true/false, got {loop!r}")
            spec = open_spectrometer("replay", grid, path=section["replay_path"], loop=loop, **common)
        else:
            serial = section.get("serial")
            spec = open_spectrometer("ocean", grid, serial=serial, **common)
    except SpectraError as exc:
        key = "replay_path" if backend == "replay" else "backend"
        raise ConfigError(f"stations.{name}.{key}", str(exc)) from exc
    return SpectrometerStation(name, position_m, spec, model, context, spectra_per_s=spectra_per_s,
                               white_reference_every_s=white_every, scene=scene, dropout_at_t=dropout,
                               saturate_at_t=saturate, model_path=model_path)
