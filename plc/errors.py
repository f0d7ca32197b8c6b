"""Exceptions raised by the plc package.

Every class also inherits the builtin it refines, so callers may catch either
``PlcError`` or the builtin (``ValueError``, ``RuntimeError``, ``ConnectionError``...).
A dropped Modbus link is never raised into the line: the belt-scale client
reports it in its reading instead (``ok=False`` and a ``fault`` text).
"""

from __future__ import annotations


class PlcError(Exception):
    """Base class of every error raised by ``plc``."""


class RegisterMapError(PlcError, ValueError):
    """A register table that is inconsistent (overlap, bad type, address out of range)."""


class EncodingError(PlcError, ValueError):
    """A value that cannot be put into its registers (out of range, non-finite, not ASCII, too long)."""


class SnapshotError(PlcError, ValueError):
    """A :class:`~plc.snapshot.LineSnapshot` with a field the register map cannot carry."""


class CommandError(PlcError, ValueError):
    """A command from the PLC that is invalid, or a completion for a command that was never received."""


class ServerError(PlcError, RuntimeError):
    """A Modbus server that cannot start (port in use, bad host) or is used while stopped."""


class BeltScaleError(PlcError, ValueError):
    """A belt-scale client configured with values that cannot work (word order, timeouts, limits)."""
