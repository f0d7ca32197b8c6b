"""The catalogue's questions as one object the control room's routers call (they never import the catalogue).

Each method opens a short session, answers, and closes it; results are JSON-ready dicts.
"""

from __future__ import annotations

from typing import Any

from analysis.catalogue import archived, store
from analysis.catalogue.db import Catalogue
from analysis.catalogue.errors import UnknownLot
from analysis.catalogue.store import AlarmFilter, LotFilter

#: What :meth:`CatalogueQueries.from_archive` reads of a past lot (names of ``analysis.catalogue.archived``).
ARCHIVE_VIEWS = ("segments", "detections", "thumbnail", "increments", "spectrum", "trends", "lot_summary")


class CatalogueQueries:
    """Lots, alarms, events and the lab queue across lots, read from a :class:`Catalogue`."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def lots(self, **filters: Any) -> list[dict[str, Any]]:
        """Lots newest first; ``filters`` are :class:`LotFilter` fields."""
        with self.catalogue.session() as s:
            return store.list_lots(s, LotFilter(**filters))

    def lot(self, lot_id: str) -> dict[str, Any] | None:
        """One lot with its alarms, events and commands (None when unknown)."""
        with self.catalogue.session() as s:
            row = store.get_lot(s, lot_id)
            if row is None:
                return None
            return {"lot": row, "alarms": store.lot_alarms(s, lot_id), "events": store.lot_events(s, lot_id),
                    "commands": store.lot_commands(s, lot_id)}

    def alarms(self, **filters: Any) -> list[dict[str, Any]]:
        """Alarm history across lots, newest first; ``filters`` are :class:`AlarmFilter` fields."""
        with self.catalogue.session() as s:
            return store.alarm_history(s, AlarmFilter(**filters))

    def events(self, lot_id: str) -> list[dict[str, Any]]:
        with self.catalogue.session() as s:
            return store.lot_events(s, lot_id)

    def lab_queue(self) -> list[dict[str, Any]]:
        with self.catalogue.session() as s:
            return store.lab_queue(s)

    def from_archive(self, lot_id: str, view: str, *args: Any) -> Any:
        """A past lot's ``view`` (one of :data:`ARCHIVE_VIEWS`) read from the archive its row points to.

        Raises :class:`UnknownLot` (a ``KeyError``) for a lot the catalogue does not hold and
        :class:`~analysis.catalogue.archived.ArchiveUnavailable` (a ``LookupError``) when its archive is missing
        or unreadable; the row is never changed."""
        if view not in ARCHIVE_VIEWS:
            raise ValueError(f"expected a view in {ARCHIVE_VIEWS}, got {view!r}")
        with self.catalogue.session() as s:
            row = store.get_lot(s, lot_id)
        if row is None:
            raise UnknownLot(f"no lot {lot_id[:80]!r} in the catalogue")
        with archived.lot_archive(lot_id, row.get("archive_path") or "") as reader:
            return getattr(archived, view)(reader, *args)

    def max_alarm_id(self) -> int:
        """The largest alarm id the catalogue holds (0: none)."""
        with self.catalogue.session() as s:
            return store.max_alarm_id(s)
