"""The speed work of issue 27 changes no output: the detector's candidates (every one, ``report_all``: boxes, kinds,
p(none), the 29 statistics, thumbnails) and the line station's records per window equal those of the reference
(tests/vision/data/speed_reference.json, written by tests/vision/speed_reference.py). The reference was written from
main's code before the speed work (w27d) and again at speed42, whose float32 box and Gaussian filters
(vision/filters.py) move p(none) by up to 8e-5 of itself and leave every box, kind and reported candidate as it was
(docs/vision.md, *speed42*); every later speed change is held to the reference as written then."""

from __future__ import annotations

import json
import math

import pytest

from tests.vision import speed_reference as ref

#: Exact: where an object is and how big its box is.
EXACT = {"area_mm2", "belt_m", "lateral_m", "frame_id", "thumbnail", "kind", "inspected", "reason", "lines", "seed", "scene"}
#: Floats: |a - b| <= REL_TOL * max(|a|, |b|) + ABS_TOL. The detector's maps are float32, and numpy's float32 sums
#: round differently on another CPU's SIMD path: on a machine other than the reference's, probabilities moved by up to
#: 3e-9 relative and the component statistics (differences of float32 means) by up to 1.3e-6 absolute. An algorithm's
#: change moves them by percent. Probabilities are compared relatively down to 1e-15 (a p(none) of 1e-11 that became
#: 1e-9 is a change), the 29 statistics with FEATURE_TOL both ways.
REL_TOL, ABS_TOL = 1e-6, 1e-15
FEATURE_TOL = 1e-5
STALE = ("the reference was computed from other inputs ({what}): a refit or a renderer change, not a speed change. "
         "Write it again with the code whose outputs are meant (`.venv/bin/python tests/vision/speed_reference.py`; "
         "see its docstring)")


def _same(a, b, path: str, key: str = "") -> list[str]:
    """Differences between the reference ``a`` and the output ``b`` (paths), floats within REL_TOL + ABS_TOL (FEATURE_TOL for the statistics) unless exact."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        return [d for k in a for d in _same(a[k], b[k], f"{path}.{k}", k)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items in the reference, {len(b)} now"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _same(x, y, f"{path}[{i}]", key)]
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool) and key not in EXACT:
        if math.isnan(a) and math.isnan(b):
            return []
        rel, tol = (FEATURE_TOL, FEATURE_TOL) if key == "features" else (REL_TOL, ABS_TOL)
        return [] if abs(a - b) <= rel * max(abs(a), abs(b)) + tol else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(ref.REFERENCE.read_text())


@pytest.fixture(scope="module")
def model(reference):
    m = ref._model()
    if m.version != reference["model_version"]:
        pytest.fail(STALE.format(what=f"model {reference['model_version']}, now {m.version}"))
    return m


def _check_run(want: dict, got: dict) -> None:
    if want["frames"] != got["frames"]:
        pytest.fail(STALE.format(what=f"rendered frames of the {want['scene']} run differ"))
    diffs = _same(want, got, want["scene"])
    assert not diffs, f"{len(diffs)} outputs moved, e.g.\n" + "\n".join(diffs[:12])


def _without_groups(det):
    """``det`` with the fragment groups and the thin sticks off: the reference predates them (on by default since
    RULE_GRP54 and RULE_THIN54); they only add detections, every other candidate judged as without them to the bit
    (tests/vision/test_fragments.py, test_sticks.py)."""
    det.group_fragments = False
    det.thin_sticks = False
    return det


@pytest.mark.parametrize("run", range(len(ref.DETECTOR_RUNS)), ids=[r[0] for r in ref.DETECTOR_RUNS])
def test_detector_candidates_unchanged(reference, model, run):
    scene, seed, lines, metres = ref.DETECTOR_RUNS[run]
    got = json.loads(json.dumps(ref.detector_run(model, _without_groups(model.detector()), scene, seed, lines, metres, 4.0, 512)))
    want = reference["detector"][run]
    assert sum(len(r["detections"]) for r in want["results"]) > 20  # the run has candidates to compare
    _check_run(want, got)


def test_detector_candidates_unchanged_with_4px_cells(reference, model):
    from dataclasses import replace

    from vision.detect import Detector

    det = _without_groups(Detector(ref.replace_scale(model.ore, 2.0), model.classifier, replace(model.params), width_px=1024,
                                   objectness=model.objectness))
    scene, seed, lines, metres = ref.FINE_RUN
    got = json.loads(json.dumps(ref.detector_run(model, det, scene, seed, lines, metres, 2.0, 1024)))
    _check_run(reference["detector_2mm"], got)


def test_line_station_windows_unchanged(reference, model):
    got = json.loads(json.dumps(ref.line_run(reference["line"]["length_m"])))
    want = reference["line"]
    assert any("measurement" in r for w in want["windows"] for r in w)
    diffs = _same(want, got, "line")
    assert not diffs, f"{len(diffs)} line records moved, e.g.\n" + "\n".join(diffs[:12])


def test_comparison_sees_a_moved_probability(reference):
    """The comparison itself: a p(none) moved by 1e-5 of itself, a statistic by 1e-4 or a box by 1e-12 m is a difference."""
    run = next(r for r in reference["detector"] if any(x["detections"] for x in r["results"]))
    for key, step in (("p_none", 1e-5), ("belt_m", 1e-12), ("features", 1e-4)):
        moved = json.loads(json.dumps(run))
        det = next(d for x in moved["results"] for d in x["detections"])
        assert not _same(run, moved, "run")
        if key == "features":
            det[key][0] += step * max(1.0, abs(det[key][0]))
        else:
            det[key] += step * (abs(det[key]) if key == "p_none" else 1.0)
        assert _same(run, moved, "run"), key


#: vision.filters sums in float32 (scipy in float64): its numbers are scipy's within this share of the input's largest
#: magnitude (a few units in float32's last place; speed42).
FILTER_TOL = 1e-6


@pytest.mark.parametrize("shape", [(1, 7), (2, 1), (5, 8), (57, 31), (120, 256)])
def test_fast_filters_equal_scipy(shape):
    """vision.filters gives scipy.ndimage's numbers within float32 rounding (FILTER_TOL), also on odd shapes, maps
    smaller than the kernel and strided views; every size in any order; the input is left as it was."""
    import numpy as np
    from scipy import ndimage as ndi

    from vision.filters import box_mean, box_means, gaussian, gaussians

    rng = np.random.default_rng(sum(shape))
    x = (3 * rng.standard_normal(shape + (3,))).astype(np.float32)[..., 1]  # a strided view, as feats[..., k]
    x0 = x.copy()

    def close(got: np.ndarray, want: np.ndarray, scale: np.ndarray) -> bool:
        return got.dtype == np.float32 and got.shape == want.shape and float(np.abs(got - want).max()) <= FILTER_TOL * float(np.abs(scale).max())

    for size in (3, 5, 7, 11):
        assert close(box_mean(x, size), ndi.uniform_filter(x, size, mode="nearest"), x)
    assert np.array_equal(box_mean(x, 1), x)
    stack = rng.standard_normal((4,) + shape).astype(np.float32)
    for size, got in zip((7, 3, 5), box_means(stack, (7, 3, 5))):
        assert close(got, ndi.uniform_filter(stack, size=(1, size, size), mode="nearest"), stack)
    for sigma, got in zip((0.7, 1.75, 4.0), gaussians(x, (0.7, 1.75, 4.0), truncate=3.0)):
        assert close(got, ndi.gaussian_filter(x, sigma, mode="nearest", truncate=3.0), x)
        assert np.array_equal(gaussian(x, sigma, truncate=3.0), got)
    assert np.array_equal(x, x0)  # the input is left as it was (filtered on copies)


def test_fast_filters_refuse_even_boxes():
    import numpy as np

    from vision.filters import box_means

    with pytest.raises(ValueError, match="odd box sizes"):
        box_means(np.zeros((4, 4), np.float32), (3, 4))


@pytest.mark.parametrize("shape", [(1, 7), (6, 8), (5, 7), (3, 4, 5), (2, 1), (5, 9, 6), (5, 8, 7), (2, 1, 1)])
def test_half_grid_equals_padded_means(shape):
    """objectness.half_grid without padding copies equals the means of the edge-padded 2 x 2 blocks, summed (a + b) +
    (c + d) (rows first); half_grid_channels gives the same numbers per channel of a channels-last stack."""
    import numpy as np

    from vision.objectness import half_grid, half_grid_channels, to_cells

    v = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    h, w = shape[-2:]
    p = np.pad(v, [(0, 0)] * (v.ndim - 2) + [(0, h % 2), (0, w % 2)], mode="edge")
    want = (p[..., 0::2, 0::2] + p[..., 1::2, 0::2]) + (p[..., 0::2, 1::2] + p[..., 1::2, 1::2])
    want *= np.float32(0.25)
    assert np.array_equal(half_grid(v), want)
    if v.ndim == 3:
        assert np.array_equal(half_grid_channels(np.ascontiguousarray(np.moveaxis(v, 0, -1))), np.moveaxis(want, 0, -1))
    if v.ndim == 2:
        assert np.array_equal(to_cells(want, h, w), np.repeat(np.repeat(want, 2, axis=0), 2, axis=1)[:h, :w])


@pytest.mark.parametrize("shape", [(1, 1), (3, 2), (18, 7200), (256, 65), (5, 64)])
def test_row_medians_equal_numpy(shape):
    import numpy as np

    from vision.features import row_medians

    a = np.random.default_rng(shape[1]).standard_normal(shape).astype(np.float32)
    a[:, ::3] = a[:, :1]  # ties, as quantised grey levels give
    assert np.array_equal(row_medians(a), np.median(a, axis=1))
    assert row_medians(a).dtype == np.median(a, axis=1).dtype


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (2, 2), (3, 2), (9, 5), (40, 33), (120, 256)])
def test_window_extremes_equal_scipy_morphology(shape):
    """filters.window_max / window_min give scipy's grey dilation (5 x 5), grey erosion (3 x 3) and iterated 3 x 3
    binary dilation exactly, also where the map is smaller than the window; bad input is refused."""
    import numpy as np
    from scipy import ndimage as ndi

    from vision.filters import window_max, window_min

    rng = np.random.default_rng(sum(shape))
    lab = ((rng.random(shape) < 0.2) * rng.integers(1, 60000, shape)).astype(np.uint16)
    lab0 = lab.copy()
    assert np.array_equal(window_max(lab, 2), ndi.grey_dilation(lab, size=(5, 5)))
    assert np.array_equal(window_min(lab, 1), ndi.grey_erosion(lab, size=(3, 3)))
    assert np.array_equal(lab, lab0)  # the input is left as it was
    mask = rng.random(shape) < 0.1
    for reach in (1, 3):
        got = window_max(mask, reach)
        assert got.dtype == bool and np.array_equal(got, ndi.binary_dilation(mask, np.ones((3, 3), bool), iterations=reach))
    with pytest.raises(ValueError, match="2-D map"):
        window_max(lab[None], 1)


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (32, 224), (70, 9), (562, 224), (33, 4)])
def test_counted_band_medians_equal_numpy(shape):
    """features.counted_band_medians (counting the cells' integer grey sums) gives np.median of the log grey of each
    band exactly, for odd and even counts and a short last band; cell_features' log grey is the table's value of the
    cell's sum; a sum beyond the table is refused."""
    import numpy as np

    from vision.features import _log_grey_table, cell_sums, counted_band_medians

    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    table = _log_grey_table(2)
    sums = rng.integers(0, table.size, shape).astype(np.uint16)
    sums[:, ::2] = sums[:, :1]  # ties, as on a belt of even grey
    got = counted_band_medians(sums, table, 32)
    lum = table[sums]
    want = [np.median(lum[i : i + 32]) for i in range(0, shape[0], 32)]
    assert got.dtype == np.float32 and np.array_equal(got, np.asarray(want, np.float32))
    image = rng.integers(0, 256, (2 * shape[0], 2 * shape[1], 3), dtype=np.uint8)
    s = cell_sums(image, 2)
    rgb = s.astype(np.float32)
    rgb *= 0.25
    total = rgb[..., 0] + rgb[..., 1]
    total += rgb[..., 2]
    total += 1.0
    assert np.array_equal(table[s.astype(np.int64).sum(axis=2)], np.log(total * (1.0 / 3.0)))
    with pytest.raises(ValueError, match="beyond the table"):
        counted_band_medians(sums + np.uint16(table.size), table, 32)


@pytest.mark.parametrize("hidden, classes", [((64, 32), 8), ((16,), 2), ((), 3)])
def test_stacked_ensemble_equals_members_averaged(hidden, classes):
    """KindClassifier scores its members in stacked products: equal to averaging each member's own softmax (or
    logistic) output within 1e-12; a member's array replaced after scoring is used at the next call."""
    import numpy as np

    from vision.classify import KindClassifier

    rng = np.random.default_rng(len(hidden) + classes)
    k = KindClassifier(hidden=hidden, members=3)
    sizes = [5, *hidden, 1 if classes == 2 else classes]
    k.mean_, k.scale_ = rng.standard_normal(5), rng.random(5) + 0.5
    k.classes_ = np.array(["none", "wood", "metal"][:classes] + [f"k{i}" for i in range(classes - 3)])
    k.coefs_ = [[rng.standard_normal((a, b)) for a, b in zip(sizes, sizes[1:])] for _ in range(3)]
    k.intercepts_ = [[rng.standard_normal(b) for b in sizes[1:]] for _ in range(3)]
    x = rng.standard_normal((7, 5))

    def by_member() -> np.ndarray:
        out = np.zeros((7, classes))
        for coefs, intercepts in zip(k.coefs_, k.intercepts_):
            a = (x - k.mean_) / k.scale_
            for w, b in zip(coefs[:-1], intercepts[:-1]):
                a = np.maximum(a @ w + b, 0.0)
            z = a @ coefs[-1] + intercepts[-1]
            if classes == 2:
                p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
                out += np.column_stack([1 - p1, p1])
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                out += e / e.sum(axis=1, keepdims=True)
        return out / 3

    np.testing.assert_allclose(k.proba(x), by_member(), rtol=0, atol=1e-12)
    k.coefs_[1][0] = k.coefs_[1][0] * 2.0
    np.testing.assert_allclose(k.proba(x), by_member(), rtol=0, atol=1e-12)
