"""The NIR spectrometer as a line station.

``from_config(name, section, context)`` builds a :class:`SpectrometerStation` from a site-configuration table
``[stations.<name>]``; its keys, bounds and defaults are :data:`SETTINGS` (rendered into docs/configuration.md).

Per spectrum one :class:`Measurement` on stream ``<name>`` (kind ``"nir"``; fields in :meth:`describe`), and
per window :class:`Coverage` records: inspected, or not with reason ``dropout`` / ``saturated`` /
``invalid spectrum`` / ``empty belt`` / ``no reference``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from scipy.special import softmax

from conveyor.errors import ConfigError
from conveyor.records import Coverage, LotStart, Measurement, Record, StreamDescription
from conveyor.station import MaterialWindow, Station, StationContext
from spectra.detector import DetectorConfig
from spectra.driver import SceneDriven, Spectrometer, open_spectrometer
from spectra.errors import (AcquisitionTimeout, BackendError, GridError, InvalidSpectrumError, ModelError,
                            ReferencingError, SpectraError)
from spectra.cache import default_model, default_model_path, prepared_model
from spectra.grid import GRIDS, InstrumentGrid, resolve_grid, shipped_grid_names
from spectra.models.bundle import SpectraModel
from spectra.identify.combine import identifier_for, line_probabilities
from spectra.identify.identifier import EXTRA_GROUPS, ID_CLASSES, Identifier
from spectra.models.training import TrainConfig
from spectra.scene import CargoScene
from spectra.station_settings import SETTINGS

_log = logging.getLogger(__name__)


def _in(intervals: list[tuple[float, float]], mark_t: float) -> bool:
    return any(a <= mark_t < b for a, b in intervals)


class SpectrometerStation(Station):
    """Acquires, references and scores NIR spectra of the material passing under the probe."""

    def __init__(self, name: str, position_m: float, spectrometer: Spectrometer, model: SpectraModel,
                 context: StationContext, *, spectra_per_s: float = 2.0, white_reference_every_s: float = 600.0,
                 scene: CargoScene | None = None, dropout_at_t: Sequence[tuple[float, float]] = (),
                 saturate_at_t: Sequence[tuple[float, float]] = (), model_path: str | Path | None = None,
                 ore_needs_evidence: bool = True) -> None:
        super().__init__(name, position_m)
        self.ore_needs_evidence = bool(ore_needs_evidence)
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

    @property
    def truth_components(self) -> list[str]:
        """Components of the simulated truth: the model's minerals (with water) and ``other`` (all other mass)."""
        return list(self.model.minerals) + ["other"]

    @property
    def startup_notes(self) -> list[str]:
        """What the run prints about this station at start: the site novelty model, when one is used."""
        info = self.model.info.get("site_novelty")
        if not info:
            return ["novelty: the model's own (no site novelty; oreline spectra fit-novelty)"]
        return [f"novelty: site T²/Q from {self.model_path} ({info.get('spectra')} site ore spectra, "
                f"sha {info.get('sha')})"]

    # --- protocol ----------------------------------------------------------------------------------
    def describe(self) -> Sequence[StreamDescription]:
        n, k = self.model.grid.n_channels, len(self.model.minerals)
        scalar = ((), "float32")
        idf = self.identifier
        fields = {
            "reflectance": ((n,), "float32"), "p_ore": scalar, "p_waste": scalar, "p_contaminant": scalar,
            "p_unknown": scalar, "id_class": ((), "int16"), "id_group": ((), "int16"), "id_ref": ((), "int16"),
            "id_fit": scalar, "band_depth": ((len(idf.bank.features),), "float32"), "in_domain": ((), "bool"),
            "t2": scalar, "q": scalar, "novel": ((), "bool"), "abundances": ((k,), "float32"),
            "unmix_residual": scalar, "valid": ((), "bool"),
        }
        units = {"reflectance": "1", "p_ore": "1", "p_waste": "1", "p_contaminant": "1", "p_unknown": "1",
                 "id_fit": "1", "band_depth": "1", "t2": "1", "q": "1",
                 "abundances": "mass fraction", "unmix_residual": "albedo rms"}
        if self.scene is not None:  # simulation: the true mass fractions of each spectrum's material, for checks
            fields["true_abundances"] = ((len(self.truth_components),), "float32")
            units["true_abundances"] = "mass fraction"
        metadata = {
            "wavelength_nm": self.model.grid.wavelength_nm.tolist(),
            "fwhm_nm": self.model.grid.fwhm_nm.tolist(),
            "grid": self.model.grid.name,
            "model_version": self.model.model_version,
            "model_hash": self.model.training_hash,
            "site_novelty": ({**self.model.info["site_novelty"], "path": self.model_path}
                             if "site_novelty" in self.model.info else None),
            "minerals": list(self.model.minerals),
            **({"truth_components": self.truth_components} if self.scene is not None else {}),
            "t2_limit": float(self.model.novelty.t2_limit_),
            "q_limit": float(self.model.novelty.q_limit_),
            "classes": list(self.model.classes),
            # per-spectrum identification (spectra.identify): codes of id_class / id_group / id_ref, band_depth columns
            "id_classes": list(ID_CLASSES), "id_groups": self._groups,
            "id_references": [r.name for r in idf.references], "id_features": idf.bank.keys,
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
        if isinstance(spec, SceneDriven):
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
        return self._record(t_s, mark_t, r, batch, note, self._identify(r[None, :], batch)), ""

    @property
    def identifier(self) -> Identifier:
        """The reference identifier on the model's grid (built once per process)."""
        return identifier_for(self.model.grid, self.ore_needs_evidence)

    @property
    def _groups(self) -> list[str]:
        return sorted({r.group for r in self.identifier.references}) + list(EXTRA_GROUPS)

    def _identify(self, r: np.ndarray, batch) -> dict:
        """Identification fields of one valid spectrum; p_* become the line's combined probabilities."""
        idf = self.identifier
        ident = idf.identify(r)
        x = self.model.preprocessing.features(r)
        dom = self.model.classifier.in_domain(x)
        prior = softmax(self.model.classifier.bias_)
        p = line_probabilities(batch.p, dom, ident, prior)[0]
        ref = ident.class_ref if ident.class_ref is not None else ident.best[:, 0]  # the reference that labels it
        fit = ident.class_fit if ident.class_fit is not None else ident.fit[:, 0]
        f32 = np.float32
        return {"p_ore": f32(p[0]), "p_waste": f32(p[1]), "p_contaminant": f32(p[2]), "p_unknown": f32(p[3]),
                "id_class": np.int16(ID_CLASSES.index(str(ident.klass[0]))),
                "id_group": np.int16(self._groups.index(str(ident.group[0]))),
                "id_ref": np.int16(ref[0]), "id_fit": f32(fit[0]),
                "band_depth": np.asarray(ident.band_depth[0], f32), "in_domain": np.bool_(dom[0])}

    def _record(self, t_s: float, mark_t: float, r: np.ndarray, b, note: str,
                ident: dict | None = None) -> Measurement:
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
        data.update(ident or {"p_unknown": nan, "id_class": np.int16(-1), "id_group": np.int16(-1),
                              "id_ref": np.int16(-1), "id_fit": nan, "in_domain": np.bool_(False),
                              "band_depth": np.full(len(self.identifier.bank.features), np.nan, f32)})
        if self.scene is not None:
            data["true_abundances"] = np.asarray(self.scene.truth_fractions(self.truth_components), f32)
        return Measurement(self.lot_id, self.name, t_s, mark_t, data, inspected=bool(data["valid"]), note=note)

    def close(self) -> None:
        self.spectrometer.close()


def _station_grid(name: str, grid_name: str, context: StationContext) -> tuple[InstrumentGrid, str]:
    """The station's grid and the name the model cache keys it by (a grid file: its absolute path)."""
    try:
        grid: InstrumentGrid = resolve_grid(grid_name, base_dir=context.run_dir)
    except GridError as exc:
        raise ConfigError(f"stations.{name}.grid", str(exc)) from exc
    if grid_name not in GRIDS and grid_name not in shipped_grid_names():  # a file: the model cache keys its path
        grid_name = str((Path(grid_name) if Path(grid_name).is_file() else Path(context.run_dir) / grid_name).resolve())
    return grid, grid_name


def prepare(name: str, section: Mapping[str, Any], context: StationContext) -> None:
    """The explicit fit step of a NIR station (``analysis.site.prepare_station``, run by ``analysis.prepare`` and
    before building the station in ``compose``): fit and cache the default model of its grid when it has none yet
    (nothing to do for a model file). Opens no device."""
    cfg = SETTINGS.validate(name, section)
    _grid, grid_name = _station_grid(name, cfg["grid"], context)
    if cfg["model"] == "default":
        default_model(grid_name)


def site_novelty_model(name: str, path_text: str, model: SpectraModel, grid: InstrumentGrid,
                       context: StationContext) -> tuple[SpectraModel, Path]:
    """The model written by ``oreline spectra fit-novelty`` at ``path_text`` (working folder, then run folder),
    checked to be ``model`` with its novelty refitted to the site's ore; logged. Raises :class:`ConfigError`
    naming ``stations.<name>.site_novelty`` for a missing file, a model without site novelty, another grid or a
    site novelty fitted on another model."""
    key = f"stations.{name}.site_novelty"
    path = Path(path_text)
    if not path.is_file() and not path.is_absolute():
        path = Path(context.run_dir) / path
    if not path.is_file():
        raise ConfigError(key, f"expected a model file written by oreline spectra fit-novelty, got {path_text!r} "
                               "(no such file)")
    try:
        site = SpectraModel.load(path, grid)
    except (GridError, ModelError) as exc:
        raise ConfigError(key, f"{path}: {exc}") from exc
    info = site.info.get("site_novelty")
    if not isinstance(info, Mapping):
        raise ConfigError(key, f"{path}: expected a model written by oreline spectra fit-novelty, this one has no "
                               "site novelty")
    if info.get("base_model_hash") != model.training_hash:
        raise ConfigError(key, f"{path}: site novelty fitted on model {info.get('base_model_hash')}, the station's "
                               f"model is {model.training_hash}; refit it with oreline spectra fit-novelty")
    _log.info("station %s: site novelty from %s (T²/Q fitted on %s site ore spectra, sha %s)", name, path,
              info.get("spectra"), info.get("sha"))
    return site, path.resolve()


def from_config(name: str, section: Mapping[str, Any], context: StationContext) -> SpectrometerStation:
    """Build the NIR station ``name`` from its config table (keys: :data:`SETTINGS`). Fits nothing: the default
    model must have been fitted (:func:`prepare`, ``oreline spectra train``) or shipped.

    Raises :class:`ConfigError` naming ``stations.<name>.<key>`` for a missing/unknown key or a bad value,
    including a model on another grid, an unreadable or not yet fitted model, or a replay folder without spectra.
    """
    cfg = SETTINGS.validate(name, section)
    backend, position_m = cfg["backend"], cfg["position_m"]
    grid, grid_name = _station_grid(name, cfg["grid"], context)
    spectra_per_s, white_every = cfg["spectra_per_s"], cfg["white_reference_every_s"]
    integration_ms, n_average, timeout_s = cfg["integration_time_ms"], cfg["n_average"], cfg["timeout_s"]
    repeats = cfg["reference_repeats"]
    dirt = cfg.get("window_dirt_rate", 0.0)
    dropout, saturate = cfg.get("dropout_at_t", []), cfg.get("saturate_at_t", [])
    seed = context.seed if cfg["seed"] is None else cfg["seed"]

    model_key = cfg["model"]
    if not model_key:
        raise ConfigError(f"stations.{name}.model", f"expected a model path or 'default', got {model_key!r}")
    try:
        if model_key == "default":
            model = prepared_model(grid_name)
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
    if cfg["site_novelty"]:
        model, model_path = site_novelty_model(name, cfg["site_novelty"], model, grid, context)

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
            spec = open_spectrometer("replay", grid, path=cfg["replay_path"], loop=cfg["replay_loop"], **common)
        else:
            spec = open_spectrometer("ocean", grid, serial=cfg["serial"] or None, **common)
    except SpectraError as exc:
        key = "replay_path" if backend == "replay" else "backend"
        raise ConfigError(f"stations.{name}.{key}", str(exc)) from exc
    return SpectrometerStation(name, position_m, spec, model, context, spectra_per_s=spectra_per_s,
                               white_reference_every_s=white_every, scene=scene, dropout_at_t=dropout,
                               saturate_at_t=saturate, model_path=model_path,
                               ore_needs_evidence=cfg["ore_needs_evidence"])
