"""Object-free belt detected as the station sees it: streamed camera frames through one detector.

The station and the benchmarks (:func:`vision.frontier.every_candidate`) stream ``FRAME_LINES``-line frames through
one detector, which carries the components that touch a frame's edge into the next frame. The shipped fit
(FIT_VERSION 13) cuts its decision-only belt into 8,192-row stills detected one by one, and its training belt into
5 m stills: the frame edges are rarer there or absent. With :data:`STREAMED_BELT` a fit streams both. On the same fit-source belt (FIT_VERSION 14 model, realistic, 400 m per
group) the streamed frames gave 14.9 false candidates per km at p(none) <= 0.1 where the stills gave 2.5 (8,192-row
streamed frames 7.0), and half of the held-out belt's false candidates at p(none) <= 0.03 lie within 2 rows of a
frame edge: a tail the out-of-fold decision did not see (docs/vision.md "Out-of-fold tail").
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from vision.classify import NONE
from vision.detect import Detection, Detector, with_features
from vision.frames import Frame
from vision.patchnet import patch_of

#: Whether fits detect their object-free belt (decision-only and training "none") in streamed frames. Off: the fit with
#: it (FIT_VERSION 15, with fit.DARK_RIDGE_FULL_BURDEN) kept 0 false alarms on both held-out belts but its out-of-fold
#: level (2.7e-5) fell 83 x below the held-out realistic tail and realistic recall to 57.4 % (docs/vision.md
#: "Out-of-fold tail"); FIT_VERSION 16 (with the frame-edge fix) let 1 false alarm through in 3,006 m of held-out
#: realistic belt (docs/vision.md "FIT_VERSION 16"), FIT_VERSION 17 13 in 3,006 m (docs/vision.md "FIT_VERSION 17"); a fit
#: that turns it on must raise fit.FIT_VERSION past 17.
STREAMED_BELT = False
#: Lines per frame of the decision-only belt: the benchmarks' and the simulated camera's frames
#: (:func:`vision.frontier.every_candidate`).
FRAME_LINES = 2048
#: Belt speed (m/s) the frames are stamped with (the simulated camera's default).
BELT_SPEED_M_S = 4.5


def streamed_detections(detector: Detector, render: Callable[[int, int], np.ndarray], rows: int, mm_per_px: float,
                        frame_lines: int = FRAME_LINES,
                        on_frame: Callable[[np.ndarray], None] | None = None) -> list[Detection]:
    """Every candidate (``detector.report_all`` is set) of ``rows`` rows of belt, rendered by ``render(row0, n)``
    and fed as consecutive frames of ``frame_lines`` lines, as a camera delivers them; ``on_frame`` sees each frame's
    image. Raises ValueError when ``rows`` or ``frame_lines`` < 1."""
    if rows < 1 or frame_lines < 1:
        raise ValueError(f"expected rows >= 1 and frame_lines >= 1, got {rows} and {frame_lines}")
    detector.report_all = True
    found: list[Detection] = []
    for k, r0 in enumerate(range(0, rows, frame_lines)):
        image = render(r0, min(frame_lines, rows - r0))
        start_m = r0 * mm_per_px / 1000.0
        frame = Frame(image, k, start_m / BELT_SPEED_M_S, 100.0, start_m, 0.0, mm_per_px, 0.0, BELT_SPEED_M_S)
        found += detector.process(frame).detections
        if on_frame is not None:
            on_frame(image)
    return found + detector.flush()


def as_candidates(found: list[Detection]) -> tuple[list[np.ndarray], list[str], list[float], list[float], list[np.ndarray]]:
    """(features, NONE labels, lengths (mm), belt loads, patches) of object-free candidates, as
    :func:`vision.fit._candidates` gives them."""
    found = with_features(found)
    return ([np.asarray(d.features) for d in found], [NONE] * len(found), [d.length_mm for d in found],
            [d.load for d in found], [patch_of(d.thumbnail) for d in found])
