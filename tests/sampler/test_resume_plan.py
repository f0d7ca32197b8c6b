"""A resumed lot's sampler continues the archived plan (``SamplerStation.resume_from``): the plan kept, only the
increments beyond the killed run's tonnage cut, one the killed run weighed but never cut recorded missed, every
increment once, the killed run's ones in the new custody log. (End to end, after a real kill -9:
tests/faults/test_kill9.py.)"""

from __future__ import annotations

import pytest

from tests.lines.sampler import increments, make_station, run_lot


@pytest.mark.parametrize("basis", ["mass", "time"])
def test_the_rest_of_the_archived_plan_is_cut_and_nothing_twice(tmp_path, basis):
    keys = {"basis": basis, "max_flow_t_h": 9000.0} if basis == "time" else {}
    first = make_station(tmp_path / "killed", **keys)
    rows = [{**m.data, "mark_t": m.tonnage_mark_t} for m in increments(run_lot(first, lot_mass_t=800.0))]
    plan = first.plan.to_dict()
    key = "mark_t" if basis == "mass" else "actual_time_s"
    done = 0.5 * max(r[key] for r in rows)
    before = [r for r in rows if r[key] < done]
    lost = before.pop()  # weighed before the kill, never cut: not in the archive
    second = make_station(tmp_path / "resumed", **keys)
    second.resume_from(plan, done, before)
    rig = run_lot(second, lot_mass_t=400.0)
    after = [m.data for m in increments(rig)]
    assert second.plan.to_dict() == plan, "the archived plan, not a new one"
    ids = [r["increment_id"] for r in before] + [d["increment_id"] for d in after]
    assert len(ids) == len(set(ids)), "no increment recorded twice"
    missed = next(d for d in after if d["increment_id"] == lost["increment_id"])
    assert missed["status"] == "missed" and "the line stopped before its material reached the cutter" in missed["reason"]
    numbers = sorted(int(d["number"]) for d in after if d["role"] == "routine" and d["status"] == "cut")
    assert numbers and min(numbers) > int(lost["number"]), "numbered as planned, after the killed run's"
    collected = {r["increment_id"] for r in before if r["status"] == "cut"} | \
        {d["increment_id"] for d in after if d["status"] == "cut"}
    in_samples = {i for s in second.custody.samples.values() for i in s.increment_ids}
    assert in_samples == collected, "every collected increment is in its sample once, the killed run's too"

