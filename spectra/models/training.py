"""Training the NIR models from the library (+ simulated mixtures, + optional labelled field spectra).

Steps: split the library by physical sample (grain-size fractions stay together) into train and held-out
groups; simulate ore blends and ore + waste / ore + contaminant admixtures from the *train* groups through
the detector model; fit the classifier (calibrated on a separate simulated set), the PCA novelty model on
ore, the unmixing endmembers from train-group albedos, and calibrate the segment thresholds on independent
simulated ore-only segments. The held-out groups are recorded in the model for :mod:`spectra.models.evaluation`.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from spectra.detector import DetectorConfig, DetectorModel, simulate_referenced
from spectra.errors import LibraryError
from spectra.grid import InstrumentGrid, resolve_grid
from spectra.library import ResampledLibrary, SpectralLibrary, default_library_dir, library_digest, load_library
from spectra.lotdetector import Endmembers, LotDetectorModel, LotDetectorParams, calibrate, false_alarm_rate
from spectra.lots import LotVariation, simulate_lot
from spectra.materials import MINERALS, mineral_of
from spectra.models.bundle import CLASSES, Preprocessing, SpectraModel
from spectra.models.classifier import CalibratedLinearClassifier
from spectra.models.novelty import PcaNovelty
from spectra.models.unmixing import MineralUnmixer
from spectra.hapke import ssa_from_reff
from spectra.preprocessing.kernel import absorbance
from spectra.resample import to_grid
from spectra.scene import LOT_SEGMENT_DRIFT, LotProfile, MixtureSimulator
from spectra.segment_stats import SegmentCalibration, fit_class_calibration, log_odds

#: Version of the fitting procedure. Bump it with any change to the fitting code that changes the fitted model
#: (classifier, features, simulation of the training spectra). With the settings and the data digests it is the
#: model's cache key (:func:`training_hash`); no source bytes are hashed, so editing a comment refits nothing.
FIT_VERSION = "nir-2.5"
#: The version stamped into saved models (= :data:`FIT_VERSION`).
MODEL_VERSION = FIT_VERSION


@dataclass
class TrainConfig:
    """What to train. Sizes are numbers of simulated spectra; fractions are mass fractions."""

    #: a named grid (``ingaas256``, ``full``, a shipped grid file's stem) or the path of a grid file; the line's
    #: default model names its grid (``spectra.grid.DEFAULT_GRID``), this default is the small, fast one
    grid: str = "ingaas256"
    seed: int = 0
    test_fraction: float = 0.3
    n_train_per_class: int = 4000
    n_cal_per_class: int = 1500
    admix_frac_range: tuple[float, float] = (0.02, 0.5)
    #: per-spectrum classifier: a spectrum is waste/contaminant when that material is this share of its mass
    dominant_frac_range: tuple[float, float] = (0.5, 1.0)
    #: share of ore-class training spectra that are one pure ore or gangue sample (not a blend)
    pure_ore_share: float = 0.3
    #: grain-size factor (lognormal sigma) and moisture mass-fraction range of classifier training spectra
    clf_grain_log_sigma: float = 0.5
    clf_moisture_range: tuple[float, float] = (0.0, 0.10)
    #: group folds for the out-of-group calibration and the line's class prior it is weighted to
    n_cal_folds: int = 3
    class_prior: tuple[float, float, float] = (0.90, 0.05, 0.05)
    n_cal_segments: int = 400
    spectra_per_segment: int = 60
    false_alarm: float = 0.01
    reference_interval_s: float = 900.0
    C: float = 0.5
    #: lot detector calibration: clean simulated lots of training samples (segments of n spectra each),
    #: plus independent lots to check the false-alarm rate
    n_lot_cal: int = 160
    lot_segments: int = 16
    lot_spectra_per_segment: int = 40
    n_lot_check: int = 60
    lot_basis_components: int = 40

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def small(cls, grid: str = "ingaas256") -> TrainConfig:
        """The training path at a small size (about a minute): the quick benchmarks and tests that need a model to
        exist, not a good one."""
        return cls(grid=grid, n_train_per_class=600, n_cal_per_class=300, n_cal_segments=60, spectra_per_segment=20,
                   n_lot_cal=20, lot_segments=8, lot_spectra_per_segment=20, n_lot_check=0)


@dataclass
class LabelledSpectra:
    """Field spectra with labels in CLASSES ('gangue' counts as 'ore'), on any grid covering the model grid."""

    reflectance: np.ndarray
    labels: list[str]
    wavelength_nm: np.ndarray
    digest: str = ""


def _progress(msg: str) -> None:
    print(f"[spectra train] {msg}", file=sys.stderr, flush=True)


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def split_groups(library: SpectralLibrary | ResampledLibrary, test_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Train and held-out sample groups.

    Ore and gangue are split within each mineral (a mineral with one physical sample stays in training);
    waste and contaminant within each class. Grain-size fractions share a group, so never straddle the split.
    """
    strata: dict[str, set[str]] = {}
    for e in library.entries:
        key = (mineral_of(e.material) or e.material) if e.klass in ("ore", "gangue") else e.klass
        strata.setdefault(f"{e.klass}:{key}", set()).add(e.group)
    test: set[str] = set()
    for key in sorted(strata):
        groups = sorted(strata[key])
        if len(groups) < 2:
            continue
        rng = np.random.default_rng(_stable_seed(seed, key))
        n_test = int(np.clip(round(test_fraction * len(groups)), 1, len(groups) - 1))
        test.update(rng.permutation(groups)[:n_test].tolist())
    all_groups = {e.group for e in library.entries}
    return sorted(all_groups - test), sorted(test)


def training_hash(root: Path, config: TrainConfig, field: LabelledSpectra | None = None) -> str:
    """The model's cache key: :data:`FIT_VERSION`, the settings (training config and the grid's digest) and the
    data digests (library files and recipes, field spectra), hashed together."""
    grid = resolve_grid(config.grid)
    key = {"fit_version": FIT_VERSION,
           "settings": config.to_dict() | {"grid": f"{grid.name}:{grid.digest()}"},
           "data": {"library": library_digest(root), "field": field.digest if field is not None else None}}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


# --- simulation helpers --------------------------------------------------------------------------
def measured(sim: MixtureSimulator, det: DetectorModel, comps: np.ndarray, rng: np.random.Generator,
             reference_interval_s: float, **render_kw) -> np.ndarray:
    """Rendered scenes measured through the detector with references of random age."""
    scene = sim.render(comps, rng, **render_kw)
    k = comps.shape[0]
    t_h = rng.uniform(0.0, 24.0, k)
    age_h = rng.uniform(0.0, reference_interval_s / 3600.0, k)
    return simulate_referenced(det, scene, rng, t_h, age_h)


def simulate_labelled(sim: MixtureSimulator, det: DetectorModel, rng: np.random.Generator, n_per_class: int,
                      frac_range: tuple[float, float], reference_interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(3·n, ch) measured reflectance and labels 0=ore, 1=waste, 2=contaminant."""
    blocks, labels = [], []
    for label, klass in enumerate(CLASSES):
        comps = sim.ore_blends(rng, n_per_class)
        if klass != "ore":
            pool = sim.pool(klass)
            if pool.size == 0:
                raise LibraryError(f"no allowed {klass} spectra to simulate admixtures from")
            lo, hi = frac_range
            frac = np.exp(rng.uniform(np.log(lo), np.log(hi), n_per_class))
            comps = sim.admix(comps, pool[rng.integers(0, pool.size, n_per_class)], frac)
        blocks.append(measured(sim, det, comps, rng, reference_interval_s))
        labels.append(np.full(n_per_class, label))
    return np.vstack(blocks), np.concatenate(labels)


def classifier_compositions(sim: MixtureSimulator, rng: np.random.Generator, n_per_class: int,
                            config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Compositions (3·n, n_entries) for the per-spectrum classifier and labels 0=ore, 1=waste, 2=contaminant.

    Ore: blends of ore and gangue, plus ``pure_ore_share`` single samples (a spot of pure hematite or quartz is
    genuine cargo). Waste/contaminant: spectra whose mass is mostly (``dominant_frac_range``) one such sample
    mixed into an ore blend.
    """
    blocks, labels = [], []
    ore_pool = np.concatenate([sim.pool("ore"), sim.pool("gangue")])
    for label, klass in enumerate(CLASSES):
        comps = sim.ore_blends(rng, n_per_class)
        if klass == "ore":
            pure = rng.random(n_per_class) < config.pure_ore_share
            comps[pure] = 0.0
            comps[pure, ore_pool[rng.integers(0, ore_pool.size, int(pure.sum()))]] = 1.0
        else:
            pool = sim.pool(klass)
            if pool.size == 0:
                raise LibraryError(f"no allowed {klass} spectra to simulate from")
            frac = rng.uniform(*config.dominant_frac_range, n_per_class)
            comps = sim.admix(comps, pool[rng.integers(0, pool.size, n_per_class)], frac)
        blocks.append(comps)
        labels.append(np.full(n_per_class, label))
    return np.vstack(blocks), np.concatenate(labels)


def simulate_classifier_set(sim: MixtureSimulator, det: DetectorModel, rng: np.random.Generator, n_per_class: int,
                            config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Measured spectra (3·n, ch) of :func:`classifier_compositions` and their labels. Grain size and moisture
    vary widely (``clf_grain_log_sigma``, ``clf_moisture_range``), so neither is learnt as a class difference."""
    comps, labels = classifier_compositions(sim, rng, n_per_class, config)
    return classifier_render(sim, det, rng, comps, config), labels


def classifier_render(sim: MixtureSimulator, det: DetectorModel, rng: np.random.Generator, comps: np.ndarray,
                      config: TrainConfig) -> np.ndarray:
    """Measured spectra of ``comps`` with the classifier's wide grain-size and moisture variation."""
    n = comps.shape[0]
    grain = rng.lognormal(0.0, config.clf_grain_log_sigma, n)
    moist = rng.uniform(*config.clf_moisture_range, n)
    return measured(sim, det, comps, rng, config.reference_interval_s, grain_factor=grain, moisture_frac=moist)


def group_folds(library: ResampledLibrary, groups: list[str], n_folds: int, seed: int) -> list[list[str]]:
    """``groups`` split into ``n_folds`` folds, stratified by class (ore, gangue, waste, contaminant) so that
    every fold holds samples of each class that has >= ``n_folds`` groups."""
    klass = {e.group: e.klass for e in library.entries}
    folds: list[list[str]] = [[] for _ in range(n_folds)]
    rng = np.random.default_rng(_stable_seed(seed, "folds"))
    offset = 0
    for k in ("ore", "gangue", "waste", "contaminant"):
        members = sorted(g for g in groups if klass.get(g) == k)
        for i, g in enumerate(rng.permutation(members).tolist()):
            folds[(i + offset) % n_folds].append(g)
        offset += len(members)
    return folds


def fit_classifier(library: ResampledLibrary, groups: list[str], det: DetectorModel, pre: Preprocessing,
                   rng: np.random.Generator, config: TrainConfig, say: Callable[[str], None] = lambda _m: None,
                   extra: tuple[np.ndarray, np.ndarray] | None = None) -> CalibratedLinearClassifier:
    """The per-spectrum classifier on ``groups``, calibrated on out-of-group scores (group k-fold: each fold's
    samples scored by a model fitted without them), weighted to ``config.class_prior``. ``extra`` (reflectance,
    labels) join the final fit (labelled field spectra)."""
    z_out, y_out = [], []
    n_fold = max(config.n_train_per_class // 4, 200)
    for fold in group_folds(library, groups, config.n_cal_folds, config.seed):
        inner = MixtureSimulator(library, allowed_groups=[g for g in groups if g not in set(fold)])
        outer = MixtureSimulator(library, allowed_groups=fold)
        if min(outer.pool(c).size for c in ("ore", "gangue", "waste", "contaminant")) == 0:
            continue
        X, y = simulate_classifier_set(inner, det, rng, n_fold, config)
        Xo, yo = simulate_classifier_set(outer, det, rng, max(n_fold // 3, 100), config)
        clf_k = CalibratedLinearClassifier(CLASSES, C=config.C).fit(pre.features(X), y)
        z_out.append(clf_k.shrunk_scores(pre.features(Xo)))
        y_out.append(yo)
    sim = MixtureSimulator(library, allowed_groups=groups)
    X, y = simulate_classifier_set(sim, det, rng, max(config.n_train_per_class // 2, 200), config)
    if extra is not None:
        X, y = np.vstack([X, extra[0]]), np.concatenate([y, extra[1]])
    clf = CalibratedLinearClassifier(CLASSES, C=config.C).fit(pre.features(X), y)
    if not z_out:
        raise LibraryError(f"no group fold holds samples of every class; {len(groups)} groups")
    clf.calibrate(np.vstack(z_out), np.concatenate(y_out), np.asarray(config.class_prior))
    say(f"classifier on {len(y)} spectra, calibrated on {sum(map(len, y_out))} out-of-group spectra "
        f"({len(z_out)} group folds): T = {clf.temperature_:.2f}, offsets {np.round(clf.bias_, 2).tolist()}")
    return clf


def simulate_segments(sim: MixtureSimulator, det: DetectorModel, rng: np.random.Generator, n_segments: int,
                      n_spectra: int, *, lot: LotProfile | None = None, admix_pool: np.ndarray | None = None,
                      mass_frac: float | np.ndarray = 0.0, reference_interval_s: float = 900.0) -> np.ndarray:
    """Measured reflectance (n_segments, n_spectra, ch) of segments.

    Without ``lot`` every segment is a new random ore blend (segments of different lots); with ``lot`` the
    segments drift around that lot's blend (:data:`LOT_SEGMENT_DRIFT`). Each spectrum adds local
    heterogeneity. With ``admix_pool`` each segment carries one admixture entry (random from the pool) at
    ``mass_frac`` (scalar or per segment) on average, gamma-distributed from spectrum to spectrum."""
    cfg = sim.config
    d_comp, d_grain, d_moist = LOT_SEGMENT_DRIFT
    if lot is None:
        base = sim.ore_blends(rng, n_segments)
        g_seg = rng.lognormal(0.0, cfg.grain_log_sigma, n_segments)
        m_seg = rng.uniform(*cfg.moisture_frac_range, n_segments)
    else:
        base = sim.jitter(lot.blend[None, :], rng, n_segments, sigma=d_comp)
        g_seg = lot.grain_factor * rng.lognormal(0.0, d_grain, n_segments)
        m_seg = np.clip(lot.moisture_frac + d_moist * rng.standard_normal(n_segments), 0.0, None)
    comps = sim.jitter(base, rng, n_spectra)
    frac = np.broadcast_to(np.asarray(mass_frac, float), (n_segments,))
    if admix_pool is not None and np.any(frac > 0):
        idx = np.repeat(admix_pool[rng.integers(0, admix_pool.size, n_segments)], n_spectra)
        local = np.clip(np.repeat(frac, n_spectra) * rng.gamma(4.0, 0.25, comps.shape[0]), 0.0, 0.95)
        comps = sim.admix(comps, idx, local)
    grain = np.repeat(g_seg, n_spectra) * rng.lognormal(0, 0.05, comps.shape[0])
    moist = np.clip(np.repeat(m_seg, n_spectra) + 0.003 * rng.standard_normal(comps.shape[0]), 0.0, None)
    r = measured(sim, det, comps, rng, reference_interval_s, grain_factor=grain, moisture_frac=moist)
    return r.reshape(n_segments, n_spectra, -1)


def build_unmixer(sim: MixtureSimulator, det: DetectorModel | None = None, rng: np.random.Generator | None = None,
                  config: TrainConfig | None = None, per_sample: bool = False) -> MineralUnmixer:
    """Mineral endmembers: the mean albedo of the allowed ore/gangue library samples of each mineral (or, with
    ``per_sample``, every sample as its own column). With a detector
    and an rng also the water model (:mod:`spectra.models.unmixing`): the mean albedo loss per unit moisture of
    training blends and the moisture calibration on measured spectra (wet 0-15 %, any grain size and light)."""
    names: list[str] = []
    cols: list[int] = []
    mineral_of_col: list[int] = []
    for mineral in MINERALS:
        members = [i for i, e in enumerate(sim.library.entries)
                   if sim.allowed[i] and e.klass in ("ore", "gangue") and mineral_of(e.material) == mineral]
        if not members:
            continue
        cols += members
        mineral_of_col += [len(names)] * len(members)
        names.append(mineral)
    idx, col_mineral = np.array(cols), np.array(mineral_of_col)
    if per_sample:
        rows, dens, grain = sim.ssa[idx], sim.density[idx], sim.grain_um[idx]
    else:  # one column per mineral: the mean of its samples (4x fewer columns, ~16x faster NNLS sweeps)
        rows = np.vstack([sim.ssa[idx[col_mineral == k]].mean(axis=0) for k in range(len(names))])
        dens = np.array([sim.density[idx[col_mineral == k]].mean() for k in range(len(names))])
        grain = np.array([sim.grain_um[idx[col_mineral == k]][0] for k in range(len(names))])
        col_mineral = np.arange(len(names))
    if det is None or rng is None:
        return MineralUnmixer(names, rows, dens, grain, column_mineral=col_mineral)
    config = config or TrainConfig()
    comps = sim.ore_blends(rng, 400)
    m0 = 0.05
    loss = (ssa_from_reff(sim.render(comps, None, conditions=False))
            - ssa_from_reff(sim.render(comps, None, conditions=False, moisture_frac=m0))).mean(axis=0) / m0
    coef, intercept = fit_moisture(sim, det, rng, config)
    return MineralUnmixer(names, rows, dens, grain, np.maximum(loss, 0.0), coef, intercept,
                          column_mineral=col_mineral)


def fit_moisture(sim: MixtureSimulator, det: DetectorModel, rng: np.random.Generator, config: TrainConfig,
                 n: int = 3000, moisture_range: tuple[float, float] = (0.0, 0.15)) -> tuple[np.ndarray, float]:
    """Ridge regression of moisture mass fraction on log10(1/R) of measured training blends (random grain size,
    light, referencing); ridge strength by a 1/4 hold-out. Returns (coef (c,), intercept)."""
    comps = sim.ore_blends(rng, n)
    m = rng.uniform(*moisture_range, n)
    g = rng.lognormal(0.0, sim.config.grain_log_sigma, n)
    a = absorbance(measured(sim, det, comps, rng, config.reference_interval_s, grain_factor=g, moisture_frac=m))
    mu_a, mu_m = a.mean(axis=0), m.mean()
    ac, mc = a - mu_a, m - mu_m
    cut = 3 * n // 4
    scale = np.trace(ac.T @ ac) / ac.shape[1]
    best: tuple[float, float] | None = None
    for lam in (1e-4, 1e-3, 1e-2, 1e-1):
        b = np.linalg.solve(ac[:cut].T @ ac[:cut] + lam * scale * np.eye(ac.shape[1]), ac[:cut].T @ mc[:cut])
        err = float(np.sqrt(np.mean((ac[cut:] @ b - mc[cut:]) ** 2)))
        if best is None or err < best[0]:
            best = (err, lam)
    assert best is not None  # the loop above ran
    b = np.linalg.solve(ac.T @ ac + best[1] * scale * np.eye(ac.shape[1]), ac.T @ mc)
    return b, float(mu_m - mu_a @ b)


def calibrate_segments(model_parts: tuple[Preprocessing, CalibratedLinearClassifier], sim: MixtureSimulator,
                       det: DetectorModel, rng: np.random.Generator, config: TrainConfig) -> SegmentCalibration:
    """Thresholds from independent simulated ore-only segments (train groups, fresh random draws)."""
    pre, clf = model_parts
    segs = simulate_segments(sim, det, rng, config.n_cal_segments, config.spectra_per_segment,
                             reference_interval_s=config.reference_interval_s)
    flat = segs.reshape(-1, segs.shape[-1])
    p = clf.predict_proba(pre.features(flat)).reshape(config.n_cal_segments, config.spectra_per_segment, -1)
    alpha = config.false_alarm / 2.0
    lw = log_odds(p[..., 1], p[..., 0])
    lc = log_odds(p[..., 2], p[..., 0])
    cw, cc = fit_class_calibration(lw, alpha), fit_class_calibration(lc, alpha)
    n = config.spectra_per_segment
    fa = float(np.mean((lw.mean(1) > cw.threshold(n)) | (lc.mean(1) > cc.threshold(n))))
    return SegmentCalibration(cw, cc, config.false_alarm, config.n_cal_segments, n, fa)


def endmembers(sim: MixtureSimulator, *classes: str) -> Endmembers:
    """Albedo, density, grain size and names of the allowed library entries of ``classes``."""
    idx = np.concatenate([sim.pool(k) for k in classes])
    if idx.size == 0:
        raise LibraryError(f"no allowed library spectra of class {'/'.join(classes)} for the lot detector")
    return Endmembers(sim.ssa[idx], sim.density[idx], sim.grain_um[idx],
                      [sim.library.entries[i].usgs_name for i in idx])


def unseen_ore_novelty(pre: Preprocessing, sim: MixtureSimulator, det: DetectorModel, rng: np.random.Generator,
                       config: TrainConfig, n_folds: int = 3, n_segments: int = 60,
                       n_spectra: int = 20) -> np.ndarray:
    """Novelty fractions of segments of ore the novelty model has NOT seen (group cross-validation).

    The training ore/gangue sample groups are split into folds; for each fold a novelty model is fitted on
    blends of the other training groups and applied to lots made of the fold's groups only. This is how novel
    an unseen (held-out, or a new supplier's) ore looks, and it sets the library-only limit honestly.
    """
    groups = sorted({sim.library.entries[i].group for i in np.concatenate([sim.pool("ore"), sim.pool("gangue")])})
    order = rng.permutation(len(groups))
    out = []
    for k in range(n_folds):
        fold = {groups[i] for i in order[k::n_folds]}
        allowed = [g for g in groups if g not in fold]
        inner = MixtureSimulator(sim.library, allowed_groups=allowed, config=sim.config)
        outer = MixtureSimulator(sim.library, allowed_groups=sorted(fold), config=sim.config)
        pools = (inner.pool("ore"), inner.pool("gangue"), outer.pool("ore"), outer.pool("gangue"))
        if min(x.size for x in pools) == 0:
            continue
        n = max(config.n_train_per_class // 2, 200)
        fit = pre.features(measured(inner, det, inner.ore_blends(rng, n), rng, config.reference_interval_s))
        cal = pre.features(measured(inner, det, inner.ore_blends(rng, n // 2), rng, config.reference_interval_s))
        nov = PcaNovelty(alpha=0.01).fit(fit, cal)
        for _ in range(max(1, n_segments // 4)):
            r = simulate_lot(outer, det, rng, 4, n_spectra)
            f = pre.features(r.reshape(-1, r.shape[-1]))
            out.extend(nov.novel(*nov.score(f)).reshape(4, n_spectra).mean(axis=1).tolist())
    return np.asarray(out)


def feature_basis(features: np.ndarray, n_components: int = 40) -> np.ndarray:
    """(k, c) leading principal directions of (training) feature vectors, for the lot detector."""
    x = features[np.random.default_rng(0).permutation(features.shape[0])[:6000]]
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    return vt[: min(n_components, vt.shape[0])]


def build_lot_detector(pre: Preprocessing, novelty: PcaNovelty, sim: MixtureSimulator, det: DetectorModel,
                       rng: np.random.Generator, config: TrainConfig, params: LotDetectorParams | None = None,
                       progress: Callable[[str], None] | None = None,
                       basis: np.ndarray | None = None, moisture=None) -> LotDetectorModel:
    """Lot detector from the training endmembers, thresholds calibrated on clean simulated training lots;
    ``moisture`` (reflectance (n, c) → moisture (n,), the unmixer's calibration) for the wet probes."""
    say = progress or (lambda _m: None)
    model = LotDetectorModel(sim.grid.wavelength_nm, pre.features, lambda f: novelty.novel(*novelty.score(f)),
                             endmembers(sim, "waste"), endmembers(sim, "contaminant"), endmembers(sim, "ore", "gangue"),
                             params, basis=basis, moisture=moisture)
    variation = LotVariation(reference_interval_s=min(config.reference_interval_s, 600.0))

    def lots(n: int) -> list[np.ndarray]:
        return [simulate_lot(sim, det, rng, config.lot_segments, config.lot_spectra_per_segment, variation=variation)
                for _ in range(n)]

    from dataclasses import replace

    th = calibrate(model, lots(config.n_lot_cal), spectra_per_segment=config.lot_spectra_per_segment)
    unseen = unseen_ore_novelty(pre, sim, det, rng, config)
    if unseen.size:
        lim = float(np.quantile(unseen, 1.0 - model.params.library_false_alarm))
        th = replace(th, library_novelty=max(th.library_novelty, lim))
        say(f"unseen-ore novelty (group CV, {unseen.size} segments): median {np.median(unseen):.2f}, "
            f"library-only limit {th.library_novelty:.2f}")
    model.thresholds = th
    fa, n = false_alarm_rate(model, lots(config.n_lot_check)) if config.n_lot_check else (float("nan"), 0)
    model.thresholds = replace(model.thresholds, check_false_alarm=fa, check_segments=n)
    say(f"lot detector calibrated on {config.n_lot_cal} training lots; false alarms on {n} segments of "
        f"{config.n_lot_check} independent training lots: {100 * fa:.2f} %")
    return model


def train_model(config: TrainConfig | None = None, library_root: str | Path | None = None,
                field: LabelledSpectra | None = None,
                progress: Callable[[str], None] | None = _progress) -> SpectraModel:
    """Train all models; returns the :class:`SpectraModel` (not saved). Progress lines go to ``progress``."""
    config = config or TrainConfig()
    say = progress or (lambda _m: None)
    t0 = time.monotonic()
    root = Path(library_root) if library_root is not None else default_library_dir()
    grid: InstrumentGrid = resolve_grid(config.grid)
    lib = load_library(root)
    rlib = lib.resample(grid, skip_uncovered=True)
    train_groups, test_groups = split_groups(rlib, config.test_fraction, config.seed)
    say(f"library: {len(rlib.entries)} spectra on {grid.name} ({len(rlib.skipped)} not covering it); "
        f"{len(train_groups)} train / {len(test_groups)} held-out sample groups")
    rng = np.random.default_rng(config.seed)
    sim = MixtureSimulator(rlib, allowed_groups=train_groups)
    det = DetectorModel(grid, DetectorConfig(), seed=config.seed)
    # ore blends and 2-50 % admixtures for the novelty model (ore part) and the lot detector's feature basis (which
    # uses 6,000 of them); the per-spectrum classifier simulates its own set (fit_classifier)
    X, y = simulate_labelled(sim, det, rng, max(config.n_train_per_class // 2, 100), config.admix_frac_range,
                             config.reference_interval_s)
    # novelty calibration: ore blends only (the classifier calibrates on its own out-of-group spectra)
    Xc = measured(sim, det, sim.ore_blends(rng, config.n_cal_per_class), rng, config.reference_interval_s)
    yc = np.zeros(len(Xc), int)
    n_field = 0
    if field is not None:
        fr = to_grid(field.wavelength_nm, field.reflectance, grid, what="field spectra")
        fy = np.array([CLASSES.index("ore" if lab == "gangue" else lab) for lab in field.labels])
        X, y = np.vstack([X, fr]), np.concatenate([y, fy])
        n_field = len(fy)
    say(f"simulated {len(y)} training + {len(yc)} calibration spectra ({time.monotonic() - t0:.1f} s)")
    pre = Preprocessing()
    F, Fc = pre.features(X), pre.features(Xc)
    clf = fit_classifier(rlib, train_groups, det, pre, np.random.default_rng(config.seed + 3000), config, say,
                         extra=(X[len(X) - n_field:], y[len(y) - n_field:]) if n_field else None)
    say(f"classifier ready ({time.monotonic() - t0:.1f} s)")
    nov = PcaNovelty(alpha=0.01).fit(F[y == 0], Fc[yc == 0])
    say(f"novelty: {nov.components_.shape[0]} components, T2 limit {nov.t2_limit_:.1f}, Q limit {nov.q_limit_:.3g}")
    unmixer = build_unmixer(sim, det, np.random.default_rng(config.seed + 4000), config)
    cal = calibrate_segments((pre, clf), sim, det, np.random.default_rng(config.seed + 1000), config)
    say(f"segment thresholds calibrated on {cal.calibration_segments} ore-only segments: empirical false alarms "
        f"{100 * cal.empirical_false_alarm:.2f} % ({time.monotonic() - t0:.1f} s)")
    lot = build_lot_detector(pre, nov, sim, det, np.random.default_rng(config.seed + 2000), config, progress=say,
                             basis=feature_basis(F, config.lot_basis_components), moisture=unmixer.moisture)
    say(f"lot detector ready ({time.monotonic() - t0:.1f} s)")
    info = {
        "train_groups": train_groups,
        "test_groups": test_groups,
        "skipped_files": [f for f, _ in rlib.skipped],
        "config": config.to_dict(),
        "library_digest": library_digest(root),
        "n_training_spectra": int(len(y)),
        "field_spectra": 0 if field is None else int(len(field.labels)),
        "trained_s": round(time.monotonic() - t0, 2),
    }
    return SpectraModel(grid, pre, clf, nov, unmixer, cal, MODEL_VERSION, training_hash(root, config, field), info,
                        lot_detector=lot)
