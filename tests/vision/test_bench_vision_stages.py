"""The stage timer of the 4 mm/px line station (benchmarks.bench_vision_stages): its stages and the rest add up to
the detector's total, each is measured, and the detector's functions are its own again afterwards."""

from __future__ import annotations

import pytest

import vision.detect as detect
from benchmarks import bench_vision_stages as stages


@pytest.fixture(scope="module")
def rows():
    return stages.stage_rows(18.0)


def test_the_stages_and_the_rest_add_up_to_the_total(rows):
    by = {r["name"].removeprefix("stage: "): r["value"] for r in rows if r["name"].startswith("stage: ")}
    total = by.pop(stages.TOTAL)
    assert set(by) == {s for _, _, s in stages.STAGES} | {stages.REST}
    assert total > 0 and sum(by.values()) == pytest.approx(total, rel=1e-9)
    for name in ("cell features (features.cell_features)", stages.DENSE_NET, "labelling (ndi.label)"):
        assert by[name] > 0, name  # every stage is reached on the line
    assert by[stages.DENSE_REST] >= 0 and rows[-1]["unit"] == "m/s"


def test_the_timed_functions_are_restored():
    before = [getattr(owner, attr) for owner, attr, _ in stages.STAGES] + [detect.Detector.process]
    with stages.stage_timers({}) as cpu_s:
        assert detect.Detector.process is not before[-1]
    assert [getattr(owner, attr) for owner, attr, _ in stages.STAGES] + [detect.Detector.process] == before
    assert cpu_s == {}
