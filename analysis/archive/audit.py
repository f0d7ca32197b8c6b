"""The control room's audit trail as archived with a lot: logins, refusals and operator commands.

:func:`audit_events` reads every event of an archive, oldest first; :func:`operator_commands` only the
commands (acknowledge, shelve, stop, targeted sample) that went through, for the report's "operator commands"
section. Archives written before the audit table existed give an empty list.
"""

from __future__ import annotations

import dataclasses

from analysis.archive.format import loads
from analysis.archive.reader import ArchiveReader
from analysis.model import AuditEvent

#: Audit actions that change the line or its alarms.
COMMAND_ACTIONS = ("acknowledge", "shelve", "unshelve", "stop", "targeted_sample")

_FIELDS = {f.name for f in dataclasses.fields(AuditEvent)}


def audit_events(reader: ArchiveReader) -> list[AuditEvent]:
    """Every audit event of the lot, oldest first."""
    column = reader.table("audit")["json"]
    rows = [loads(text, f"{reader.path}: audit row {i}") for i, text in enumerate(column)]
    events = [AuditEvent(**{k: v for k, v in row.items() if k in _FIELDS}) for row in rows]
    return sorted(events, key=lambda e: e.epoch_s)


def operator_commands(reader: ArchiveReader) -> list[AuditEvent]:
    """The commands that were carried out (outcome ``ok``), oldest first: who, role, from where, when, what."""
    return [e for e in audit_events(reader) if e.action in COMMAND_ACTIONS and e.outcome == "ok"]


__all__ = ["COMMAND_ACTIONS", "audit_events", "operator_commands"]
