"""Decide: segment classes, the sequential lot verdict, alarms and the lot monitor that drives them.

Pure logic over the line's records (no files, no network). Every other room may
import this one; it imports none of them.
"""

from analysis.decide.alarms import ALARM_CATEGORIES, SEVERITIES, AlarmBook, AlarmIds, AlarmJournal, AlarmLotError
from analysis.decide.markers import MARKER_KINDS, trend_markers
from analysis.decide.lab import LAB_VERDICTS, LabVerdict, lab_verdict
from analysis.decide.monitor import INSPECTING_KINDS, LotMonitor, NirScorer
from analysis.decide.segment import segment_class
from analysis.decide.verdict import VERDICT_FIELDS, SequentialVerdict

__all__ = [
    "ALARM_CATEGORIES", "SEVERITIES", "AlarmBook", "AlarmIds", "AlarmJournal", "AlarmLotError",
    "LAB_VERDICTS", "LabVerdict", "lab_verdict",
    "INSPECTING_KINDS", "LotMonitor", "NirScorer",
    "MARKER_KINDS", "trend_markers",
    "segment_class",
    "VERDICT_FIELDS", "SequentialVerdict",
]
