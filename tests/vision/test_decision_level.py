"""The level's estimator chosen by leave-one-group-out on the fit's own out-of-fold belt (vision.decision_level)."""

from __future__ import annotations

import numpy as np
import pytest

from vision.decision import DECISION_MARGIN, Decision, Regime
from vision.decision_level import (apply_choices, choose_level, choose_levels, group_belt, hold_unfounded_regimes,
                                   leave_one_group_out, regime_belts)
from vision.detect import DetectorParams
from vision import fit
from vision.fit import CandidatePool, train_classifier


#: The classifiers are trained here by calling ``train_classifier`` directly: on one BLAS thread, as every fit runs it
#: (tests/vision/conftest.py ``fit_blas_threads``).
pytestmark = pytest.mark.usefixtures("fit_blas_threads")


def _belt(lows: list[list[float]], n_high: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold p(none) per group: the given low values plus ``n_high`` ordinary ones (0.5-1)."""
    rng = np.random.default_rng(5)
    p, g = [], []
    for k, low in enumerate(lows):
        p += list(low) + list(rng.uniform(0.5, 1.0, n_high))
        g += [k] * (len(low) + n_high)
    return np.array(p), np.array(g)


def test_the_loosest_rank_within_the_bound_sets_the_level_not_the_pooled_minimum():
    # six groups' lows close together: a level from any five lets none of the sixth's candidates through
    p, g = _belt([[1.1e-3], [1.2e-3], [1.4e-3], [1.6e-3], [1.8e-3], [2.0e-3]])
    choice = choose_level(p, g, {k: 1000.0 for k in range(6)})
    assert choice.passed and choice.rank == 5 and [e.events for e in choice.estimates] == [0] * 5
    assert choice.level == pytest.approx(DECISION_MARGIN * 1.8e-3)  # 5th lowest of six
    assert choice.level > DECISION_MARGIN * p.min()  # the pooled minimum (FIT_VERSION 13-15) is 1.6 x stricter


def test_an_outlying_group_counts_once_and_two_of_its_candidates_fail_every_rank():
    lows = [[1e-5], [1e-3], [1.2e-3], [1.4e-3], [1.6e-3], [1.8e-3]]
    p, g = _belt(lows)
    choice = choose_level(p, g, {k: 1000.0 for k in range(6)})
    # one event in 6,000 m: bound 0.79 per 1,000 m, within 1
    assert choice.passed and choice.rank == 5 and choice.estimates[-1].events_per_group == [1, 0, 0, 0, 0, 0]
    assert choice.estimates[-1].fa_bound_per_1000_m == pytest.approx(1000 * 4.744 / 6000, rel=1e-3)
    p2, g2 = _belt([[1e-5, 2e-5]] + lows[1:])
    strict = choose_level(p2, g2, {k: 1000.0 for k in range(6)})
    # two events (bound 1.05) at every rank: none passes, and the pooled minimum stays
    assert not strict.passed and strict.rank == 1 and strict.level == pytest.approx(DECISION_MARGIN * 1e-5)
    assert leave_one_group_out(p2, g2, 1) == [2, 0, 0, 0, 0, 0]


def test_a_short_belt_bounds_less_and_keeps_a_stricter_rank():
    p, g = _belt([[1e-5], [1e-3], [1.2e-3], [1.4e-3], [1.6e-3], [1.8e-3]])
    # 600 m per group: even one event is 1.32 per 1,000 m; ranks 1-5 all let group 0's low through
    choice = choose_level(p, g, {k: 600.0 for k in range(6)})
    assert not choice.passed and choice.rank == 1


def test_bad_inputs_are_refused():
    p, g = _belt([[1e-3], [2e-3]])
    with pytest.raises(ValueError, match="at least two source groups"):
        choose_level(p[g == 0], g[g == 0], {0: 100.0})
    with pytest.raises(ValueError, match=r"groups \[1\] have candidates but no belt"):
        choose_level(p, g, {0: 100.0})
    with pytest.raises(ValueError, match="one group per p"):
        choose_level(p, g[:-1], {0: 100.0, 1: 100.0})
    assert group_belt([("today", 0, 10.0), ("realistic", 0, 5.0), ("today", 1, 3.0), ("x", -1, 99.0)]) == {0: 15.0, 1: 3.0}


def _pool(groups: int, belt_m: float, outlier: bool) -> CandidatePool:
    """Objects near (0, 0), each group's ore near (4, 0) (with ``outlier``, group 0's near (2.2, 0), towards the
    objects); per-group decision belt."""
    rng = np.random.default_rng(3)
    pool = CandidatePool()
    for g in range(groups):
        centre = (2.2, 0.0) if outlier and g == 0 else (4.0, 0.0)
        pool.add((list(rng.normal((0.0, 0.0), 0.3, (60, 2))), ["wood"] * 60, [100.0] * 60), g, False)
        pool.add((list(rng.normal(centre, 0.3, (60, 2))), ["none"] * 60, [100.0] * 60), g, True, "today")
        pool.add((list(rng.normal(centre, 0.3, (40, 2))), ["none"] * 40, [100.0] * 40), g, True, "today", train=False)
        pool.add_belt("today", belt_m, group=g)
    return pool


@pytest.mark.slow  # trains classifiers
def test_the_fit_loosens_the_level_where_leave_one_group_out_holds(monkeypatch):
    monkeypatch.setattr(fit, "LEVEL_BY_GROUPS", True)  # the switch a fit past FIT_VERSION 16 may turn on
    pool = _pool(6, 1000.0, outlier=False)
    clf, decision = train_classifier(pool, DetectorParams(min_length_mm=50.0), seed=0)
    choice = decision.level_choice["all"]
    assert choice["passed"] and choice["rank"] > 1 and "leave-one-group-out" in decision.reason
    lows = sorted(choice["group_low"].values())
    assert clf.none_max == decision.none_max == pytest.approx(DECISION_MARGIN * lows[choice["rank"] - 1])
    assert decision.none_max > DECISION_MARGIN * decision.p_none_spread["out_of_fold"][0]  # looser than the pooled minimum
    assert sum(choice["group_belt_m"].values()) == pytest.approx(6000.0)


@pytest.mark.slow  # trains classifiers
def test_where_no_rank_holds_the_fit_keeps_the_pooled_minimum(monkeypatch):
    monkeypatch.setattr(fit, "LEVEL_BY_GROUPS", True)
    pool = _pool(6, 1000.0, outlier=True)
    _, decision = train_classifier(pool, DetectorParams(min_length_mm=50.0), seed=0)
    assert not decision.level_choice["all"]["passed"] and "pooled minimum stays" in decision.reason
    assert decision.none_max == pytest.approx(DECISION_MARGIN * decision.p_none_spread["out_of_fold"][0])


def test_a_belt_condition_that_holds_gets_its_chosen_level_and_one_that_does_not_keeps_decides():
    strict = Regime("part-loaded", 0.0, 0.9, 3000.0, 0, 1e-5, 5e-6, 1.0)
    full = Regime("full burden", 0.9, 1.0, 3000.0, 0, 0.01, 0.005, 1.0)
    decision = Decision(5e-6, {"today": 3000.0, "realistic": 3000.0}, {}, [strict, full])
    p, g = _belt([[1.1e-3], [1.2e-3], [1.4e-3], [1.6e-3], [1.8e-3], [2.0e-3]])
    holds = choose_level(p, g, {k: 1000.0 for k in range(6)})
    p2, g2 = _belt([[1e-5, 2e-5], [1e-3], [1.2e-3], [1.4e-3], [1.6e-3], [1.8e-3]])
    fails = choose_level(p2, g2, {k: 1000.0 for k in range(6)})
    apply_choices(decision, {"all": fails, "full burden": holds, "part-loaded": fails})
    assert decision.none_max == 5e-6 and strict.none_max == 5e-6  # kept as decide() set them
    assert full.none_max == pytest.approx(DECISION_MARGIN * 1.8e-3)
    assert set(decision.level_choice) == {"all", "full burden", "part-loaded"}


def test_choices_per_belt_condition_count_each_groups_belt_by_row_load():
    parts = [("today", 0, 2.0), ("realistic", 0, 2.0), ("today", 1, 2.0), ("realistic", 1, 2.0)]
    rows = [np.full(4, 0.5), np.full(4, 0.95), np.array([0.5, 0.5, 0.95, 0.95]), np.full(4, 0.99)]
    assert regime_belts(parts, rows, 0.5, 0.9, 1.0) == {0: 2.0, 1: 3.0}
    p, g = np.array([0.2, 0.3, 0.4, 0.5]), np.array([0, 0, 1, 1])
    load = np.array([0.5, 0.95, 0.5, 0.95])
    got = choose_levels(p, g, load, parts, rows, 0.5)
    assert set(got) == {"all", "part-loaded", "full burden"} and got["full burden"].group_low == {0: 0.3, 1: 0.5}
    assert set(choose_levels(p, g, load, parts, [], 0.5)) == {"all"}


def test_a_belt_condition_whose_own_level_leave_one_group_out_does_not_found_keeps_the_strictest():
    # FIT 13's recipe with today's detector (w27u): the full burden's level rested on one group's candidate
    part = Regime("part-loaded", 0.0, 0.9, 2003.0, 0, 2.6e-3, 1.3e-3, 1.5)
    full = Regime("full burden", 0.9, 1.0, 3997.0, 0, 0.028, 0.014, 0.75)
    decision = Decision(1.3e-3, {"today": 2000.0, "realistic": 2000.0, "dark-ore": 2000.0}, {}, [part, full])
    p, g = _belt([[1.1e-3], [1.2e-3], [1.4e-3], [1.6e-3], [1.8e-3], [2.0e-3]])
    holds = choose_level(p, g, {k: 1000.0 for k in range(6)})
    p2, g2 = _belt([[0.028], [0.07], [0.08], [0.09], [0.1], [0.12]])  # one group's low under half the others'
    fails = choose_level(p2, g2, {k: 666.0 for k in range(6)})
    assert holds.passed and not fails.passed
    hold_unfounded_regimes(decision, {"all": holds, "part-loaded": holds, "full burden": fails})
    assert full.none_max == decision.none_max == 1.3e-3 and part.none_max == 1.3e-3
    assert "own level of full burden not founded" in decision.reason and set(decision.level_choice) == {"all", "part-loaded", "full burden"}
    founded = Regime("full burden", 0.9, 1.0, 3997.0, 0, 0.028, 0.014, 0.75)
    decision = Decision(1.3e-3, {"realistic": 4000.0}, {}, [founded])
    hold_unfounded_regimes(decision, {"all": holds, "full burden": holds})
    assert founded.none_max == 0.014 and "every regime's own level founded" in decision.reason


@pytest.mark.slow  # trains classifiers
def test_the_fit_holds_an_unfounded_regime_and_not_without_the_switch():
    # three groups' ore near (4, 0), group 0's at full burden nearer the objects; one candidate of part-loaded belt
    # on the objects themselves sets the strictest level, so the full burden's own level (from group 0) is looser
    rng = np.random.default_rng(3)
    pool = CandidatePool()
    for g in range(3):
        centre = (2.2, 0.0) if g == 0 else (4.0, 0.0)
        pool.add((list(rng.normal((0.0, 0.0), 0.3, (60, 2))), ["wood"] * 60, [100.0] * 60), g, False)
        pool.add((list(rng.normal((4.0, 0.0), 0.3, (60, 2))), ["none"] * 60, [100.0] * 60), g, True, "today")
        pool.add((list(rng.normal(centre, 0.3, (40, 2))), ["none"] * 40, [100.0] * 40, [0.95] * 40), g, True, "today", train=False)
        pool.add_belt("today", 3000.0, np.repeat([0.5, 0.95], 30), 50.0, group=g)  # 1,500 m part-loaded, 1,500 m full
    pool.add(([[0.0, 0.0]], ["none"], [100.0], [0.5]), 1, True, "today", train=False)
    _, held = train_classifier(pool, DetectorParams(min_length_mm=50.0), seed=0)
    _, loose = train_classifier(pool, DetectorParams(min_length_mm=50.0), seed=0, hold_regimes=False)  # FIT 13's rule
    full_held, full_loose = (next(r for r in d.regimes if r.name == "full burden") for d in (held, loose))
    assert full_loose.none_max > full_held.none_max == held.none_max and not held.level_choice["full burden"]["passed"]
    assert loose.level_choice == {} and "own level of full burden not founded" in held.reason
