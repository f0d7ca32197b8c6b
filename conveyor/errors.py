"""Exceptions raised by the conveyor package.

Every class also inherits the builtin it refines, so callers may catch either
``ConveyorError`` or the builtin (``ValueError``, ``RuntimeError``...).
"""

from __future__ import annotations


class ConveyorError(Exception):
    """Base class of every error raised by ``conveyor``."""


class ConfigError(ConveyorError, ValueError):
    """A site configuration is missing a key, has an unknown key or a bad value.

    ``path`` names the offending key as a dotted path (``stations.nir.position_m``).
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class KinematicsError(ConveyorError, ValueError):
    """Belt speed or encoder data that cannot describe a real belt."""


class TotaliserError(ConveyorError, ValueError):
    """A belt-scale totaliser reading that cannot be reconciled (e.g. a large backwards step)."""


class TrackingError(ConveyorError, ValueError):
    """A tracking question the tracker cannot answer (time before the lot, material not yet weighed)."""


class RecordError(ConveyorError, ValueError):
    """A lot record out of order or not matching its stream description."""




class MissingOptionalDependency(ConveyorError, ImportError):
    """A command's work module needs a third-party package that is not installed (an optional extra)."""
