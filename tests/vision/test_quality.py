"""Detection quality pieces: bar length, the "none" class, duplicates in scoring, jittered fit tiles, line frames."""

from pathlib import Path

import numpy as np
import pytest

from conveyor.clock import SimulatedClock
from conveyor.station import StationContext
from vision.classify import NONE, KindClassifier
from vision.detect import Detection
from vision.errors import ModelError
from vision.evaluate import _poisson_upper95, match, score_table
from vision.fit import smooth_cells_for
from vision.frames import Frame
from vision.scene import BeltScene, SceneObject
from vision.station import from_config
from vision.tiles import augmented_tiles, load_tiles

from .conftest import MM_PER_PX, WIDTH_PX


def _detect(model, objs, rows=900, seed=21, report_all=False):
    scene = BeltScene(load_tiles("heldout"), width_px=WIDTH_PX, mm_per_px=MM_PER_PX, seed=seed, dust_probability=0.0)
    det = model.detector()
    det.report_all = report_all
    frame = Frame(scene.render(0, rows, objs), 1, 0.0, 100.0, 0.0, 0.0, MM_PER_PX)
    return det.process(frame).detections + det.flush()


def test_long_thin_bar_measured_close_to_its_length(small_model):
    """The measurement of the candidate on the bar (every candidate reported: the object decision of the small test
    model is not what this checks)."""
    bar = SceneObject("metal", 400, 30, belt_mm=900.0, lateral_mm=0.0, angle_deg=35.0, seed=3)
    found = match([bar], _detect(small_model, [bar], report_all=True)).pairs[0][1]
    assert found is not None
    assert 320 <= found.length_mm <= 480, found.length_mm
    assert found.width_mm < 120


def test_classifier_has_none_class_and_kinds_exclude_it(small_model):
    clf = small_model.classifier
    assert NONE in clf.classes_ and NONE not in small_model.kinds
    assert 0.0 < clf.none_max <= 0.5
    x = np.zeros((3, clf.mean_.shape[0]))
    kinds, prob, p_none = clf.predict(x)
    assert all(k in small_model.kinds for k in kinds) and np.all((prob > 0) & (prob <= 1)) and np.all((p_none >= 0) & (p_none <= 1))
    with pytest.raises(ModelError, match="component features"):
        clf.predict(np.zeros((1, 3)))
    with pytest.raises(ModelError, match="two classes"):
        KindClassifier().fit(np.zeros((4, 2)), ["none"] * 4)


def test_split_object_counts_as_duplicate_not_false_alarm():
    thumb = np.zeros((64, 64, 3), np.uint8)
    obj = SceneObject("concrete", 400, 300, belt_mm=1000.0)
    a = Detection("concrete", 0.9, 300, 200, 5e4, 1.0, 0.0, 0.0, 0.0, 9.0, thumb, 1)
    b = Detection("concrete", 0.9, 100, 80, 8e3, 1.15, 0.05, 0.0, 0.0, 6.0, thumb, 1)
    far = Detection("wood", 0.9, 100, 80, 8e3, 3.0, 0.0, 0.0, 0.0, 6.0, thumb, 1)
    m = match([obj], [a, b, far])
    assert m.pairs[0][1] is a and m.duplicates == [b] and m.false_alarms == [far]
    t = score_table(m, 100.0)
    assert t["false_alarms"] == 1 and t["duplicates"] == 1


def test_jittered_fit_tiles_differ_but_keep_shape():
    base = load_tiles("fit")
    aug = augmented_tiles("fit", 2, 0)  # the set the session model was fitted on (cached)
    assert len(aug) == 3 * len(base) and aug.tiles.shape[1:] == base.tiles.shape[1:]
    np.testing.assert_array_equal(aug.tiles[: len(base)], base.tiles)
    for k in (1, 2):
        diff = np.abs(aug.tiles[k * len(base) : (k + 1) * len(base)].astype(int) - base.tiles.astype(int)).mean()
        assert 2.0 < diff < 60.0


def test_smoothing_spans_about_20_mm():
    assert smooth_cells_for(4.0) == 5 and smooth_cells_for(8.0) == 3 and smooth_cells_for(16.0) == 3


def test_simulated_line_keeps_lines_per_frame_at_coarse_scale(model_file):
    ctx = StationContext(SimulatedClock(), 1.8, 4.5, Path("/tmp"), seed=1)
    st = from_config("cam", {"kind": "camera", "position_m": 5.0, "width_px": 2048, "sim_mm_per_px": MM_PER_PX,
                             "frame_lines": 512, "model": str(model_file)}, ctx)
    assert st.camera.frame_lines == 1024 and st.camera.mm_per_px == MM_PER_PX and st.camera.width_px == WIDTH_PX
    st.close()


def test_the_false_alarm_bound_is_the_poisson_95_percent_upper_bound():
    from scipy.stats import chi2, poisson

    assert [_poisson_upper95(k) for k in range(300)] == [float(chi2.ppf(0.95, 2 * (k + 1)) / 2) for k in range(300)]
    assert poisson.cdf(0, _poisson_upper95(0)) == pytest.approx(0.05) and poisson.cdf(7, _poisson_upper95(7)) == pytest.approx(0.05)
