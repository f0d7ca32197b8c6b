"""What a detector looks up once per classifier: the shipped artefacts fitted or levelled for one classifier (the wood
judge, the groups' judge, the kind evidence, the lump judge), each found by its own ``judge_for``-style function.

A detector can serve two classifiers in turn (the union's base classifier and its second judge): each keeps its own
artefacts, looked up at first use and the same object every time after (:class:`PerClassifier`).
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")


class PerClassifier:
    """Artefacts by (name, classifier): ``get(name, clf, find)`` is ``find(clf)`` at its first call for that name and
    classifier, the same object at every later one. The classifier (None included) is held with its artefact, so no
    other object takes its ``id`` while the cache lives."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, int], tuple[Any, Any]] = {}

    def get(self, name: str, clf: Any, find: Callable[[Any], T]) -> T:
        """The artefact ``name`` of classifier ``clf``: ``find(clf)`` once, then the object it gave."""
        key = (name, id(clf))
        held = self._found.get(key)
        if held is None or held[0] is not clf:  # the `is`: an id read back in another process (a pickled detector)
            held = self._found[key] = (clf, find(clf))
        return held[1]

    def __len__(self) -> int:
        return len(self._found)


__all__ = ["PerClassifier"]
