"""Fragments of one partly buried object judged together (issue 27, frag53; docs/vision-experiments.md "Fragments of a
partly buried object").

On a full burden the ore covers part of an object and leaves several visible pieces a few cells apart; each piece is a
candidate of its own whose features describe a small piece, and the judge leaves it unreported. Here the seeded
components (any size) whose cells lie within :data:`GAP_MM` of each other are grouped (a square dilation and a label),
and a group of two or more is judged ALSO as one candidate (``Detector.group_fragments``): its members are judged as
they are without it, to the bit: nothing is held back for a group. A group is judged in the block where all its members
are complete, once (its members are decided then); one with a member still pending at the block's end is not judged
there (its pending members may form a group in the next block, without those already decided). Only a group whose
highest object log-odds (the learned objectness, :mod:`vision.objectness`)
reaches the objectness seed level is judged (:func:`object_like`): on development belt that keeps every group the judge
reports and one in ten of the object-free belt's, whose judging is the grouping's main cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from vision.filters import window_max

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


def object_like(groups: FragmentGroups, ids: np.ndarray, objectness: np.ndarray | None, level: float) -> np.ndarray:
    """(len(ids),) bool: which groups ``ids`` (1-based) have a cell whose object log-odds ``objectness`` (h, w) reaches
    ``level`` (every one without a map)."""
    if objectness is None or not ids.size:
        return np.ones(ids.size, bool)
    reached = np.zeros(groups.count + 2, bool)
    reached[groups.labels[objectness >= level]] = True  # the groups (and 0, count + 1: no group) with such a cell
    return reached[ids]


def complete_groups(groups: FragmentGroups, pending: np.ndarray, reported: np.ndarray) -> np.ndarray:
    """The groups (1-based ids) to judge as one candidate: no member ``pending`` and none ``reported`` on its own
    ((n,) bool each: an object a member already reports needs no second report)."""
    if not groups.count:
        return np.zeros(0, np.int64)
    out = np.ones(groups.count + 1, bool)
    out[0] = False
    busy = (pending | reported) & (groups.of > 0)
    out[groups.of[busy]] = False
    return np.flatnonzero(out)


__all__ = ["GAP_MM", "FragmentGroups", "complete_groups", "fragment_groups", "gap_cells", "object_like"]
