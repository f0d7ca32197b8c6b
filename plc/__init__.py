"""plc: oreline's Modbus TCP side.

* :mod:`plc.registers` — the versioned register map (one table) and :mod:`plc.codes` its code enums;
* :class:`OrelineModbusServer` — serves :class:`LineSnapshot` and takes PLC commands (:class:`Command`);
* :class:`BeltScaleClient` — polls a BW500-like belt-scale integrator (a conveyor ``FeedSource``);
* :class:`SimulatedPlc` — simulated PLC + integrator (+ sampling robot block) for the demo and tests;
* :func:`scale_from_config`, :func:`server_from_config` — construction from the site TOML (:mod:`plc.config` declares the keys);
* :mod:`plc.docs` — generates docs/register-map.md and .csv; :mod:`plc.cli` — CLI entry points.

Submodules that need pymodbus are imported lazily, so ``import plc`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from plc.codes import (
    AlarmBit,
    CommandCode,
    CommandResult,
    DriveState,
    LineStatus,
    LotVerdict,
    SamplerState,
    SegmentClass,
)
from plc.errors import (
    BeltScaleError,
    CommandError,
    EncodingError,
    PlcError,
    RegisterMapError,
    ServerError,
    SnapshotError,
)
from plc.registers import MAP_VERSION, ORELINE_MAP
from plc.snapshot import LineSnapshot

_LAZY = {
    "OrelineModbusServer": ("plc.server", "OrelineModbusServer"),
    "Command": ("plc.server", "Command"),
    "LinkStatus": ("plc.server", "LinkStatus"),
    "BeltScaleClient": ("plc.beltscale", "BeltScaleClient"),
    "SimulatedPlc": ("plc.simulated", "SimulatedPlc"),
    "scale_from_config": ("plc.config", "scale_from_config"),
    "server_from_config": ("plc.config", "server_from_config"),
    "SimulatedScaleLink": ("plc.config", "SimulatedScaleLink"),
    "sampler_state_code": ("plc.robot_block", "sampler_state_code"),
}

__all__ = [
    "AlarmBit", "BeltScaleError", "CommandCode", "CommandError", "CommandResult", "DriveState", "EncodingError",
    "LineSnapshot", "LineStatus", "LotVerdict", "MAP_VERSION", "ORELINE_MAP", "PlcError", "RegisterMapError",
    "SamplerState", "SegmentClass", "ServerError", "SnapshotError", *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'plc' has no attribute {name!r}")
