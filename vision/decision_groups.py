"""The fragment groups' own judge and decision (issue 27, grp54; docs/vision-experiments.md "Fragment groups with a
decision of their own").

A group of fragments (:mod:`vision.fragments`, ``Detector.group_fragments``) is a candidate the union's judge never saw
in training: on the fit split's belt with objects it leaves most groups on objects at odds of an object against
"none" that object-free belt's groups also reach (frag53: one fresh belt's group at 0.22 x its decision), so no level
on the judge's p(none) alone separates them. A :class:`GroupJudge` weighs, by a logistic regression fitted on the fit
split only (:func:`fit_group_judge`; groups on objects >= 50 mm against the other groups of the same belts), the
judge's odds ``ln((1 - p(none)) / p(none))`` (:func:`object_log_odds`), the number of pieces and the group's component
features (:func:`group_inputs`); a group is reported when its score reaches the judge's level.

:func:`set_group_level`: the level is set on object-free belt of the fit split's tiles streamed through the union's
detector with the grouping on, as :func:`vision.decision_kind.set_level` sets a kind's: the (k+1)-th highest score of
the groups judged there plus ``ln(1 / DECISION_MARGIN)``, k = :func:`vision.decision.allowed_events` of the belt's
metres per scene type. ``benchmarks/bench_vision_unreported.py --calibrate-groups`` fits the judge and sets its level;
:data:`SHIPPED_GROUPS` holds the shipped union's (:func:`judge_for`: only for the judge it was fitted on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from vision.classify import KindClassifier
from vision.decision import tail_level
from vision.decision_kind import judge_key


def object_log_odds(p_none: np.ndarray) -> np.ndarray:
    """``ln((1 - p(none)) / p(none))`` of each p(none) (+inf at 0, -inf at 1)."""
    p = np.asarray(p_none, np.float64)
    with np.errstate(divide="ignore"):
        return np.log1p(-p) - np.log(p)


def group_inputs(p_none: np.ndarray, pieces: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The group judge's inputs (n, 2 + features): the union's judge's object log odds (clipped to +-30), the log of the
    number of pieces, and the group's component features ``matrix`` (n, features)."""
    m = np.atleast_2d(np.asarray(matrix, np.float64))
    odds = np.clip(object_log_odds(p_none), -30.0, 30.0)
    return np.column_stack([odds, np.log(np.asarray(pieces, np.float64)), m])


@dataclass(frozen=True)
class GroupJudge:
    """A logistic score over :func:`group_inputs`, ``((x - mean) / scale) @ coef + intercept``, and its level: a group
    scoring at or above ``level`` is reported. ``judge``: the union's judge it was fitted with
    (:func:`vision.decision_kind.judge_key`); ``belt_m``, ``events``: the fit split's object-free metres per scene type
    the level rests on and the groups allowed at or above its (k+1)-th score before the margin."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    level: float
    judge: str
    belt_m: float
    events: int

    def __post_init__(self) -> None:
        if not (len(self.mean) == len(self.scale) == len(self.coef) >= 1):
            raise ValueError(f"expected mean, scale and coef of one length, got {len(self.mean)}, {len(self.scale)}, {len(self.coef)}")
        if not (math.isfinite(self.level) and math.isfinite(self.intercept)) or self.belt_m <= 0 or self.events < 0:
            raise ValueError(f"expected a finite level and intercept, belt_m > 0 and events >= 0, got {self.level}, {self.intercept}, "
                             f"{self.belt_m}, {self.events}")
        if min(self.scale) <= 0:
            raise ValueError(f"expected scales > 0, got {min(self.scale)}")

    def score(self, inputs: np.ndarray) -> np.ndarray:
        """The score (n,) of :func:`group_inputs` rows ``inputs``."""
        x = np.atleast_2d(np.asarray(inputs, np.float64))
        if x.shape[1] != len(self.coef):
            raise ValueError(f"expected {len(self.coef)} inputs per group, got {x.shape[1]}")
        return ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef) + self.intercept

    def none_max(self, inputs: np.ndarray) -> np.ndarray:
        """The decision as a level on p(none) (n,): the p(none) at which each group's score, its other inputs held,
        reaches ``level`` (so ``p_none <= none_max`` is "reported", as for a single candidate); with no positive
        weight on the judge's odds, 1 for a group that reaches it and 0 for one that does not."""
        x = np.atleast_2d(np.asarray(inputs, np.float64))
        if self.coef[0] <= 0:
            return np.where(self.score(x) >= self.level, 1.0, 0.0)
        odds_at = x[:, 0] + (self.level - self.score(x)) * self.scale[0] / self.coef[0]
        return 1.0 / (1.0 + np.exp(odds_at))


def fit_group_judge(inputs: np.ndarray, on_object: np.ndarray, c: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, coef, intercept) of an L2 logistic regression (``c`` its inverse strength, the classes weighted
    alike) of ``on_object`` (n,) bool on standardised :func:`group_inputs` rows ``inputs``: groups on objects of the fit
    split's belt against the others. Raises ValueError without both classes."""
    x = np.asarray(inputs, np.float64)
    y = np.asarray(on_object, bool)
    if y.all() or not y.any() or len(x) != len(y):
        raise ValueError(f"expected groups on objects and off them, got {int(y.sum())} of {len(y)} on")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit((x - mean) / scale, y)
    return mean, scale, lr.coef_[0].copy(), float(lr.intercept_[0])


def set_group_level(scores: np.ndarray, belt_m: float, events: int | None = None) -> tuple[float, int]:
    """(level, k) from the ``scores`` of the groups judged on ``belt_m`` metres (per scene type) of the fit split's
    object-free belt: the (k+1)-th highest, k = ``events`` or ``allowed_events(belt_m)``, plus
    ``ln(1 / DECISION_MARGIN)``. Raises ValueError without belt or with fewer than k + 1 groups."""
    return tail_level(scores, belt_m, events, counted="groups")


#: The shipped 4 mm/px union's group judge (model-4mm-512px-2f7c0564758e.npz, its judge c4e029e21060), from the fit
#: split only by ``python -m benchmarks.bench_vision_unreported --calibrate-groups`` (docs/vision-experiments.md
#: "Fragment groups with a judge of their own"; computed from the same belts and functions by the scratch copy of its
#: collection, /work/grp54-scratch/collect.py and fit_offline.py): fitted on the 464 groups (89 on objects >= 50 mm) of
#: 12 x 102 m of realistic belt with objects (seeds 3001-3012); its level the 7th highest score (k = 6 for 12,026 m) of
#: the 3,861 groups on 12,026 m each of object-free realistic and dark-rubber belt (seeds 2001-2004), +0.97, plus ln 2
#: (the highest there +1.30: no group of that belt reaches it; 46 of the 89 fitted groups on objects do).
SHIPPED_GROUPS: GroupJudge | None = GroupJudge(
    mean=(-1.219863, 1.227771, 0.421501, 0.376637, -0.115568, -2.728225, -1.903753, 0.378181, 0.363193, -0.814726,
        1.716929, 3.689553, 7.030206, 4.175025, 3.213125, 0.9619, 2.097274, -0.008152, -0.00154, -0.082019,
        -0.645539, 0.457438, 0.400163, 0.458281, -3.921352, 0.088763, 0.0745, 0.061213, -1.254502, 0.40414,
        0.072687, -7.251279),
    scale=(2.501965, 0.537313, 0.034335, 0.018483, 0.309035, 0.619449, 0.570418, 0.159848, 0.178888, 0.482308,
        0.937195, 1.506808, 1.069531, 0.634759, 0.800877, 0.616376, 12.881363, 0.025049, 0.012416, 0.261764,
        0.345589, 0.365726, 0.180752, 0.21195, 2.189903, 1.021106, 0.55179, 0.457551, 0.643097, 0.175873, 0.030546,
        4.56389),
    coef=(0.329628, 0.166814, 0.172708, -0.224338, -0.036387, -0.048735, -0.11228, -0.213677, -0.265782, 0.022985,
        -0.041698, 0.020471, 0.292927, 0.194448, 0.111636, 0.055196, 0.007091, 0.078943, -0.235392, 0.072313,
        -0.071825, -0.085238, -0.10914, -0.025669, 0.079601, 0.194747, -0.050489, -0.035646, 0.014813, -0.106047,
        -0.109063, 0.231216),
    intercept=-0.967797, level=1.6637, judge='c4e029e21060', belt_m=12026.0, events=6)


def judge_for(clf: KindClassifier | None, shipped: GroupJudge | None = None) -> GroupJudge | None:
    """``shipped`` (default :data:`SHIPPED_GROUPS`) when ``clf`` is the union's judge it was fitted with; else None."""
    shipped = SHIPPED_GROUPS if shipped is None else shipped
    if clf is None or shipped is None:
        return None
    return shipped if judge_key(clf) == shipped.judge else None


__all__ = ["SHIPPED_GROUPS", "GroupJudge", "fit_group_judge", "group_inputs", "judge_for", "object_log_odds", "set_group_level"]
