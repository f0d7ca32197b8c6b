import math

import numpy as np
import pytest

from conveyor.cargo import CargoModel, ForeignObject
from conveyor.errors import ConfigError
from conveyor.records import Coverage, LotEnd, LotIdentity, LotRun, LotStart, Measurement
from conveyor.station import MaterialWindow
from vision.errors import FrameError, ModelError
from vision.evaluate import match, score_table
from vision.fit import VisionModel
from vision.frames import Frame
from vision.scene import BeltScene, SceneObject
from vision.station import from_config
from vision.tiles import load_tiles

from .conftest import MM_PER_PX, WIDTH_PX, station_context


def _scene(seed=11, **kw):
    return BeltScene(load_tiles("heldout"), width_px=WIDTH_PX, mm_per_px=MM_PER_PX, seed=seed, dust_probability=0.0, **kw)


def _frames(scene, rows, lines, objects=()):
    out = []
    for i, r0 in enumerate(range(0, rows, lines)):
        n = min(lines, rows - r0)
        out.append(Frame(scene.render(r0, n, objects), i + 1, r0 * 0.001, 100.0, r0 * MM_PER_PX / 1000.0, 0.0, MM_PER_PX))
    return out


def test_large_objects_found_once_across_frame_boundaries(small_model):
    scene = _scene()
    objs = [SceneObject("plastic", 350, 250, belt_mm=1000.0, lateral_mm=-200, seed=1),
            SceneObject("rubber", 300, 200, belt_mm=2300.0, lateral_mm=300, seed=2)]  # straddles the 1024-row cut at 2048 mm
    for lines in (1500, 512):
        det = small_model.detector()
        found = [d for f in _frames(scene, 1800, lines, objs) for d in det.process(f).detections] + det.flush()
        m = match(objs, found)
        assert all(d is not None for _, d in m.pairs), (lines, m.pairs)
        assert len(found) - len(m.false_alarms) == 2
        d = dict((o.kind, d) for o, d in m.pairs)["plastic"]
        assert 150 < d.length_mm < 600 and d.thumbnail.shape == (64, 64, 3) and d.thumbnail.dtype == np.uint8
        assert 0 < d.probability <= 1 and d.kind in small_model.kinds


def test_empty_belt_is_no_material_not_clean(small_model):
    scene = _scene(empty_mm=[(0.0, 1e6)])
    det = small_model.detector()
    res = det.process(_frames(scene, 500, 500)[0])
    assert not res.inspected and res.reason == "no material"
    res = small_model.detector().process(_frames(_scene(), 500, 500)[0])
    assert res.inspected and res.material_fraction > 0.04


def test_detector_rejects_bad_frames(small_model):
    det = small_model.detector()
    with pytest.raises(FrameError, match="width"):
        det.process(Frame(np.zeros((64, WIDTH_PX - 1, 3), np.uint8), 1, 0, 100, 0, 0, MM_PER_PX))
    with pytest.raises(FrameError, match="dtype"):
        det.process(Frame(np.zeros((64, WIDTH_PX, 3), np.float32), 1, 0, 100, 0, 0, MM_PER_PX))
    with pytest.raises(FrameError, match="mm/px"):
        det.process(Frame(np.zeros((64, WIDTH_PX, 3), np.uint8), 1, 0, 100, 0, 0, 1.0))


def test_model_round_trip_and_bad_file(small_model, model_file, tmp_path):
    back = VisionModel.load(model_file)
    assert back.version == small_model.version and back.kinds == small_model.kinds
    assert back.params.smooth_cells == small_model.params.smooth_cells
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelError):
        VisionModel.load(bad)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ModelError, match="format"):
        VisionModel.load(tmp_path / "other.npz")


def test_score_table_counts():
    objs = [SceneObject("wood", 200, 50, 1000.0), SceneObject("metal", 40, 10, 5000.0)]
    from vision.detect import Detection

    d = Detection("wood", 0.9, 200, 50, 1e4, 1.01, 0.0, 0.0, 0.0, 9.0, np.zeros((64, 64, 3), np.uint8), 1)
    fa = Detection("cloth", 0.5, 100, 50, 1e4, 20.0, 0.5, 0.0, 0.0, 9.0, np.zeros((64, 64, 3), np.uint8), 2)
    t = score_table(match(objs, [d, fa]), belt_m=100.0)
    assert t["recall"]["kind:wood"]["recall"] == 1.0 and t["recall"]["kind:metal"]["recall"] == 0.0
    assert t["recall"]["size>=50:all"]["recall"] == 1.0 and t["false_alarms"] == 1 and t["false_alarms_per_1000_m"] == 10.0


@pytest.mark.parametrize("section,key", [
    ({"position_m": 5.0}, "kind"),
    ({"kind": "camera"}, "position_m"),
    ({"kind": "camera", "position_m": 5.0, "colour": "red"}, "colour"),
    ({"kind": "camera", "position_m": 5.0, "backend": "usb"}, "backend"),
    ({"kind": "camera", "position_m": 5.0, "imaged_fraction": 0.0}, "imaged_fraction"),
    ({"kind": "camera", "position_m": 5.0, "width_px": 20.5}, "width_px"),
    ({"kind": "camera", "position_m": 5.0, "fault": {"frame_loss_at_t": [[3, 1]]}}, "fault.frame_loss_at_t"),
    ({"kind": "camera", "position_m": 5.0, "backend": "folder"}, "folder"),
])
def test_config_errors_name_the_key(section, key):
    with pytest.raises(ConfigError) as err:
        from_config("cam", section, station_context(None))
    assert err.value.path == f"stations.cam.{key}"


@pytest.mark.slow
def test_station_in_a_simulated_line(model_file):
    cargo = CargoModel("fines", objects=[ForeignObject(2.5, "plastic", 400, 300, -0.3, 0.0)])
    ctx = station_context(cargo)
    st = from_config("cam", {"kind": "camera", "position_m": 50.0, "mm_per_px": 1.0, "width_px": 2048, "sim_mm_per_px": MM_PER_PX,
                             "imaged_fraction": 0.5, "model": str(model_file), "fault": {"frame_loss_at_t": [[11.0, 13.0]]}}, ctx)
    lot = LotIdentity("L1", "V", "H1", "fines", 100.0)
    run = LotRun()
    start = LotStart(lot, 0.0, 1000.0, 10.0)
    run.add(start)
    for d in st.describe():
        run.add(d)
        assert d.kind == "vision" and d.fields["thumbnail"] == ((64, 64, 3), "uint8") and "CC BY 4.0" in d.metadata["attribution"]
        assert d.metadata["mm_per_px"] == MM_PER_PX
    st.start_lot(start)
    rate, mark, records = 6000 / 3600, 1000.0, []
    for i in range(12):
        empty = i == 9
        w = MaterialWindow("L1", "cam", i, i + 1, mark, mark + (0 if empty else rate), i * 4.5, (i + 1) * 4.5, 4.5, 1000.0)
        mark = w.end_mark_t
        records += [run.add(r) for r in st.process(w)]
    records += [run.add(r) for r in st.end_lot(mark)]
    run.add(LotEnd("L1", 13.0, mark, "complete"))
    cov = [r for r in records if isinstance(r, Coverage)]
    # coverage tiles the lot without gaps or overlaps
    assert cov[0].start_mark_t == 1000.0 and math.isclose(cov[-1].end_mark_t, mark)
    assert all(math.isclose(a.end_mark_t, b.start_mark_t) for a, b in zip(cov, cov[1:]))
    reasons = {r.reason for r in cov if not r.inspected}
    assert {"not imaged", "frames lost", "no material"} <= reasons
    assert any(r.inspected for r in cov)
    meas = [r for r in records if isinstance(r, Measurement)]
    assert any(abs(m.tonnage_mark_t - 1002.5) < 0.2 for m in meas), [(m.tonnage_mark_t, m.data["kind"]) for m in meas]
    st.close()


def test_building_a_station_never_fits(monkeypatch, tmp_path):
    """No cached or shipped model for the station's scale: a ConfigError saying how to prepare it, at once, not a fit."""
    import vision.fit

    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path))
    monkeypatch.setattr(vision.fit, "fit_vision_model", lambda **kw: pytest.fail("from_config must not fit"))
    with pytest.raises(ConfigError, match="analysis.prepare") as err:
        from_config("cam", {"kind": "camera", "position_m": 5.0, "mm_per_px": 3.0, "width_px": 600}, station_context(None))
    assert err.value.path == "stations.cam.model"
