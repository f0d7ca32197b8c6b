"""One decision on both classifiers' evidence against the union's OR (issue 27, fuse46): a diagnostic's arithmetic.

The shipped union (FIT_VERSION 18) reports a features' candidate when the base classifier's p(none) ``p_b`` is at most
its level ``l_b`` OR the second judge's ``p_j`` at most its level ``l_j`` (each level per belt condition, set on its own
fit's out-of-fold belt). In each classifier's own level units, u = ln(p_b / l_b) and v = ln(p_j / l_j), the OR
reports min(u, v) <= 0. A fused rule reports w u + (1 - w) v <= c (a logistic stack on the two log p(none) is of this
form up to the level), AND max(u, v) <= c. :func:`level_at_false_count` gives a score's most permissive level that
lets at most k false candidates through, so that rules can be compared at the same false alarms
(``benchmarks.bench_vision_fusion``; docs/vision-experiments.md "Fused decision"). No level here is a fit's: a level
read off development belt is an oracle, for measuring headroom only.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

#: A rule's score of a candidate from (u, v): reported when the score is at most the rule's level.
Score = Callable[[np.ndarray, np.ndarray], np.ndarray]


def level_ratio(p_none: np.ndarray, level: np.ndarray | float) -> np.ndarray:
    """ln(p_none / level) per candidate: <= 0 where the classifier reports it at that level. Raises ValueError when
    a p(none) or level is not positive (or NaN), or the shapes do not broadcast."""
    p, lv = np.asarray(p_none, float), np.asarray(level, float)
    if not (np.all(p > 0) and np.all(lv > 0)):
        raise ValueError("expected positive p(none) and levels (a level ratio is their log)")
    return np.log(p) - np.log(np.broadcast_to(lv, p.shape))


def or_score(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The union's OR: min(u, v) (reported at level 0 exactly when either classifier reports)."""
    return np.minimum(u, v)


def and_score(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Both must report: max(u, v)."""
    return np.maximum(u, v)


def fused_score(w: float) -> Score:
    """The score w u + (1 - w) v (a weighted geometric mean of the two p(none), each over its level). Raises
    ValueError unless 0 <= w <= 1."""
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"expected a weight 0 <= w <= 1, got {w}")
    return lambda u, v: w * np.asarray(u, float) + (1.0 - w) * np.asarray(v, float)


def level_at_false_count(false_scores: np.ndarray, k: int) -> float:
    """The largest level at which at most ``k`` of ``false_scores`` are at or below it (inf when there are no more
    than k). Raises ValueError for k < 0."""
    if k < 0:
        raise ValueError(f"expected a count of false candidates >= 0, got {k}")
    s = np.sort(np.asarray(false_scores, float).ravel())
    return float(np.nextafter(s[k], -np.inf)) if k < s.size else float("inf")


def rules(weights: tuple[float, ...] = (0.2, 0.35, 0.5, 0.65, 0.8)) -> dict[str, Score]:
    """The rules the diagnostic compares: the OR, each classifier alone, AND, and w u + (1 - w) v per weight."""
    out: dict[str, Score] = {"OR min(u, v) (shipped form)": or_score, "base alone u": lambda u, v: np.asarray(u, float),
                             "judge alone v": lambda u, v: np.asarray(v, float), "AND max(u, v)": and_score}
    out.update({f"w = {w:g}: w u + (1 - w) v": fused_score(w) for w in weights})
    return out


def or_shifted(a: float, b: float) -> Score:
    """The OR with the two levels moved apart: reported (score -1 <= 0) when u <= ``a`` or v <= ``b``, else score 1."""
    return lambda u, v: np.where((np.asarray(u) <= a) | (np.asarray(v) <= b), -1.0, 1.0)


def or_shift_choices(false_u: np.ndarray, false_v: np.ndarray, k: int, grid: np.ndarray) -> list[tuple[float, float]]:
    """Per shift ``a`` of u in ``grid``, the most permissive shift b of v with at most ``k`` false candidates under
    :func:`or_shifted` (a whose own false candidates already exceed k: left out)."""
    u, v = np.asarray(false_u, float), np.asarray(false_v, float)
    out = []
    for a in np.asarray(grid, float):
        left = k - int(np.sum(u <= a))
        if left >= 0:
            out.append((float(a), level_at_false_count(v[u > a], left)))
    return out


__all__ = ["Score", "and_score", "fused_score", "level_at_false_count", "level_ratio", "or_score", "or_shift_choices",
           "or_shifted", "rules"]
