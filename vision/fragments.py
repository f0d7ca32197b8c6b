"""Fragments of one partly buried object judged together (issue 27, frag53, grp54; docs/vision-experiments.md
"Fragments of a partly buried object", "Fragment groups with a judge of their own").

On a full burden the ore covers part of an object and leaves several visible pieces a few cells apart; each piece is a
candidate of its own whose features describe a small piece, and the judge leaves it unreported. Here the seeded
components (any size) whose cells lie within :data:`GAP_MM` of each other are grouped (a square dilation and a label:
:func:`fragment_groups` over a whole block), and a group of two or more is judged ALSO as one candidate
(``Detector.group_fragments``, reported on the groups' own judge, :mod:`vision.decision_groups`): its members are
judged as they are without it, to the bit: nothing is held back for a group. A group is judged in the block where all
its members are complete, once (its members are decided then); one with a member still pending at the block's end is
not judged there (its pending members may form a group in the next block, without those already decided). Only a
group whose highest object log-odds (the learned objectness, :mod:`vision.objectness`) reaches the objectness seed level
plus :data:`SCREEN_ABOVE_SEED` is judged (:func:`object_like`). The detector finds those groups in small windows around
their object-like members (:func:`object_like_components`, :func:`object_groups`: the same groups as the whole block's)
and skips a block with no row at full burden (:func:`any_full_burden`): the grouping's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from vision.decision import LOAD_EDGE
from vision.filters import window_max
from vision.regime import windowed

#: The widest stretch of belt (mm) between two fragments grouped as one object: at 8 mm cells a dilation of 2 cells on
#: each side, so fragments whose nearest cells are at most 5 cells apart (4 empty cells between) join.
GAP_MM = 32.0


@dataclass(frozen=True)
class FragmentGroups:
    """Groups of components of one block: ``of`` (n,) int the group (1..``count``) of each of its ``n`` components
    (0: none, or a group of one), ``labels`` (h, w) int32 the group at every cell of its members, ``count + 1`` at every
    cell of the other components (so that :func:`vision.classify.component_features` of the groups leaves them out of a
    group's ring, as it leaves every other region out of a component's), 0 elsewhere."""

    of: np.ndarray
    labels: np.ndarray
    count: int

    def members(self, group: int) -> np.ndarray:
        """The components (0-based) of ``group`` (1-based)."""
        return np.flatnonzero(self.of == group)


@dataclass(frozen=True)
class ObjectGroups:
    """The groups of a block that have an object-like member (:func:`object_groups`): ``of`` (n,) int the group
    (1..``count``) of each of its ``n`` components (0: none), numbered as :func:`fragment_groups` numbers them among
    themselves (in the order of their first dilated cell along the rows); ``windows`` each group's window of the
    block (rows, columns): its cells with :data:`WINDOW_MARGIN` cells around them, clipped to the block."""

    of: np.ndarray
    count: int
    windows: tuple[tuple[slice, slice], ...]

    def members(self, group: int) -> np.ndarray:
        """The components (0-based) of ``group`` (1-based)."""
        return np.flatnonzero(self.of == group)

    def labels(self, labels: np.ndarray, group: int) -> np.ndarray:
        """The window of ``group`` (1-based) as a label map: 1 at its members' cells, 2 at every other component's cell
        of ``labels`` (h, w) (left out of the group's ring by :func:`vision.classify.component_features`), 0
        elsewhere."""
        win = self.windows[group - 1]
        lut = np.where(self.of == group, 1, 2).astype(np.int32)
        return np.concatenate([[0], lut])[labels[win]].astype(np.int32)


#: How far above the objectness seed level (``DetectorParams.objectness_threshold``, log odds) a group's highest
#: objectness must reach for it to be judged (:func:`object_like_components`): the screen that keeps the grouping's cost
#: down (grp54: on the fit split's belt, at +1.0, 36 of the 39 groups on objects that its judge scores above the
#: object-free belt's 7th highest kept, 905 of 2,352 object-free groups of 3,006 m).
SCREEN_ABOVE_SEED = 1.0

#: Cells kept around a group in its window: the ring of 2 cells the component features read and the one their steps
#: read.
WINDOW_MARGIN = 3


def gap_cells(cell_mm: float, gap_mm: float = GAP_MM) -> int:
    """The dilation (cells on each side) that joins components at most ``gap_mm`` apart (``2 * r`` empty cells)."""
    if not (cell_mm > 0 and gap_mm >= 0):
        raise ValueError(f"expected cell_mm > 0 and gap_mm >= 0, got {cell_mm}, {gap_mm}")
    return int(np.ceil(gap_mm / cell_mm / 2.0 - 1e-9))


def fragment_groups(labels: np.ndarray, n: int, candidates: np.ndarray, radius_cells: int) -> FragmentGroups:
    """The groups of two or more of the ``candidates`` ((n,) bool of the ``n`` components of ``labels`` (h, w)) whose
    cells, each dilated by a square of ``radius_cells`` on every side, touch or overlap (so their nearest cells are at
    most ``2 * radius_cells + 1`` cells apart along rows and columns)."""
    if radius_cells < 0:
        raise ValueError(f"expected radius_cells >= 0, got {radius_cells}")
    of = np.zeros(n, np.int64)
    if n < 2 or int(np.count_nonzero(candidates)) < 2:
        return FragmentGroups(of, np.where(labels > 0, 1, 0).astype(np.int32), 0)
    mark = np.zeros(n + 1, bool)
    mark[1:] = candidates
    cells = mark[labels]
    blobs, _ = ndi.label(window_max(cells.view(np.uint8), radius_cells))  # a square dilation
    blob_of = np.zeros(n + 1, np.int64)
    blob_of[labels[cells]] = blobs[cells]  # every cell of a component lies in one blob
    blob_of[0] = 0
    size = np.bincount(blob_of[1:][candidates], minlength=int(blobs.max()) + 1)
    size[0] = 0
    keep = size >= 2
    renumber = np.cumsum(keep) * keep  # groups of two or more, numbered 1.. in order
    of = np.where(candidates, renumber[blob_of[1:]], 0)
    count = int(keep.sum())
    lut = np.zeros(n + 1, np.int32)
    lut[1:] = np.where(of > 0, of, count + 1)
    return FragmentGroups(of, lut[labels], count)


def object_groups(labels: np.ndarray, n: int, candidates: np.ndarray, anchors: np.ndarray, radius_cells: int,
                  reach_cells: int = 24) -> ObjectGroups:
    """The groups of :func:`fragment_groups` (of the ``candidates`` (n,) bool of the ``n`` components of ``labels``
    (h, w), ``radius_cells``) that have a member with an anchor (``anchors`` (n,): a flat cell index of each
    object-like component, :func:`object_like_components`; -1 for the others), found in a window around each anchor
    (``reach_cells`` around it, doubled until its group lies clear of the window's sides) rather than over the whole
    block: the same groups, members and order as :func:`fragment_groups`, at the cost of a few small windows."""
    if radius_cells < 0:
        raise ValueError(f"expected radius_cells >= 0, got {radius_cells}")
    h, w = labels.shape
    seeds = np.flatnonzero((anchors >= 0) & candidates)
    if n < 2 or seeds.size == 0 or int(np.count_nonzero(candidates)) < 2:
        return ObjectGroups(np.zeros(n, np.int64), 0, ())
    mark = np.zeros(n + 1, bool)
    mark[1:] = candidates
    clear = 2 * radius_cells + 2  # a blob this far from a window's inner side is the whole map's blob
    found: dict[int, tuple[np.ndarray, tuple[slice, slice]]] = {}  # first dilated cell (flat) -> members, window
    done = np.zeros(n, bool)
    for i in seeds:
        if done[i]:
            continue
        row, col = divmod(int(anchors[i]), w)
        reach = reach_cells
        while True:
            r0, r1, c0, c1 = max(0, row - reach), min(h, row + reach + 1), max(0, col - reach), min(w, col + reach + 1)
            lab = labels[r0:r1, c0:c1]
            blobs, _ = ndi.label(window_max(mark[lab].view(np.uint8), radius_cells))
            blob = blobs == blobs[row - r0, col - c0]
            rows, cols = np.flatnonzero(blob.any(axis=1)), np.flatnonzero(blob.any(axis=0))
            if ((r0 == 0 or rows[0] >= clear) and (r1 == h or rows[-1] < r1 - r0 - clear)
                    and (c0 == 0 or cols[0] >= clear) and (c1 == w or cols[-1] < c1 - c0 - clear)):
                break
            reach *= 2
        cells = blob & mark[lab]
        members = np.unique(lab[cells]) - 1
        done[members] = True
        if members.size < 2:
            continue
        first = (r0 + rows[0]) * w + c0 + int(np.argmax(blob[rows[0]]))
        mr, mc = np.flatnonzero(cells.any(axis=1)), np.flatnonzero(cells.any(axis=0))
        found[int(first)] = (members, (slice(max(0, r0 + mr[0] - WINDOW_MARGIN), min(h, r0 + mr[-1] + 1 + WINDOW_MARGIN)),
                                       slice(max(0, c0 + mc[0] - WINDOW_MARGIN), min(w, c0 + mc[-1] + 1 + WINDOW_MARGIN))))
    of = np.zeros(n, np.int64)
    windows = []
    for g, first in enumerate(sorted(found), start=1):
        members, win = found[first]
        of[members] = g
        windows.append(win)
    return ObjectGroups(of, len(windows), tuple(windows))


def object_like(groups: FragmentGroups, ids: np.ndarray, objectness: np.ndarray | None, level: float) -> np.ndarray:
    """(len(ids),) bool: which groups ``ids`` (1-based) have a cell whose object log-odds ``objectness`` (h, w) reaches
    ``level`` (every one without a map)."""
    if objectness is None or not ids.size:
        return np.ones(ids.size, bool)
    reached = np.zeros(groups.count + 2, bool)
    reached[groups.labels[objectness >= level]] = True  # the groups (and 0, count + 1: no group) with such a cell
    return reached[ids]


def any_full_burden(loads: np.ndarray, cell_mm: float) -> bool:
    """Whether a row of a block's row loads ``loads`` (h,) has a windowed load (:func:`vision.regime.windowed`, the
    whole belt's load a candidate centred there gets; the local load only lowers it) at full burden (>= ``LOAD_EDGE``;
    NaN is not): without one no group of the block can be judged, and it is not grouped. A window's mean is at most
    its highest row load (its prefix sums' rounding is far below 1e-6): a block whose rows all lie 1e-6 or more under
    the edge has none, without the windows (the part-loaded belt's blocks)."""
    if float(np.max(loads, initial=-np.inf, where=np.isfinite(loads))) < LOAD_EDGE - 1e-6:
        return False
    return bool(np.any(windowed(loads, np.arange(loads.shape[0]), cell_mm) >= LOAD_EDGE))


def object_like_components(labels: np.ndarray, n: int, objectness: np.ndarray | None, level: float) -> np.ndarray:
    """(n,) int64: for each of the ``n`` components of ``labels`` (h, w) the flat index of its first cell whose object
    log-odds ``objectness`` (h, w) reaches ``level`` (of its first cell without a map), -1 where none does: the
    object-like components (``>= 0``) and an anchor in each (:func:`object_groups`). A group is :func:`object_like`
    exactly when one of its members is (:func:`with_member`): the cheaper test, before any grouping."""
    flat = np.arange(labels.size) if objectness is None else np.flatnonzero(objectness.ravel() >= level)
    lab = labels.ravel()[flat]
    inside = lab > 0
    ids, first = np.unique(lab[inside], return_index=True)
    anchors = np.full(n, -1, np.int64)
    anchors[ids - 1] = flat[inside][first]
    return anchors


def with_member(groups: FragmentGroups | ObjectGroups, ids: np.ndarray, members: np.ndarray) -> np.ndarray:
    """(len(ids),) bool: which groups ``ids`` (1-based) have one of the ``members`` ((n,) bool of the components)."""
    has = np.zeros(groups.count + 1, bool)
    has[groups.of[members & (groups.of > 0)]] = True
    return has[ids]


def complete_groups(groups: FragmentGroups | ObjectGroups, pending: np.ndarray, reported: np.ndarray) -> np.ndarray:
    """The groups (1-based ids) to judge as one candidate: no member ``pending`` and none ``reported`` on its own
    ((n,) bool each: an object a member already reports needs no second report)."""
    if not groups.count:
        return np.zeros(0, np.int64)
    out = np.ones(groups.count + 1, bool)
    out[0] = False
    busy = (pending | reported) & (groups.of > 0)
    out[groups.of[busy]] = False
    return np.flatnonzero(out)


__all__ = ["GAP_MM", "SCREEN_ABOVE_SEED", "WINDOW_MARGIN", "FragmentGroups", "ObjectGroups", "object_groups", "any_full_burden", "complete_groups", "fragment_groups", "gap_cells", "object_like", "object_like_components",
           "with_member"]
