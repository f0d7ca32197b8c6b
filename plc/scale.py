"""The belt-scale family: one base class, backends registered by name (like the robot, camera and spectrometer).

A :class:`BeltScale` is a conveyor ``FeedSource`` (``read(time_s)``, ``close()``) built from its ``[scale]``
table by :meth:`BeltScale.from_config`, with no I/O until the first read. Each backend declares the keys it
adds to conveyor's own in ``fields`` (rendered into docs/configuration.md) and whether it runs on the
simulated clock (``simulated``). :data:`SCALE_BACKENDS` is the one list of backend names.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar

from conveyor.backends import import_backend
from conveyor.config import Field, validate_section
from conveyor.errors import ConfigError
from conveyor.feed import FeedSource, ScaleReading
from conveyor.station import StationContext

#: backend name → (module, class), imported on first use
SCALE_BACKENDS: dict[str, tuple[str, str]] = {
    "simulated": ("plc.config", "SimulatedScaleLink"),
    "modbus": ("plc.beltscale", "BeltScaleClient"),
    "direct": ("plc.scale", "DirectScale"),
}


class BeltScale(abc.ABC):
    """A belt-scale backend. Subclasses set ``backend``, ``fields`` and ``simulated`` and implement the rest."""

    backend: ClassVar[str] = ""
    #: the ``[scale]`` keys this backend adds (validated by :func:`scale_from_config`)
    fields: ClassVar[dict[str, Field]] = {}
    #: True when the backend feeds the line from the simulated unloader (the line may run on simulated time)
    simulated: ClassVar[bool] = False
    position_m: float = 0.0

    @classmethod
    @abc.abstractmethod
    def from_config(cls, cfg: Mapping[str, Any], context: StationContext, feed: FeedSource | None,
                    **options: Any) -> BeltScale:
        """A scale for validated keys ``cfg`` (no I/O). ``feed`` is the simulated unloader, for simulated backends;
        ``options`` are what some backends take besides (``robot``: the simulated PLC's hosted robot)."""

    @abc.abstractmethod
    def read(self, time_s: float) -> ScaleReading:
        """The reading at line time ``time_s``; a communication problem is ``ok=False``, never an exception."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections (idempotent)."""


class DirectScale(BeltScale):
    """The simulated unloader fed straight into the runtime: no integrator, no Modbus."""

    backend = "direct"
    fields: ClassVar[dict[str, Field]] = {}
    simulated = True

    def __init__(self, feed: FeedSource, position_m: float = 0.0) -> None:
        self.feed, self.position_m = feed, position_m

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], context: StationContext, feed: FeedSource | None,
                    **options: Any) -> DirectScale:
        if feed is None:
            raise ConfigError("scale.backend", "backend 'direct' needs the simulated unloader's feed")
        return cls(feed)

    def read(self, time_s: float) -> ScaleReading:
        return self.feed.read(time_s)

    def close(self) -> None:
        self.feed.close()


def scale_class(backend: str) -> type[BeltScale]:
    """The class registered as ``backend``; raises :class:`ConfigError` naming ``scale.backend``."""
    try:
        return import_backend(SCALE_BACKENDS, backend, "belt-scale", unknown_error=KeyError,
                              unavailable_error=ImportError)
    except KeyError:
        raise ConfigError("scale.backend", f"expected one of {sorted(SCALE_BACKENDS)}, got {backend!r}") from None
    except ImportError as exc:
        raise ConfigError("scale.backend", str(exc)) from exc


def scale_fields(backend: str) -> dict[str, Field]:
    """The ``[scale]`` keys ``backend`` adds."""
    return scale_class(backend).fields


def scale_from_config(section: Mapping[str, Any], context: StationContext, feed: FeedSource | None = None) -> BeltScale:
    """The belt scale of a ``[scale]`` table (its ``backend`` plus that backend's keys; no I/O).

    Raises :class:`ConfigError` naming the key (``scale.port``) for an unknown key or a bad value.
    """
    if not isinstance(section, Mapping):
        raise ConfigError("scale", f"expected a table, got {type(section).__name__}")
    cls = scale_class(section.get("backend", "simulated"))
    cfg = validate_section({k: v for k, v in section.items() if k != "backend"}, cls.fields, "scale")
    return cls.from_config(cfg, context, feed)
