"""The same belt streamed in camera frames or detected as one long image gives the same candidates (issue 27, frame
edges): the detector carries the rows at a frame's edge, with rows of context above them and a lum reference
continuous across the edge, so a frame edge makes no candidate of its own."""

from __future__ import annotations

import numpy as np
import pytest

from vision.decision_belt import FRAME_LINES
from vision.fit import SHIPPED_DIR, VisionModel
from vision.frontier import every_candidate
from vision.scenes import scene_options

#: Frames compared: 13 frame edges.
FRAMES = 14
#: A candidate centred this many rows (or fewer) from a frame's edge is at the edge.
EDGE_ROWS = 16
#: Candidates within this many cells of the belt's side are left out (the belt's columns are found per frame).
SIDE_CELLS = 6
#: Share of the streamed candidates allowed without a twin in the long image (per-frame statistics: the objectness
#: features' median colour, the belt load's window): 1 of 457 (0.2 %) with the fix, 18 of 473 (3.8 %) before it
TOLERANCE = 0.02


@pytest.fixture(scope="module")
def candidates():
    path = next(iter(sorted(SHIPPED_DIR.glob("model-4mm-*.npz"))), None)
    if path is None:
        pytest.skip("no shipped 4 mm/px model")
    model = VisionModel.load(str(path))
    scene = scene_options("realistic")[0]
    rows = FRAMES * FRAME_LINES
    runs = [every_candidate(model, "heldout", length_m=rows * model.mm_per_px / 1000.0, seed=1011, objects_per_m=0.0, frame_lines=lines,
                            scene=scene)[0] for lines in (FRAME_LINES, rows)]
    return model, runs


def _kept(model, found, side_m: float):
    """Size-passing candidates past the first frame, away from the belt's side ``side_m``."""
    cell_m = model.ore.block_px * model.mm_per_px / 1000.0
    first_m = FRAME_LINES * model.mm_per_px / 1000.0
    return [d for d in found if d.length_mm >= model.params.min_length_mm and abs(d.lateral_m) < side_m - SIDE_CELLS * cell_m
            and d.belt_m > first_m]


def _both(model, streamed, long):
    side_m = max(abs(d.lateral_m) for d in long)
    return _kept(model, streamed, side_m), _kept(model, long, side_m)


def _edge_rows(model, d) -> float:
    r = (d.belt_m * 1000.0 / model.mm_per_px) % FRAME_LINES
    return min(r, FRAME_LINES - r)


def _unmatched(model, found, others):
    cell_m = model.ore.block_px * model.mm_per_px / 1000.0
    at = np.array([[d.belt_m, d.lateral_m] for d in others])
    return [d for d in found if np.abs(at - [d.belt_m, d.lateral_m]).max(axis=1).min() > 2 * cell_m]


def test_streamed_belt_has_the_long_images_candidates(candidates):
    model, (streamed, long) = candidates
    s, g = _both(model, streamed, long)
    assert len(g) > 300
    assert len(_unmatched(model, s, g)) <= TOLERANCE * len(s)
    assert len(_unmatched(model, g, s)) <= TOLERANCE * len(g)


def test_no_extra_candidates_at_frame_edges(candidates):
    model, (streamed, long) = candidates
    s, g = _both(model, streamed, long)
    extra = _unmatched(model, s, g)
    at_edge = [d for d in extra if _edge_rows(model, d) <= EDGE_ROWS]
    share_edges = 2 * EDGE_ROWS / FRAME_LINES  # 1.6 % of the belt
    # before the fix (a step in the lum reference and no context rows at the join) 13 of the 18
    # streamed-only candidates lay within 16 rows of an edge; with it none
    assert len(at_edge) <= max(1, 3 * share_edges * len(extra)), [(_edge_rows(model, d), d.belt_m) for d in at_edge]
