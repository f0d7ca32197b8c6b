"""Identification by absorption features against the real shared references (spectra.identify)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.decide.segment import segment_class
from spectra.errors import GridError
from spectra.grid import grid_by_name
from spectra.identify import Identifier
from spectra.identify.combine import line_probabilities
from spectra.identify.unknown_rate import UnknownBaseline
from spectra.segment_stats import NirSegmentScore

ORELINE = Path(sys.prefix) / "bin" / "oreline"


@pytest.fixture(scope="module")
def idf() -> Identifier:
    return Identifier.from_library(grid_by_name("nir256_1014-1749nm"))


def _row(idf: Identifier, text: str) -> int:
    return next(i for i, r in enumerate(idf.references) if text in r.name)


def test_real_plastic_is_identified_by_its_ch_bands_without_its_own_sample(idf):
    i = _row(idf, "Plastic_HDPE GDS387")
    ident = idf.identify(idf.reference_reflectance[i], exclude_samples=np.array([idf.references[i].sample]))
    assert ident.klass[0] == "contaminant" and ident.group[0] == "polyethylene"
    assert idf.references[ident.best[0, 0]].sample != idf.references[i].sample
    text = idf.evidence(ident, 0)
    assert "C–H" in text and "1.21" in text and "1.7" in text and "polyethylene-like" in text


def test_real_hematite_is_ore_and_probabilities_are_not_constant(idf):
    i = _row(idf, "Hematite GDS27")
    ident = idf.identify(idf.reference_reflectance, exclude_samples=np.array([r.sample for r in idf.references]))
    assert ident.klass[i] == "ore" and ident.p[i, 0] > 0.5
    assert all(np.ptp(ident.p[:, k]) > 0.4 for k in range(4))  # no output sits at a prior for every input
    assert np.nanmax(ident.p[:, 1]) <= 0.5 + 1e-9  # waste is never confident: the Fe²⁺ band is not specific


def test_a_spectrum_no_reference_fits_is_unknown_never_ore(idf):
    wl = idf.grid.wavelength_nm
    odd = 0.6 - 0.45 * np.exp(-0.5 * ((wl - 1300.0) / 25.0) ** 2)  # a deep narrow band where no material has one
    ident = idf.identify(odd)
    assert ident.klass[0] == "unknown" and ident.p_unknown[0] > 0.9 and ident.p[0, 0] < 0.05
    assert "unlike every reference" in idf.evidence(ident, 0)


def test_bad_input(idf):
    with pytest.raises(GridError, match=r"expects \(n, 256\) reflectance, got shape \(2, 10\)"):
        idf.identify(np.ones((2, 10)))
    r = np.vstack([idf.reference_reflectance[0], np.full(idf.grid.n_channels, np.nan)])
    ident = idf.identify(r)
    assert ident.valid.tolist() == [True, False] and np.isnan(ident.p[1]).all()
    assert idf.evidence(ident, 1) == "not identified: invalid spectrum"


def test_outside_the_classifier_domain_the_identification_decides(idf):
    ident = idf.identify(idf.reference_reflectance[:2])
    p_clf = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05]])
    out = line_probabilities(p_clf, np.array([False, True]), ident, np.array([0.9, 0.05, 0.05]))
    assert np.allclose(out[0], ident.p[0]) and np.allclose(out.sum(axis=1), 1.0)
    assert out[1, 3] == pytest.approx(ident.p[1, 3])


def test_unknown_share_above_the_lot_baseline_flags_the_segment():
    base = UnknownBaseline(["C-H 1.21", "OH/H2O 1.45"])
    rng = np.random.default_rng(1)
    for _ in range(6):
        assert not base.update(rng.random(60) < 0.02, np.zeros((60, 2))).flagged
    depth = np.tile([0.06, 0.01], (60, 1))
    check = base.update(np.arange(60) < 20, depth)
    assert check.flagged and check.fraction == pytest.approx(1 / 3) and check.baseline < 0.05
    assert check.features == "C-H 1.21 µm 6 %"
    assert base.segments == 6  # a flagged segment does not join the baseline
    nir = NirSegmentScore(0.0, 0.0, 0.0, 60, False, False, 1.0, 1.0, flagged_unknown=True)
    assert segment_class(seen_by={"nir"}, nir_stations={"nir"}, vision_stations=set(), nir=nir,
                         foreign_objects=0) == "waste-suspect"


def test_unknown_share_that_moves_with_the_ore_is_not_flagged():
    """Clean lots whose unknown share drifts from segment to segment (the ore's own magnetite and moisture: sd 0.06
    about 0.28, as on the demo lot) stay below the limit; counting noise alone (binomial) flagged ~66 per 1,000
    segments of these lots, the limit with the segments' own spread about 1.6."""
    rng = np.random.default_rng(3)
    flagged = 0
    for _ in range(20):
        base = UnknownBaseline([])
        for _ in range(38):
            share = float(np.clip(rng.normal(0.28, 0.06), 0.0, 1.0))
            flagged += base.update(rng.random(110) < share).flagged
    assert flagged <= 3  # of 760 clean segments (alpha 1e-3: ~1 expected)
    base = UnknownBaseline([])
    for _ in range(8):
        base.update(rng.random(110) < float(np.clip(rng.normal(0.28, 0.06), 0.0, 1.0)))
    assert base.update(np.arange(110) < 90).flagged  # 82 % unknown in that lot is still a segment to sample


def test_evaluate_loso_through_the_installed_script(tmp_path):
    # one LOSO run ("--grid NAME"); the "--grid=NAME" spelling reaches the same parser through the installed script
    # in test_evaluate_loso_refuses_a_model (a LOSO run of its own for a spelling was the same work again)
    out = tmp_path / "loso"
    env = {**os.environ, "ORELINE_CACHE": str(tmp_path / "cache")}
    res = subprocess.run([str(ORELINE), "spectra", "evaluate", "--loso", "--grid", "ingaas256", "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    assert "non-black contaminants called contaminant" in res.stdout and "| p(unknown) |" in res.stdout
    assert "contaminant ROC AUC" in res.stdout and (out / "report.md").is_file() and (out / "loso.json").is_file()
    assert "| YES |" not in res.stdout  # no class output constant over all inputs
    assert "without NIR-ambiguous groups" in res.stdout and "| ore | p(ore) |" in res.stdout
    assert "| dark class / group |" in res.stdout and "fired clay" in res.stdout
    kin = json.loads((out / "loso.json").read_text())["summary"]["ore_recall_with_kin"]
    assert "| ore / gangue group |" in res.stdout and "single sample: no reference of its kind left" in res.stdout
    assert f"as measured {kin['as_measured']:.3f}, all renderings {kin['all_renderings']:.3f}" in res.stdout
    assert kin["left_out"] and kin["spectra"] > 0  # the secondary ore figure leaves out only single-sample groups
    _check_headline_per_rendering(res.stdout, json.loads((out / "loso.json").read_text()))


def _check_headline_per_rendering(stdout: str, report: dict) -> None:
    """The target table has a row per rendering set (as measured = headline, grain-size, moisture, all), each with
    and without the NIR-ambiguous groups; loso.json keeps every rendered row; the physics-limits table follows."""
    by = report["summary"]["targets_by_rendering"]
    assert list(by) == ["as measured (headline)", "grain-size variants", "moisture variants", "all renderings"]
    counts = {r: sum(x["rendering"] == r for x in report["rows"] if not x["black"]) for r in report["renderings"]}
    assert by["as measured (headline)"]["all"]["spectra"][0] == counts["as measured"] > 100
    assert by["grain-size variants"]["all"]["spectra"][0] == counts["finer ×0.5"] + counts["coarser ×2"]
    assert by["moisture variants"]["all"]["spectra"][0] == counts["damp 5 %"] + counts["wet 10 %"]
    assert by["all renderings"]["all"] == report["summary"]["targets"]  # nothing dropped
    assert len(report["rows"]) == report["real_spectra"] * len(report["renderings"])
    for label in by:
        for groups in ("all", "without NIR-ambiguous groups"):
            line = next(x for x in stdout.splitlines() if x.startswith(f"| {label} | {groups} |"))
            assert f"| {by[label]['all' if groups == 'all' else 'without_ambiguous']['spectra'][0]} |" in line
    lim = report["unknown_limit"]
    assert lim["calibrated_per_fold"][0] > 0 and lim["calibrated_per_fold"][0] < lim["calibrated_per_fold"][-1]
    assert "calibrated inside each fold" in stdout
    modes = {x["mode"]: x for x in report["summary"]["physics_limits"]}
    assert modes["wet plastics and wood"]["n"] > 20 and "1.21/1.45 µm depth ratio" in modes[
        "wet plastics and wood"]["quantity"]
    assert "| gibbsite vs gypsum |" in stdout and "route around it" in stdout


def test_evaluate_loso_refuses_a_model(tmp_path):
    res = subprocess.run([str(ORELINE), "spectra", "evaluate", "--loso", "--grid=ingaas256", "--model", "m.npz"],
                         capture_output=True, text=True, timeout=120, check=False)
    # refused by what --loso means, after argparse took "--grid=ingaas256" (a grid it did not parse is another error)
    assert res.returncode == 2 and "--loso scores the shared reference spectra" in res.stderr
    assert "--grid" not in res.stderr.split("error:")[-1]


def _site_folder(tmp_path: Path, n: int = 150) -> tuple[Path, Path]:
    """A site's genuine ore unlike the library: simulated blends with a site-specific tilt and a weak 1.30 µm band."""
    from spectra.formats import write_csv
    from spectra.library import load_library
    from spectra.scene import MixtureSimulator

    grid = grid_by_name("ingaas256")
    rng = np.random.default_rng(8)
    sim = MixtureSimulator(load_library().resample(grid, skip_uncovered=True))
    r = sim.render(sim.ore_blends(rng, n), rng)
    wl = grid.wavelength_nm
    r = r * (0.8 + 0.4 * (wl - wl[0]) / (wl[-1] - wl[0])) * (1 - 0.15 * np.exp(-0.5 * ((wl - 1300) / 30) ** 2))
    folder = tmp_path / "site"
    folder.mkdir()
    rows = ["file,class"]
    for i, row in enumerate(r):
        write_csv(folder / f"s{i:03d}.csv", wl, row)
        rows.append(f"s{i:03d}.csv,{'ore' if i % 4 else 'gangue'}")
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(rows) + "\n")
    return folder, labels


def test_site_novelty_makes_the_sites_own_ore_not_novel(tmp_path):
    folder, labels = _site_folder(tmp_path)
    out = tmp_path / "site-model.npz"
    env = {**os.environ, "ORELINE_CACHE": str(tmp_path / "cache")}
    res = subprocess.run([str(ORELINE), "spectra", "fit-novelty", "--grid=ingaas256", "--site-spectra", str(folder),
                          f"--labels={labels}", "--out", str(out)], capture_output=True, text=True, env=env,
                         timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    before, after = (float(x) / 100 for x in
                     re.search(r"novel ([\d.]+)% before, ([\d.]+)% after", res.stdout).groups())
    assert before > 0.5 and after < 0.1
    from spectra.models.bundle import SpectraModel

    site = SpectraModel.load(out)
    assert site.info["site_novelty"]["spectra"] == 150 and "-site" in site.training_hash
    bad = subprocess.run([str(ORELINE), "spectra", "fit-novelty", "--site-spectra", str(folder), "--labels",
                          str(tmp_path / "none.csv"), "--out", str(out)], capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert bad.returncode == 2 and "none.csv: no such file" in bad.stderr


def test_learned_decision_is_fitted_without_the_held_out_sample(idf):
    from spectra.identify.learned import decision_without, training_set

    assert idf.decision is not None
    ts = training_set(idf, n_per=4)
    i = _row(idf, "Hematite GDS27")
    held = idf.references[i].sample
    assert np.any(ts.sample == held)
    dec = decision_without(idf, ts, [held], idf.params.class_prior)
    assert not np.allclose(dec.mean, idf.decision.mean)  # its renderings, mixtures and references left out
    d, d2_ref, row, valid = idf.prepare(idf.reference_reflectance[i:i + 1], exclude_samples=np.array([held]))
    ident = idf._decide(d, d2_ref, row, valid, idf.ch_snr(idf.reference_reflectance[i:i + 1]), decision=dec)
    assert ident.klass[0] == "ore" and ident.p[0, :3].sum() + ident.p[0, 3] == pytest.approx(1.0)


def test_unknown_limit_is_the_quantile_of_unseen_samples_of_known_materials(idf):
    from spectra.identify.learned import decision_without, training_set
    from spectra.identify.temper import dark
    from spectra.identify.unknown_limit import MIN_CALIBRATION, UNKNOWN_QUANTILE, calibrated_limit

    d2 = np.arange(1000.0)
    is_dark = d2 >= 900  # dark renderings are decided apart and do not set the limit
    assert calibrated_limit(d2, is_dark, 20.0) == pytest.approx(np.quantile(d2[:900], UNKNOWN_QUANTILE))
    assert calibrated_limit(d2[:MIN_CALIBRATION - 1], is_dark[:MIN_CALIBRATION - 1], 20.0) == 20.0
    ts = training_set(idf, n_per=4)
    d, d2_ref, _ = ts.x_parts
    expected = np.quantile(d2_ref.min(axis=1)[~dark(d, idf.organic(d))], UNKNOWN_QUANTILE)
    assert decision_without(idf, ts, (), idf.params.class_prior).d2_unknown == pytest.approx(expected)
    assert idf.d2_unknown != idf.d2_unknown_fixed and idf.d2_unknown == idf.decision.d2_unknown
    # a spectrum just beyond the calibrated limit is unknown, just within it is not
    held = idf.references[_row(idf, "Hematite GDS27")].sample
    i = _row(idf, "Hematite GDS27")
    r = idf.reference_reflectance[i:i + 1]
    d_, d2r, row, valid = idf.prepare(r, exclude_samples=np.array([held]))
    near = d2r.min()
    for limit, want in ((near + 8.0, "ore"), (near - 8.0, "unknown")):
        idf.decision.d2_unknown, saved = limit, idf.decision.d2_unknown
        try:
            assert idf._decide(d_, d2r, row, valid, idf.ch_snr(r)).klass[0] == want
        finally:
            idf.decision.d2_unknown = saved


def test_relative_noise_is_the_robust_second_difference_noise_with_or_without_nan():
    """relative_noise takes np.median when nothing is NaN (fast) and np.nanmedian otherwise: the same values."""
    import warnings

    from spectra.identify.labels import relative_noise

    def reference(r: np.ndarray) -> np.ndarray:
        d2 = np.diff(r, 2, axis=1)
        mad = np.nanmedian(np.abs(d2 - np.nanmedian(d2, axis=1, keepdims=True)), axis=1)
        return 1.4826 * mad / np.sqrt(6.0) / np.maximum(np.nanmean(r, axis=1), 1e-4)

    rng = np.random.default_rng(2)
    r = 0.3 + 0.01 * rng.standard_normal((4, 40))
    np.testing.assert_allclose(relative_noise(r), reference(r), rtol=1e-12)
    np.testing.assert_allclose(relative_noise(r[0]), reference(r[:1]), rtol=1e-12)
    r[1, 7] = np.nan  # a NaN channel: nanmedian over the rest of that row, the other rows unchanged
    np.testing.assert_allclose(relative_noise(r), reference(r), rtol=1e-12)
    assert np.isfinite(relative_noise(r)).all()
    with warnings.catch_warnings():  # numpy's all-NaN slice warnings: the NaN is the answer
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(relative_noise(np.full((1, 40), np.nan)))[0]
