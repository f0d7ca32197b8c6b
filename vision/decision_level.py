"""The level's estimator chosen on the fit's own out-of-fold belt by leave-one-group-out (FIT_VERSION 16).

Since FIT_VERSION 13 the decision belt of each source group is scored by the classifier trained without that group
(:mod:`vision.crossfit`), and the level was DECISION_MARGIN x the *pooled* lowest p(none): the most extreme of six
classifiers. With the streamed belt (FIT_VERSION 15) that put the level 83 x under the held-out tail (docs/vision.md
"Out-of-fold tail"). Here each group's classifier gives one *group low* (the lowest p(none) of its group's
candidates), and the level is DECISION_MARGIN x the j-th lowest group low (j = 1: the pooled minimum).

Which j is decided on the fit's data only, by a rule fixed before any held-out figure: **the loosest j whose
leave-one-group-out false alarm rate stays within TARGET_FA_PER_1000_M (95 % Poisson bound)**. For each group g the
level is set the same way from the other groups' lows, and every candidate of group g at or below it is a false alarm
that a level set without g would have let through; with k such events over the belt of all groups (L m), the bound
is chi2.ppf(0.95, 2k + 2) / 2 / L. The check runs on the whole belt and on each belt condition (load regime,
:mod:`vision.decision`); where even j = 1 fails, the level stays as :func:`vision.decision.decide` set it (the pooled
minimum, FIT_VERSION 13-15's estimator).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from vision.decision import DECISION_CAP, DECISION_MARGIN, REGIME_BINS, TARGET_FA_PER_1000_M, Decision, _nth, in_bin, poisson_upper95

#: Whether fits choose the level's estimator by leave-one-group-out (:func:`choose_levels`) when the decision belt is
#: scored out of fold per source group; else the pooled minimum (FIT_VERSION 13-15). Off: the fit with it (FIT_VERSION
#: 16) found no rank within the bound on its own belt, kept the pooled minimum and let 1 false alarm through in 3,006 m
#: of held-out realistic belt (docs/vision.md "FIT_VERSION 16"); with 6,583 m of full-burden belt (FIT_VERSION 17) the
#: full burden's check passed up to rank 4, the level loosened to 0.049 and 13 false alarms came through in 3,006 m of
#: held-out realistic belt (docs/vision.md "FIT_VERSION 17"); a fit that turns it on must raise fit.FIT_VERSION past 17.
LEVEL_BY_GROUPS = False


@dataclass
class Estimate:
    """One estimator: the j-th lowest group low (``rank``), its level on all groups, and its leave-one-group-out
    check: false candidates let through (``events``, per group) and their 95 % bound per 1,000 m."""

    rank: int
    level: float
    events: int
    events_per_group: list[int]
    fa_bound_per_1000_m: float


@dataclass
class LevelChoice:
    """The group lows, every estimator's check, and the chosen one (``rank``; its ``level``)."""

    group_low: dict[int, float]
    group_belt_m: dict[int, float]
    estimates: list[Estimate] = field(default_factory=list)
    rank: int = 1
    level: float = DECISION_CAP
    passed: bool = False

    def as_dict(self) -> dict:
        out = asdict(self)
        out["group_low"] = {str(g): v for g, v in self.group_low.items()}
        out["group_belt_m"] = {str(g): v for g, v in self.group_belt_m.items()}
        return out


def rank_level(lows: np.ndarray, rank: int) -> float:
    """DECISION_MARGIN x the ``rank``-th lowest of the group ``lows`` (clipped to the last), at most DECISION_CAP."""
    v = np.sort(np.asarray(lows, float))
    return float(min(DECISION_CAP, DECISION_MARGIN * v[min(rank, v.size) - 1]))


def leave_one_group_out(p_none: np.ndarray, group: np.ndarray, rank: int) -> list[int]:
    """Per group (in sorted order), how many of its candidates lie at or below the level set by :func:`rank_level`
    from the other groups' lows alone."""
    groups = np.unique(group)
    lows = {g: float(p_none[group == g].min()) for g in groups}
    out = []
    for g in groups:
        level = rank_level(np.array([lows[h] for h in groups if h != g]), rank)
        out.append(int(np.sum(p_none[group == g] <= level)))
    return out


def choose_level(p_none: np.ndarray, group: np.ndarray, group_belt_m: dict[int, float],
                 target_per_1000_m: float = TARGET_FA_PER_1000_M) -> LevelChoice:
    """The level of the loosest rank j (1 .. groups - 1) whose leave-one-group-out false alarms over the belt of all
    groups (``group_belt_m``, metres per group) stay within ``target_per_1000_m`` (95 % bound); j = 1 (the pooled
    minimum) when none does. ``p_none`` (n,): out-of-fold p(none) of the decision belt's size-gated candidates,
    ``group`` (n,) their source group. Raises ValueError with fewer than two groups, a group without belt, or arrays
    of different lengths."""
    p_none, group = np.asarray(p_none, float), np.asarray(group)
    if p_none.shape != group.shape:
        raise ValueError(f"expected one group per p(none), got {p_none.shape} and {group.shape}")
    groups = [int(g) for g in np.unique(group)]
    if len(groups) < 2:
        raise ValueError(f"expected candidates of at least two source groups, got {groups}")
    missing = [g for g in groups if group_belt_m.get(g, 0.0) <= 0.0]
    if missing:
        raise ValueError(f"source groups {missing} have candidates but no belt (have {sorted(group_belt_m)})")
    belt_m = float(sum(group_belt_m.values()))
    lows = {g: float(p_none[group == g].min()) for g in groups}
    choice = LevelChoice(lows, {int(g): float(m) for g, m in group_belt_m.items()})
    for rank in range(1, len(groups)):
        per_group = leave_one_group_out(p_none, group, rank)
        k = int(sum(per_group))
        bound = 1000.0 * poisson_upper95(k) / belt_m
        choice.estimates.append(Estimate(rank, rank_level(np.array(list(lows.values())), rank), k, per_group, bound))
    passing = [e for e in choice.estimates if e.fa_bound_per_1000_m <= target_per_1000_m]
    best = max(passing, key=lambda e: e.level) if passing else choice.estimates[0]
    choice.rank, choice.level, choice.passed = best.rank, best.level, bool(passing)
    return choice


def group_belt(parts: list[tuple[str, int, float]]) -> dict[int, float]:
    """Metres of decision belt per source group from (scene type, group, metres) parts; parts of no group (-1) are
    left out."""
    out: dict[int, float] = {}
    for _type, g, metres in parts:
        if int(g) >= 0:
            out[int(g)] = out.get(int(g), 0.0) + float(metres)
    return out


def regime_belts(parts: list[tuple[str, int, float]], row_loads: list[np.ndarray], row_m: float,
                 lo: float, hi: float) -> dict[int, float]:
    """Metres of decision belt per source group whose rows' load lies in [lo, hi) ([lo, 1] for hi = 1): ``parts``
    and ``row_loads`` one per belt part, in the order they were scored."""
    out: dict[int, float] = {}
    for (_type, g, _metres), rows in zip(parts, row_loads):
        inside = in_bin(rows, lo, hi)
        if int(g) >= 0:
            out[int(g)] = out.get(int(g), 0.0) + float(inside.sum()) * row_m
    return out


def choose_levels(p_none: np.ndarray, group: np.ndarray, load: np.ndarray, parts: list[tuple[str, int, float]],
                  row_loads: list[np.ndarray], row_m: float) -> dict[str, LevelChoice]:
    """:func:`choose_level` on the whole decision belt (``"all"``) and, when each belt part's row loads are known,
    on each belt condition of :data:`vision.decision.REGIME_BINS` (its candidates by ``load``, its belt by row load)."""
    out = {"all": choose_level(p_none, group, group_belt(parts))}
    if len(row_loads) != len(parts) or not parts:
        return out
    for name, lo, hi in REGIME_BINS:
        inside = in_bin(load, lo, hi)
        belts = regime_belts(parts, row_loads, row_m, lo, hi)
        if np.unique(group[inside]).size >= 2 and all(belts.get(int(g), 0.0) > 0 for g in np.unique(group[inside])):
            out[name] = choose_level(p_none[inside], group[inside], belts)
    return out


def apply_choices(decision: Decision, choices: dict[str, LevelChoice]) -> None:
    """Loosen ``decision`` where a choice passed its leave-one-group-out check: ``"all"`` sets the level for any
    load (``none_max``), a belt condition's its regime's level (never stricter than ``none_max``, never above
    DECISION_CAP). Where none passed, the level stays as :func:`vision.decision.decide` set it (the pooled minimum,
    FIT_VERSION 13-15). Every choice is recorded."""
    whole = choices["all"]
    if whole.passed:
        decision.none_max = max(decision.none_max, whole.level)
    for r in decision.regimes:
        c = choices.get(r.name)
        level = c.level if c is not None and c.passed else r.none_max
        r.none_max = float(min(DECISION_CAP, max(level, decision.none_max)))
    decision.level_choice = {name: c.as_dict() for name, c in choices.items()}
    said = "; ".join(f"{name}: {f'0.5 x the {_nth(c.rank)} lowest of {len(c.group_low)} group lows' if c.passed else 'no rank within'}"
                     for name, c in choices.items())
    decision.reason += (f"; leave-one-group-out check ({TARGET_FA_PER_1000_M:g} per 1,000 m, 95 % bound): {said}"
                        f"{'' if any(c.passed for c in choices.values()) else ' (the pooled minimum stays)'}")


#: Whether a belt condition's own level (:func:`vision.decision.regimes`) must pass the leave-one-group-out check at
#: rank 1 (:func:`choose_level`: the condition's level set without each source group lets none of that group's
#: candidates through, within TARGET_FA_PER_1000_M) to stand; a condition that fails keeps the strictest level
#: (``none_max``). On since fit.RECIPE_FIT_VERSION 19: FIT 13's recipe with today's detector set the full burden's
#: level from one dark-ore candidate (0.5 x 0.028 = 0.014, 19 x the shipped 7.3e-4, whose lowest realistic candidate
#: the frame-edge fix removed) and let 1 and 3 false alarms through in 3,006 m of held-out realistic belt (seeds
#: 11, 12); with the hold the full burden kept 0.00129 and 0 came through on either (docs/vision.md "FIT_VERSION 13's
#: recipe today").
HOLD_UNFOUNDED_REGIMES = True


def hold_unfounded_regimes(decision: Decision, choices: dict[str, LevelChoice]) -> None:
    """Give every regime of ``decision`` whose leave-one-group-out check (``choices``, :func:`choose_levels`) found no
    rank within the target the strictest level (``none_max``); recorded in ``reason`` and ``level_choice``."""
    held = []
    for r in decision.regimes:
        c = choices.get(r.name)
        if c is not None and not c.passed and r.none_max > decision.none_max:
            r.none_max = float(decision.none_max)
            held.append(r.name)
    decision.level_choice = {name: c.as_dict() for name, c in choices.items()}
    decision.reason += ("; own level of " + ", ".join(held) + " not founded by leave-one-group-out (its strictest kept)"
                        if held else "; every regime's own level founded by leave-one-group-out")
