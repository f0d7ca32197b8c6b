"""The cross-fitted object decision (vision.crossfit): source groups, and a level set on ore the classifier never saw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vision.crossfit import CROSS_FIT, CROSS_FIT_GROUPS, source_groups, source_share
from vision.decision import DECISION_MARGIN
from vision.detect import DetectorParams
from vision.errors import DataError
from vision.fit import CandidatePool, train_classifier
from vision.tiles import TileSet, load_tiles, source_fold, source_of


#: The classifiers are trained here by calling ``train_classifier`` directly: on one BLAS thread, as every fit runs it
#: (tests/vision/conftest.py ``fit_blas_threads``).
pytestmark = pytest.mark.usefixtures("fit_blas_threads")


def _sources(tiles: TileSet) -> set[str]:
    return {source_of(Path(n.split("#")[0])) for n in tiles.names}


def test_source_groups_split_the_fit_sources_nested_in_the_folds_and_each_classifier_sees_at_least_80_percent():
    tiles = load_tiles("fit")
    groups = source_groups(tiles, CROSS_FIT_GROUPS, 2)
    assert len(groups) == CROSS_FIT_GROUPS
    assert sum(len(g) for g in groups) == len(tiles)
    seen: set[str] = set()
    for g, group in enumerate(groups):
        assert not (_sources(group) & seen)  # a source (and its jittered copies) in one group only
        seen |= _sources(group)
        assert {source_fold(n, 2) for n in group.names} == {g % 2}  # inside the objectness fold g % 2
    assert seen == _sources(tiles)
    assert min(source_share(groups)) >= 0.8


def test_source_groups_reject_a_count_that_does_not_nest_and_groups_without_sources():
    tiles = load_tiles("fit")
    with pytest.raises(ValueError, match="multiple of 2 folds"):
        source_groups(tiles, 5, 2)
    tiny = TileSet(tiles.tiles[:1], tiles.names[:1], "one tile")
    with pytest.raises(DataError, match="sources in fold"):
        source_groups(tiny, 4, 2)


def _pool(groups: int) -> CandidatePool:
    """Objects near (0, 0); each group's ore near (4, 0), but the last group's ore lies near (1.5, 0), between the
    objects and every other group's ore. Decision belt of each group is drawn like its training ore."""
    rng = np.random.default_rng(3)
    pool = CandidatePool()
    ore = [(4.0, 0.0)] * (groups - 1) + [(1.5, 0.0)] if groups > 1 else [(4.0, 0.0), (1.5, 0.0)]
    for g in range(groups):
        pool.add((list(rng.normal((0.0, 0.0), 0.3, (60, 2))), ["wood"] * 60, [100.0] * 60), g, False)
    for g, centre in enumerate(ore):
        group = g % groups
        pool.add((list(rng.normal(centre, 0.2, (60, 2))), ["none"] * 60, [100.0] * 60), group, True, "today")
        pool.add((list(rng.normal(centre, 0.2, (40, 2))), ["none"] * 40, [100.0] * 40), group, True, "today", train=False)
    pool.add_belt("today", 3000.0)
    return pool


@pytest.mark.skipif(not CROSS_FIT, reason="vision.crossfit.CROSS_FIT is off: fits set the level in fold")
def test_the_level_comes_from_classifiers_that_never_saw_the_belts_ore():
    pool = _pool(4)
    clf, decision = train_classifier(pool, DetectorParams(min_length_mm=50.0), seed=0)
    belt = ~np.asarray(pool.train)
    in_fold = clf.p_none(np.asarray(pool.x)[belt])
    # the final classifier trained on the last group's ore and calls it ore; a classifier without that group does not
    assert decision.in_fold_lowest_p_none["today"] == pytest.approx(in_fold.min())
    assert decision.none_max < 0.5 * DECISION_MARGIN * in_fold.min()
    assert decision.p_none_spread["out_of_fold"][0] == pytest.approx(decision.none_max / DECISION_MARGIN)
    assert decision.reason.startswith("out of fold")


def test_one_source_group_sets_the_level_with_the_final_classifier():
    pool = _pool(1)
    clf, decision = train_classifier(pool, DetectorParams(min_length_mm=50.0), seed=0)
    in_fold = clf.p_none(np.asarray(pool.x)[~np.asarray(pool.train)])
    assert decision.none_max == pytest.approx(min(0.5, DECISION_MARGIN * in_fold.min()))
    assert decision.in_fold_lowest_p_none == {}
