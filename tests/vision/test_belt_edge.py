"""Candidates centred off the belt (issue 27, w27e): the shipped detector, told the belt's width, counts a candidate
whose centre lies beyond the belt's edge and does not report it as an object; one on the belt at its edge is
reported; the station tells its detector the line's belt width."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.cargo import CargoModel, ForeignObject
from conveyor.clock import SimulatedClock
from conveyor.errors import ConfigError
from conveyor.records import LineEvent, LotIdentity, LotStart, Measurement
from conveyor.station import MaterialWindow, StationContext
from vision.detect import Detection, Detector
from vision.station_settings import BELT_EDGE
from vision.fit import SHIPPED_DIR, VisionModel, cache_path
from vision.pixelnet import PixelStream, shipped_pixelnet
from vision.scene import SceneObject
from vision.sim_camera import SimulatedCamera
from vision.station import from_config

from .conftest import station_context

#: Two large rubber sheets on today's belt (1.8 m wide, rendered): one 0.30 m from the centre line, one 0.62 m.
NEAR = SceneObject("rubber", 220.0, 160.0, 3000.0, 300.0, 0.0, 7)
FAR = SceneObject("rubber", 220.0, 160.0, 6000.0, -620.0, 0.0, 8)
BELT_M = 9.0


@pytest.fixture(scope="module")
def model_path() -> Path:
    """The shipped 4 mm/px union, by its cache key (a missing file fails: it ships with the code)."""
    return cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)


@pytest.fixture(scope="module")
def model(model_path) -> VisionModel:
    return VisionModel.load(model_path)


def _run(model: VisionModel, belt_width_m: float | None, report_all: bool = False) -> tuple[list[Detection], int, Detector]:
    """(detections, sum of FrameResult.off_belt, the detector) over BELT_M of rendered belt with NEAR and FAR."""
    cam = SimulatedCamera(tiles="heldout", seed=3, objects=[NEAR, FAR], width_px=model.width_px, frame_lines=1024,
                          mm_per_px=model.mm_per_px).open()
    det = model.detector()
    det.belt_width_m = belt_width_m
    det.report_all = report_all
    det.thin_sticks = False  # the features' candidates' rule; the sticks' own off-belt count is test_sticks.py's
    found, off = [], 0
    while cam.position_m < BELT_M:
        r = det.process(cam.grab())
        found += r.detections
        off += r.off_belt
    found += det.flush()
    return found, off, det


def _on(found: list[Detection], obj: SceneObject) -> list[Detection]:
    return [d for d in found if abs(d.belt_m * 1000.0 - obj.belt_mm) < obj.length_mm and abs(d.lateral_m * 1000.0 - obj.lateral_mm) < obj.length_mm]


def test_both_reported_without_a_belt_width(model):
    found, off, det = _run(model, None)
    assert _on(found, NEAR) and _on(found, FAR)
    assert off == 0 and det.off_belt_seen == 0
    assert not any(d.off_belt for d in found)


def test_on_the_belt_at_its_edge_is_reported(model):
    """The belt's edge 0.68 m from the centre line: FAR (0.62 m) lies on the belt, 6 cm inside its edge."""
    found, off, det = _run(model, 1.36)
    assert _on(found, NEAR) and _on(found, FAR)
    assert off == 0 and det.off_belt_seen == 0


def test_off_the_belt_counted_not_reported(model):
    """The belt's edge 0.5 m from the centre line: FAR (0.62 m) lies beyond it, NEAR (0.30 m) on it."""
    found, off, det = _run(model, 1.0)
    assert _on(found, NEAR) and not _on(found, FAR)
    assert off == det.off_belt_seen >= 1
    assert not any(d.off_belt for d in found)
    shown, off_all, _ = _run(model, 1.0, report_all=True)
    far = _on(shown, FAR)
    assert far and all(d.off_belt for d in far) and not any(d.off_belt for d in _on(shown, NEAR))
    assert off_all == off  # report_all shows it, flagged; the count is of the reported ones alike


def test_off_belt_is_beyond_half_the_width(model):
    det = model.detector()
    assert not det.off_belt(5.0)
    det.belt_width_m = 1.8
    assert det.off_belt(0.91) and det.off_belt(-0.91) and not det.off_belt(0.89)


@pytest.mark.parametrize("belt_edge", [True, False])
def test_station_tells_its_detector_the_belt_width(model_path, belt_edge):
    """With ``belt_edge`` the station's detector knows the line's belt width (1.8 m in this context); without it
    every candidate is judged as on the belt. The key's default is BELT_EDGE."""
    section = {"kind": "camera", "position_m": 5.0, "mm_per_px": 4.0, "width_px": 512, "model": str(model_path), "belt_edge": belt_edge}
    st = from_config("cam", section, station_context(None))
    assert st.detector.belt_width_m == (pytest.approx(1.8) if belt_edge else None)
    section.pop("belt_edge")
    assert from_config("cam", section, station_context(None)).detector.belt_width_m == (pytest.approx(1.8) if BELT_EDGE else None)


def test_station_refuses_a_belt_edge_not_bool(model_path):
    with pytest.raises(ConfigError, match="belt_edge"):
        from_config("cam", {"kind": "camera", "position_m": 5.0, "mm_per_px": 4.0, "width_px": 512, "model": str(model_path),
                            "belt_edge": "yes"}, station_context(None))


def test_station_tells_the_operator_what_it_counted_off_the_belt(model_path, tmp_path):
    """The line's belt rendered 1.8 m wide, the station's detector told 1.0 m (edge 0.5 m from the centre line; the
    image wider than the belt, as a camera that also sees the frame): the two plastic and rubber sheets 0.62 m out are
    not measurements but info events naming the count; the sheet 0.30 m out is reported."""
    cargo = CargoModel("fines", objects=[ForeignObject(5.0, "plastic", 400.0, 300.0, 0.30), ForeignObject(8.0, "plastic", 400.0, 300.0, -0.62),
                                         ForeignObject(10.0, "rubber", 400.0, 300.0, -0.62)])
    st = from_config("cam", {"kind": "camera", "position_m": 5.0, "mm_per_px": 4.0, "width_px": 512, "model": str(model_path),
                             "belt_edge": True, "thin_sticks": False},  # the sheets' count; the sticks': test_sticks.py
                     StationContext(SimulatedClock(), 1.8, 4.5, tmp_path, seed=1, cargo=cargo))
    st.detector.belt_width_m = 1.0
    st.start_lot(LotStart(LotIdentity("L1", "V", "H1", "fines", 100.0), 0.0, 0.0, 10.0))
    rate_t_s, mark, records = 6000 / 3600, 0.0, []
    for i in range(8):
        w = MaterialWindow("L1", "cam", i, i + 1, mark, mark + rate_t_s, i * 4.5, (i + 1) * 4.5, 4.5, 0.0)
        mark = w.end_mark_t
        records += st.process(w)
    records += st.end_lot(mark)
    found = [r.tonnage_mark_t for r in records if isinstance(r, Measurement)]
    events = [r for r in records if isinstance(r, LineEvent) and r.kind == "off_belt"]
    assert any(abs(m - 5.0) < 0.3 for m in found) and not any(abs(m - 8.0) < 0.3 or abs(m - 10.0) < 0.3 for m in found), found
    assert events and all(e.severity == "info" and "beyond the belt's edge (1 m belt)" in e.message for e in events)
    assert sum(int(e.message.split("vision: ")[1].split()[0]) for e in events) == st.detector.off_belt_seen == 2
    # each event carries the mark of the frame that held the sheet (frames of 1,024 lines here, about 1.7 t)
    assert [min(abs(e.mark_t - 8.0), abs(e.mark_t - 10.0)) < 2.0 for e in events] == [True, True], [e.mark_t for e in events]


def test_the_pixel_nets_region_off_the_belt_is_counted_not_reported(model):
    """With the belt's edge at 0.5 m, FAR (0.62 m out) is dropped by the union's rule; the pixel net (the default-off
    switch) also finds it, and its region, centred off the belt too, must not come back as an uncertain object: it is
    counted like the union's candidate. NEAR stays reported."""
    cam = SimulatedCamera(tiles="heldout", seed=3, objects=[NEAR, FAR], width_px=model.width_px, frame_lines=1024,
                          mm_per_px=model.mm_per_px).open()
    det = model.detector()
    det.belt_width_m = 1.0
    det.pixelnet = PixelStream(shipped_pixelnet())
    found = []
    while cam.position_m < BELT_M:
        found += det.process(cam.grab()).detections
    found += det.flush()
    assert _on(found, NEAR) and not _on(found, FAR), [(d.kind, d.lateral_m) for d in found]
    only_union, _, union_det = _run(model, 1.0)
    assert det.off_belt_seen > union_det.off_belt_seen  # the net's region on FAR was counted as well
