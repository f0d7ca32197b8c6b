"""The cross-fitted object decision: its level is set on p(none) that unseen ore gets, not the fit ore.

The final classifier trains on every fit source. The decision level is set on the p(none) of the false candidates of
decision-only object-free belt, but a classifier scores the ore it trained on more confidently than unseen ore
(docs/vision.md, *fit C*: lowest false p(none) 0.05-0.06 on the fit ore against 0.001-0.03 on held-out ore). So the
fit sources are split into CROSS_FIT_GROUPS groups *by source image*, each classifier of K trains on the other groups'
candidates (each sees >= 80 % of the sources, near what the final classifier sees) and scores the decision belt
rendered from its own group's sources; the pooled out-of-fold p(none) set the level (:func:`vision.decision.decide`).

Groups nest in the N_FOLDS folds of the objectness model (group g lies in fold g % n_folds), so a candidate of group
g is found with the objectness model that did not train on it either.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np

from vision.errors import DataError
from vision.tiles import TileSet, source_fold, source_of

#: Whether fits set the decision on out-of-fold p(none) (else the final classifier's, FIT_VERSION 9-10).
CROSS_FIT = True
#: Groups of the fit sources (a multiple of the objectness folds): each out-of-fold classifier trains on all but one.
#: The built-in fit split's 96 sources fall 52 / 44 in the two folds, so 4 groups would leave a classifier 73 % of
#: them; 6 leave each 81-85 % (one classifier costs ~140 s CPU at 4 mm/px).
CROSS_FIT_GROUPS = 6


def _source(name: str) -> str:
    return source_of(Path(name.split("#")[0]))


def _rank_key(source: str) -> bytes:
    return hashlib.sha256(b"group:" + source.encode()).digest()


def grouped_sources(tiles: TileSet, n_groups: int = CROSS_FIT_GROUPS, n_folds: int = 2) -> dict[str, int]:
    """Each source image of ``tiles`` and its group (0 .. ``n_groups`` - 1; see :func:`source_groups`). Raises
    ValueError when ``n_groups`` is not a multiple of ``n_folds``, DataError when a group would be empty."""
    if n_folds < 1 or n_groups % n_folds:
        raise ValueError(f"expected a number of groups that is a multiple of {n_folds} folds, got {n_groups}")
    group_of: dict[str, int] = {}
    per_fold = n_groups // n_folds
    for f in range(n_folds):
        mine = sorted({_source(n) for n in tiles.names if source_fold(n, n_folds) == f}, key=_rank_key)
        if len(mine) < per_fold:
            raise DataError(f"expected at least {per_fold} sources in fold {f} of {tiles.origin}, found {len(mine)}")
        for j, run in enumerate(np.array_split(np.array(mine, dtype=object), per_fold)):
            group_of.update({str(s): f + n_folds * j for s in run})
    return group_of


def source_groups(tiles: TileSet, n_groups: int = CROSS_FIT_GROUPS, n_folds: int = 2) -> list[TileSet]:
    """The tiles split by source image into ``n_groups`` groups of nearly equal source counts, group g inside fold
    g % ``n_folds`` of :func:`vision.tiles.source_fold` (each fold's sources, in a hash order, cut into
    ``n_groups / n_folds`` runs). Jittered copies of a source stay with it. Raises ValueError when ``n_groups`` is not
    a multiple of ``n_folds``, DataError when a group would be empty."""
    group_of = grouped_sources(tiles, n_groups, n_folds)
    sources = [_source(n) for n in tiles.names]
    out = []
    for g in range(n_groups):
        keep = np.array([group_of[s] == g for s in sources], bool)
        stack = tiles.tiles[keep]
        stack.setflags(write=False)
        out.append(TileSet(stack, tuple(n for n, k in zip(tiles.names, keep) if k), f"{tiles.origin}/group{g}of{n_groups}",
                           tiles.files, tiles.mm_per_px, tiles.skipped))
    return out


def source_share(groups: list[TileSet]) -> list[float]:
    """Per group, the share of all the groups' sources that the classifier trained without it sees."""
    counts = np.array([len({_source(n) for n in g.names}) for g in groups], float)
    return [float(1.0 - c / counts.sum()) for c in counts]


def out_of_fold_p_none(group: np.ndarray, train: np.ndarray, held: np.ndarray,
                       fit_and_score: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """p(none) of the ``held`` candidates (bool (n,)), each scored by a classifier trained on the ``train`` candidates
    of the other groups: ``fit_and_score(train_mask, score_mask)`` fits on one mask and returns p(none) of the other's
    candidates. ``group`` (n,): each candidate's source group. Returns (held.sum(),) in the order of ``held``.
    Raises ValueError when a held group has no training candidates outside it."""
    group, train, held = np.asarray(group), np.asarray(train, bool), np.asarray(held, bool)
    out = np.full(group.shape, np.nan)
    for g in np.unique(group[held]):
        fit_mask, score_mask = train & (group != g), held & (group == g)
        if not fit_mask.any():
            raise ValueError(f"no training candidates outside source group {g}")
        out[score_mask] = fit_and_score(fit_mask, score_mask)
    return out[held]
