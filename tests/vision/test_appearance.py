"""The appearance measure: a camera whose model was fitted on red ore, shown grey crushed rock, raises one
``vision appearance`` alarm with the figure and marks its windows uninspected instead of reporting objects; the
alarm goes through the line's alarm path (station → LineEvent → LotMonitor → AlarmBook) and clears when the fitted
cargo is back."""

import math
from pathlib import Path

import numpy as np
import pytest

from analysis.decide import AlarmBook, LotMonitor
from analysis.site import load_site
from conveyor.clock import SimulatedClock
from conveyor.resources import shared_data_dir
from conveyor.records import Coverage, LineEvent, LotEnd, LotIdentity, LotRun, LotStart, Measurement
from conveyor.station import MaterialWindow, StationContext
from vision.appearance import (MIN_LIMIT, AppearanceMonitor, calibrate_limit, frame_figures, frame_unusual_share,
                               unusual_level)
from vision.scene import BeltScene
from vision.station import APPEARANCE_REASON, from_config
from vision.tiles import ROCKS_DIR, load_tiles
from tests.vision.conftest import MM_PER_PX, WIDTH_PX




def rock_tiles():
    return load_tiles(shared_data_dir() / "vision" / ROCKS_DIR / "labeled")


def _scene(tiles, seed):
    return BeltScene(tiles, width_px=WIDTH_PX, mm_per_px=MM_PER_PX, seed=seed, dust_probability=0.15)


def test_level_is_the_tail_of_the_fitted_density(small_model):
    ore = small_model.ore
    lo, hi = unusual_level(ore, 0.05), unusual_level(ore, 0.01)
    assert 0 < lo < hi < float(ore.nll_table_.max() - ore.nll_median_)


def test_band_minimum_ignores_a_large_object_but_not_a_new_cargo():
    score = np.zeros((100, 400), np.float32)
    cols = np.ones(400, bool)
    score[10:60, 20:120] = 10.0  # a tarpaulin over a quarter of the belt width
    assert frame_unusual_share(score, cols, 5.0) == 0.0
    score[:, :] = np.where(np.arange(400) % 2, 10.0, 0.0)  # half of every band unusual
    assert frame_unusual_share(score, cols, 5.0) == pytest.approx(0.5)
    none = np.zeros(400, bool)  # belt not recognised: the central half of the image is judged
    score[:, :] = 0.0
    score[:, 100:300] = 10.0
    assert frame_unusual_share(score, none, 5.0) == 1.0


def test_running_measure_attacks_fast_and_releases_over_metres():
    m = AppearanceMonitor(0.1, release_m=3.0)
    assert not m.update(0.01, 2.0).unusual
    s = m.update(0.6, 2.0)
    assert s.unusual and s.started and s.running == 0.6
    s = m.update(0.0, 2.0)  # one normal frame: still above half the limit
    assert s.unusual and not s.ended
    states = [m.update(0.0, 2.0) for _ in range(6)]
    assert any(st.ended for st in states) and not states[-1].unusual
    assert math.isclose(m.update(math.nan, 2.0).running, states[-1].running)


def test_red_ore_model_on_rock_scenes_figures(small_model):
    """The printed figure: frame figures of the red-ore (CDM) model on its fit cargo, on held-out CDM and on the
    rock-pile scenes, and the limit calibrated on fit frames."""
    ore = small_model.ore
    fit = frame_figures(ore, [_scene(load_tiles("fit"), s).render(0, 1024) for s in range(3)])
    held = frame_figures(ore, [_scene(load_tiles("heldout"), s).render(0, 1024) for s in range(3)])
    rock = frame_figures(ore, [_scene(rock_tiles(), s).render(0, 1024) for s in range(3)])
    limit = calibrate_limit(ore, [_scene(load_tiles("fit"), 50 + s).render(0, 1024) for s in range(3)])
    print(f"\nappearance figure (share of belt cells unlike the fitted ore, lowest of 4 bands), red-ore model:"
          f"\n  fit CDM {np.round(100 * fit, 2)} %, held-out CDM {np.round(100 * held, 2)} %, rock piles {np.round(100 * rock, 1)} %"
          f"\n  limit {100 * limit:.1f} %")
    assert limit >= MIN_LIMIT
    assert held.max() < limit < rock.min()


def _window(i, mark, rate=6000 / 3600):
    return MaterialWindow("L1", "cam", i, i + 1, mark, mark + rate, i * 4.5, (i + 1) * 4.5, 4.5, 1000.0)


@pytest.mark.slow
def test_rock_cargo_under_the_red_ore_model_raises_one_alarm_and_leaves_windows_uninspected(model_file):
    clock = SimulatedClock()
    alarms = AlarmBook(clock.now_s)
    monitor = LotMonitor(alarms, load_site()["verdict"])
    ctx = StationContext(clock, 1.8, 4.5, Path("/tmp"), seed=1, cargo=None)
    st = from_config("cam", {"kind": "camera", "position_m": 50.0, "mm_per_px": MM_PER_PX, "width_px": WIDTH_PX,
                             "model": str(model_file), "tiles": "heldout"}, ctx)
    lot = LotIdentity("L1", "V", "H1", "fines", 100.0)
    run = LotRun()
    start = LotStart(lot, 0.0, 1000.0, 10.0)
    records = [start] + list(st.describe())
    st.start_lot(start)
    red = st.camera.scene
    rock = BeltScene(rock_tiles(), width_px=WIDTH_PX, mm_per_px=MM_PER_PX, seed=5, dust_probability=0.15)
    mark, phases = 1000.0, []
    for i in range(18):
        st.camera.scene = rock if 5 <= i < 11 else red  # the next hold carries grey crushed rock
        w = _window(i, mark)
        mark = w.end_mark_t
        out = list(st.process(w))
        records += out
        phases.append(("ROCK" if 5 <= i < 11 else "ore", out, st.appearance_state.running))
    records += list(st.end_lot(mark))
    records.append(LotEnd("L1", 20.0, mark, "complete"))
    for r in records:
        run.add(r)
        monitor.handle(r)
    events = [r for r in records if isinstance(r, LineEvent)]
    print("\nrunning appearance measure per 4.5 m window: " + " ".join(f"{p[0]} {100 * p[2]:.0f}%" for p in phases)
          + f"\nlimit {100 * st.appearance.limit:.1f} %; events: " + "; ".join(f"{e.kind}: {e.message}" for e in events))
    assert [e.kind for e in events] == ["appearance", "appearance_cleared"]
    assert "unlike the fitted ore" in events[0].message and "limit" in events[0].message
    for _kind, out, _ in phases[5:11]:
        assert not any(isinstance(r, Measurement) for r in out)
        assert all(not c.inspected and c.reason == APPEARANCE_REASON for c in out if isinstance(c, Coverage))
    assert all(c.inspected for _, out, _ in phases[:5] for c in out if isinstance(c, Coverage))
    assert any(c.inspected for _, out, _ in phases[-3:] for c in out if isinstance(c, Coverage))
    # the line's alarm path: one camera alarm, raised and then cleared; no flood of foreign-object alarms
    hist = [(action, a.key, a.category) for _, action, a in alarms.history]
    assert ("raised", "cam:appearance", "camera_fault") in hist and ("cleared", "cam:appearance", "camera_fault") in hist
    assert sum(1 for action, key, _ in hist if action == "raised" and key.startswith("detection:")) <= 1
    rock_segs = [s for s in monitor.segments if any("appearance" in r for c in s.coverage for r in c.reasons)]
    assert rock_segs, [s.coverage for s in monitor.segments]
