"""The fit's object-free decision belt is detected as the station and the benchmarks see belt (vision.decision_belt):
streamed camera frames through one detector, frame edges and all."""

from __future__ import annotations

import numpy as np
import pytest

from vision import fit
from vision.decision_belt import FRAME_LINES, streamed_detections
from vision.fit import CandidatePool
from vision.frontier import every_candidate
from vision.tiles import load_tiles


def test_the_fits_decision_belt_has_the_candidates_the_camera_path_finds_on_the_same_belt(small_model, monkeypatch):
    monkeypatch.setattr(fit, "STREAMED_BELT", True)  # the switch a fit past FIT_VERSION 15 may turn on
    tiles = load_tiles("fit")
    rows = 8 * FRAME_LINES
    belt_m = rows * small_model.mm_per_px / 1000.0
    pool = CandidatePool()
    fit._decision_belt(pool, [small_model], [tiles], belt_m, 0, {}, {})  # one scene type, one group: seed 10**6
    found, _, cam = every_candidate(small_model, tiles, length_m=belt_m, seed=10**6, objects_per_m=0.0,
                                    frame_lines=FRAME_LINES, scene={"dust_probability": 0.15})
    assert cam.position_m == pytest.approx(belt_m)
    assert len(found) > 10
    # the same candidates: cut into 8,192-row stills (FIT_VERSION <= 14) the belt gave a different set
    assert sorted(pool.length_mm) == pytest.approx(sorted(d.length_mm for d in found))
    assert pool.belt_m == {"custom": pytest.approx(belt_m)}
    x = np.sort(np.asarray(pool.x)[:, 0])
    assert x == pytest.approx(np.sort([d.features[0] for d in found]))


def test_streamed_detections_rejects_an_empty_belt(small_model):
    with pytest.raises(ValueError, match="rows >= 1"):
        streamed_detections(small_model.detector(), lambda r0, n: np.zeros((n, 8, 3), np.uint8), 0, 2.0)


def test_the_full_burden_scene_types_get_their_share_of_the_decision_belt(small_model, monkeypatch):
    """FIT_VERSION 17: realistic and dark-ore belt (the full burden) get DECISION_TYPE_SHARE x an equal share, so that
    the full burden's leave-one-group-out check (vision.decision_level) has the belt to pass with one event."""
    monkeypatch.setattr(fit, "DECISION_TYPE_SHARE", {"realistic": 1.65, "dark-ore": 1.65})  # FIT_VERSION 17's
    monkeypatch.setattr(fit, "STREAMED_BELT", True)
    # one camera frame per scene type at an equal share (was 2 x DECISION_CHUNK_ROWS, 141 m of belt in all): the
    # streamed belt is one part per scene type whatever its length, and the shares are row counts (int(rows x share)),
    # so 4 m of belt per type shows them to the row as 33 m did
    rows_equal = FRAME_LINES
    belt_m = 3 * rows_equal * small_model.mm_per_px / 1000.0
    pool = CandidatePool()
    fit._decision_belt(pool, [small_model], [load_tiles("fit")], belt_m, 0, None, None)  # the fit mix: three types
    equal_m = rows_equal * small_model.mm_per_px / 1000.0
    assert pool.belt_m["today"] == pytest.approx(equal_m)
    assert pool.belt_m["realistic"] == pytest.approx(1.65 * equal_m, abs=0.01)
    assert pool.belt_m["dark-ore"] == pytest.approx(1.65 * equal_m, abs=0.01)
    assert [part[0] for part in pool.belt_parts] == ["dark-ore", "realistic", "today"]  # one streamed part each
