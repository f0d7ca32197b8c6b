"""Candidates merged with the belt around them, split by colour (issue 27, split53).

On today's patchwork a thin object that touches a strip of bare green belt between ore tiles (which scores as
unusual as the object) forms one candidate with it: the candidate's features then describe the strip, and the
decision leaves the object unreported. A candidate whose cells fall into two clearly apart colour groups is split
here: two means over each candidate's cells (chromaticity r, g and relative grey, each in units of
:data:`COLOUR_SCALE`), all candidates at once (no loop per candidate or per cell); a candidate is split when its two
groups' centres (two means along the direction of the cells' most spread) lie at least :data:`MIN_SEPARATION` apart and at least :data:`MIN_SEPARATION_RATIO` times the cells'
spread about their own centre, and both groups hold at least ``min_cells`` cells. Its pieces are the connected runs
of each group's cells inside it (those of at least ``min_cells`` cells), measured in a crop of the map around the
candidate (the whole map's numbers, to rounding: the moments are taken about another origin). The detector (``Detector.split_merged``) judges the pieces of the
candidates it leaves unreported at a part-loaded load with the same classifiers and levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

#: Units of the cell features r, g (chromaticity) and lum (relative log grey) in which the colour groups are found:
#: about the spread of each over one ore tile's cells, so that a unit means as much in each.
COLOUR_SCALE = np.array([0.03, 0.03, 0.3])
#: A candidate is split only when its two colour groups' centres lie this far apart (in COLOUR_SCALE units) ...
MIN_SEPARATION = 5.5
#: ... and this many times the root-mean-square distance of its cells from their group's centre.
MIN_SEPARATION_RATIO = 3.0
#: Smallest candidate (cells) looked at: a merged candidate holds an object >= 50 mm and the strip beside it.
MIN_PARENT_CELLS = 120
#: Smallest spread of its cells' relative grey (the component feature ``lum_std``) of a candidate looked at: groups
#: apart in colour are apart in grey too (the green strips are darker than the ore and the objects on them).
MIN_LUM_STD = 0.25
#: Rounds of the two means along the direction of most spread (each a few counts over the candidates' cells).
ROUNDS = 3
#: Rounds of the power iteration for each candidate's direction of most colour spread.
AXIS_ROUNDS = 6


#: Cells of map kept around a split candidate's box when its pieces are measured apart: the ring of 2 cells that
#: :func:`vision.classify.component_features` reads around a component and the one beyond it that its steps read.
CROP_MARGIN = 3


@dataclass(frozen=True)
class Pieces:
    """The pieces of one split candidate, measured in a crop of the candidates' map: ``window`` (rows, columns) of the
    map, ``labels`` the map's labels there with the pieces' cells relabelled ``first_id`` + k (k = 0 .. count - 1;
    every other cell as it was), ``parent`` the 0-based id of the candidate they came from."""

    window: tuple[slice, slice]
    labels: np.ndarray
    first_id: int
    count: int
    parent: int

    @property
    def ids(self) -> list[int]:
        return list(range(self.first_id, self.first_id + self.count))


@dataclass(frozen=True)
class Groups:
    """The two colour groups of each of k candidates: the flat cell indices of their cells (``pix``), each cell's group
    0 / 1 (``group``), and per candidate (k,) the distance of the groups' centres (``separation``) and the cells'
    root-mean-square distance from their group's centre (``spread``), both in COLOUR_SCALE units, the smaller group's
    cells (``smaller``) and whether the rule splits it (``split``)."""

    pix: np.ndarray
    group: np.ndarray
    separation: np.ndarray
    spread: np.ndarray
    smaller: np.ndarray
    split: np.ndarray


def colour_groups(labels: np.ndarray, which: np.ndarray, feats: np.ndarray, min_cells: int, n: int | None = None) -> Groups:
    """The colour :class:`Groups` of the candidates ``which`` (0-based ids of ``labels`` (h, w)) by two means over the
    cell features ``feats`` (h, w, >= 3) of each candidate, and which of them the module's rule splits (both groups of
    at least ``min_cells`` cells); ``n``: the largest id in ``labels`` where the caller knows it."""
    which = np.asarray(which, np.int64)
    m = which.size
    lut = np.full((int(labels.max(initial=0)) if n is None else n) + 1, -1, np.int64)
    lut[which + 1] = np.arange(m)
    flat = labels.ravel()
    pix = np.flatnonzero(np.take(lut >= 0, flat))
    if not pix.size:
        return Groups(pix, np.zeros(0, np.int8), np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m, bool))
    comp = lut[flat[pix]]
    z = feats.reshape(-1, feats.shape[-1])[pix, :3].astype(np.float64) / COLOUR_SCALE
    cnt = np.maximum(np.bincount(comp, minlength=m), 1).astype(np.float64)
    mean = np.stack([np.bincount(comp, z[:, k], minlength=m) for k in range(3)], axis=1) / cnt[:, None]
    d = z - mean[comp]
    cov = np.empty((m, 3, 3))
    for a in range(3):
        for b in range(a, 3):
            cov[:, a, b] = cov[:, b, a] = np.bincount(comp, d[:, a] * d[:, b], minlength=m) / cnt
    axis = np.ones((m, 3))
    for _ in range(AXIS_ROUNDS):  # the direction of most spread, per candidate (power iteration)
        axis = np.einsum("mij,mj->mi", cov, axis)
        axis /= np.maximum(np.sqrt((axis * axis).sum(axis=1)), 1e-12)[:, None]
    t = np.einsum("ij,ij->i", d, axis[comp])  # each cell along it, from its candidate's mean
    cut = np.zeros(m)
    s_all = np.bincount(comp, t, minlength=m)
    for _ in range(ROUNDS):  # two means along that direction: the cut halfway between the groups' means
        hi = t > cut[comp]
        n_hi = np.bincount(comp[hi], minlength=m)
        s_hi = np.bincount(comp[hi], t[hi], minlength=m)
        cut = 0.5 * (s_hi / np.maximum(n_hi, 1) + (s_all - s_hi) / np.maximum(cnt - n_hi, 1))
    group = (t > cut[comp]).astype(np.int64)
    centres, sizes = _centres(z, comp, group, m)
    spread = np.sqrt(np.bincount(comp, ((z - centres[comp, group]) ** 2).sum(axis=1), minlength=m) / cnt)
    sep = np.sqrt(((centres[:, 0] - centres[:, 1]) ** 2).sum(axis=1))
    smaller = sizes.min(axis=1)
    split = (sep >= MIN_SEPARATION) & (sep >= MIN_SEPARATION_RATIO * spread) & (smaller >= min_cells)
    return Groups(pix, group.astype(np.int8), sep, spread, smaller, split)


def _centres(z: np.ndarray, comp: np.ndarray, group: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(centres (m, 2, 3), cell counts (m, 2)) of each candidate's two groups."""
    key = comp * 2 + group
    sizes = np.bincount(key, minlength=2 * m).astype(np.float64)
    sums = np.stack([np.bincount(key, z[:, k], minlength=2 * m) for k in range(3)], axis=1)
    return (sums / np.maximum(sizes, 1.0)[:, None]).reshape(m, 2, 3), sizes.reshape(m, 2)


def merged_pieces(labels: np.ndarray, which: np.ndarray, feats: np.ndarray, min_cells: int, n: int | None = None) -> list[Pieces]:
    """The pieces (:class:`Pieces`, one per split candidate) of those candidates ``which`` (0-based ids of ``labels``
    (h, w)) whose colours (``feats`` (h, w, >= 3)) fall into two groups (:func:`colour_groups`): the connected runs (as
    ``ndi.label`` joins cells) of each group's cells inside the candidate, of at least ``min_cells`` cells, in a crop
    of the map around the candidate (:data:`CROP_MARGIN`; ``n``: the largest id in ``labels`` where the caller knows
    it). A loop over the split candidates only."""
    which = np.asarray(which, np.int64)
    if not which.size:
        return []
    n = int(labels.max(initial=0)) if n is None else n
    g = colour_groups(labels, which, feats, min_cells, n)
    pix, group, split = g.pix, g.group, g.split
    if not split.any():
        return []
    h, w = labels.shape
    next_id = n + 1
    cell_parent = labels.ravel()[pix] - 1
    out = []
    for parent in which[split]:
        own = cell_parent == parent
        rows, cols = pix[own] // w, pix[own] % w
        r0, c0 = max(0, int(rows.min()) - CROP_MARGIN), max(0, int(cols.min()) - CROP_MARGIN)
        window = (slice(r0, min(h, int(rows.max()) + CROP_MARGIN + 1)), slice(c0, min(w, int(cols.max()) + CROP_MARGIN + 1)))
        crop = labels[window].copy()
        shape = crop.shape
        count = 0
        for side in (0, 1):
            mask = np.zeros(shape, bool)
            sel = group[own] == side
            mask[rows[sel] - r0, cols[sel] - c0] = True
            runs, k = ndi.label(mask)
            size = np.bincount(runs.ravel(), minlength=k + 1)
            big = np.flatnonzero(size[1:] >= min_cells) + 1
            if big.size:
                new = np.zeros(k + 1, np.int64)
                new[big] = next_id + count + np.arange(big.size)
                relabel = new[runs]
                crop[relabel > 0] = relabel[relabel > 0]
                count += big.size
        if count:
            out.append(Pieces(window, crop, next_id, count, int(parent)))
            next_id += count
    return out


__all__ = ["COLOUR_SCALE", "CROP_MARGIN", "MIN_LUM_STD", "MIN_PARENT_CELLS", "MIN_SEPARATION", "MIN_SEPARATION_RATIO", "Groups", "Pieces", "colour_groups", "merged_pieces"]
