"""Cut timing bounded by the ISO 3082 tolerance: through belt stops at any moment, and for a targeted increment
behind a busy robot (skipped with the reason, never cut late)."""

from __future__ import annotations

import numpy as np
import pytest

from conveyor.feed import BeltEvent
from sampler.errors import TargetedSkipError

from tests.lines.sampler import by_status, increments, make_station, run_lot

#: 30 s belt stops placed at 30 moments across two plan intervals, as the docs' measurement (docs/sampling.md).
STOPS_S = np.linspace(150.0, 257.0, 30)


@pytest.mark.parametrize("stop_s", [float(STOPS_S[11]), float(STOPS_S[20]), float(STOPS_S[25])])
def test_every_cut_through_a_belt_stop_is_within_the_tolerance(tmp_path, stop_s):
    # STOPS_S[11] (186.9 s): increment 16 is held by the stop and moved behind the material that stood too near
    # the cutter; the robot, busy with it, used to cut increment 17 0.69 s late. Now 17 takes the first material
    # the robot can reach (its shift written in its reason).
    st = make_station(tmp_path)
    res = run_lot(st, lot_mass_t=800.0, events=[BeltEvent(stop_s, 30.0, "stop")])
    assert by_status(res) == {"cut": st.plan.n_total}, [m.data["reason"] for m in increments(res)]
    errs = np.array([abs(m.data["timing_error_s"]) for m in increments(res)])
    assert errs.max() <= st.settings.timing_tolerance_s, (stop_s, errs.max())
    moved = [m.data["reason"] for m in increments(res) if "robot was busy" in m.data["reason"]]
    assert len(moved) <= 1 and all("mark moved" in r for r in moved)


def _behind_routine(st, delay_s: float) -> float:
    """The mark of the material due at the cutter ``delay_s`` after the first routine increment beyond 300 t."""
    offs = st.plan.offsets
    return float(offs[int(np.argmax(offs > 300))] + delay_s * 8000.0 / 3600.0)


def test_a_targeted_increment_behind_a_busy_robot_is_skipped_with_the_reason_not_cut_late(tmp_path):
    # Material due 3.5 s after a routine cut: the robot cuts and returns until ~3 s after it, then needs its 2.4 s
    # lead: a cut would be ~1.8 s late (before: status "late", the demo's "1.14 s late" targeted increment).
    st = make_station(tmp_path)
    ids: dict[str, str] = {}

    def on_tick(state):
        if not ids and state.lot_tonnage_t > _behind_routine(st, 3.5) + 20.0:
            ids["t"] = st.request_targeted(_behind_routine(st, 3.5), "vision: wood", "AL-7")

    res = run_lot(st, lot_mass_t=800.0, listeners=[on_tick])
    t = next(m.data for m in increments(res) if m.data["increment_id"] == ids["t"])
    assert t["status"] == "skipped", t
    assert "within the 0.5 s tolerance" in t["reason"] and "before the robot could" in t["reason"]
    assert "the robot was busy with LOT1-R" in t["reason"], t["reason"]
    assert not [m for m in increments(res) if m.data["status"] == "late"]
    assert by_status(res) == {"cut": st.plan.n_total}


def test_a_targeted_request_the_busy_robot_cannot_meet_is_refused_with_the_reason(tmp_path):
    st = make_station(tmp_path)
    refused: list[str] = []

    def on_tick(state):
        k = int(np.argmax(st.plan.offsets > 300)) + 1
        active = st.robot.active
        if not refused and st.robot.busy and active is not None and active.increment_id == f"LOT1-R{k:04d}":
            try:  # an operator waiting for the answer (the control room answers 409 with this reason)
                st.request_targeted(_behind_routine(st, 3.5), "operator", refuse=True)
            except TargetedSkipError as exc:
                refused.append(str(exc))
            else:
                refused.append("queued")

    res = run_lot(st, lot_mass_t=800.0, listeners=[on_tick])
    assert refused and "the robot is busy with LOT1-R" in refused[0] and "tolerance" in refused[0], refused
    assert not [m for m in increments(res) if m.data["role"] == "targeted"], "nothing queued or recorded"
