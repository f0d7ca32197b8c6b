"""Building the belt-scale feed and the oreline Modbus server from the site configuration (TOML tables).

``[scale]`` (:func:`scale_from_config`)::

    backend = "modbus"          # "modbus": a real integrator; "simulated": SimulatedPlc on 127.0.0.1 + client
    host = "10.0.0.20"          # modbus only (required)
    port = 502                  # default 502 for modbus; simulated: 0 = any free port (default)
    device_id = 1               # Modbus unit id, 1..247 (default 1)
    word_order = "msw_first"    # "msw_first" | "lsw_first": must match the integrator's R40,062 (default msw_first)
    timeout_s = 1.0             # per connect/request, > 0 (default 1.0)
    position_m = 0.0            # belt-scale position along the belt, >= 0 m (default 0.0; kept as .position_m)
    drive_state_address = 1999  # 0-based address of the PLC's drive-state word, or omit (simulated: 1999)
    encoder_address = 2001      # 0-based address of a UINT32 encoder count, or omit (simulated: 2001)
    backoff_initial_s = 0.5     # first reconnect delay (default 0.5)
    backoff_max_s = 30.0        # reconnect delay cap (default 30)
    max_rate_t_h = 20000.0      # plausibility limit for rate and totaliser jumps (default 20000)
    max_speed_m_s = 10.0        # plausibility limit for speed (default 10)
    verify_device = true        # check R40,064 = 2 and R40,062 on connect (default true)
    # simulated only, used when no feed is passed in:
    rate_t_h = 4000.0           # mean feed rate (default 4000)
    lot_mass_t = 1.0e6          # tonnes the unloader feeds (default 1e6)

``[plc]`` (:func:`server_from_config`)::

    enabled = true              # default true; false: no server (returns None)
    host = "127.0.0.1"          # default 127.0.0.1 (loopback only)
    port = 5020                 # default 5020 (502 needs root); 0 = any free port
    device_id = 1               # default 1, 1..247
    link_timeout_s = 10.0       # no request this long = PLC link down (default 10)
    watchdog_timeout_s = 0      # > 0: PLC_WATCHDOG must change this often; 0 = off (default)

Every bad key or value raises :class:`conveyor.errors.ConfigError` naming it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from conveyor.errors import ConfigError
from conveyor.feed import FeedSource, ScaleReading, SimulatedFeed
from conveyor.station import StationContext
from plc.beltscale import BeltScaleClient
from plc.bw500 import DRIVE_TABLE
from plc.server import OrelineModbusServer
from plc.simulated import SimulatedPlc

_COMMON_SCALE = {
    "backend", "host", "port", "device_id", "word_order", "timeout_s", "position_m", "drive_state_address",
    "encoder_address",
    "backoff_initial_s", "backoff_max_s", "max_rate_t_h", "max_speed_m_s", "verify_device",
}
_SIM_SCALE = {"rate_t_h", "lot_mass_t"}
_PLC_KEYS = {"enabled", "host", "port", "device_id", "link_timeout_s", "watchdog_timeout_s"}


def _check_keys(prefix: str, section: Mapping[str, Any], allowed: set[str]) -> None:
    if not isinstance(section, Mapping):
        raise ConfigError(prefix, f"expected a table, got {type(section).__name__}")
    for key in section:
        if key not in allowed:
            raise ConfigError(f"{prefix}.{key}", f"unknown key; expected one of {sorted(allowed)}")


def _num(prefix: str, section: Mapping[str, Any], key: str, default: float, *, minimum: float = 0.0,
         strict: bool = True) -> float:
    value = section.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= minimum if strict else value < minimum):
        rel = ">" if strict else ">="
        raise ConfigError(f"{prefix}.{key}", f"expected a finite number {rel} {minimum:g}, got {value!r}")
    return float(value)


def _int(prefix: str, section: Mapping[str, Any], key: str, default: int | None, lo: int, hi: int) -> int | None:
    value = section.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{prefix}.{key}", f"expected an integer in {lo}..{hi}, got {value!r}")
    return value


def _str(prefix: str, section: Mapping[str, Any], key: str, default: str | None, choices: tuple[str, ...] = ()) -> str:
    value = section.get(key, default)
    if value is None:
        raise ConfigError(f"{prefix}.{key}", "missing required key")
    if not isinstance(value, str) or not value or (choices and value not in choices):
        expected = f"one of {list(choices)}" if choices else "a non-empty string"
        raise ConfigError(f"{prefix}.{key}", f"expected {expected}, got {value!r}")
    return value


def _bool(prefix: str, section: Mapping[str, Any], key: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{prefix}.{key}", f"expected true or false, got {value!r}")
    return value


class SimulatedScaleLink:
    """A :class:`SimulatedPlc` on 127.0.0.1 plus a :class:`BeltScaleClient` reading it over Modbus TCP.

    ``read(time_s)`` pushes the feed's reading for ``time_s`` into the simulated
    integrator, then reads it back through the client (so the demo exercises the
    real Modbus path on the simulated clock). ``close()`` stops both.
    """

    def __init__(self, plc: SimulatedPlc, client: BeltScaleClient, position_m: float = 0.0) -> None:
        self.plc = plc
        self.client = client
        self.position_m = position_m

    def read(self, time_s: float) -> ScaleReading:
        if self.plc.running:
            self.plc.update(time_s)
        return self.client.read(time_s)

    def close(self) -> None:
        self.client.close()
        self.plc.stop()


def scale_from_config(
    section: Mapping[str, Any], context: StationContext, feed: FeedSource | None = None, robot: Any = None
) -> FeedSource:
    """The belt-scale :class:`~conveyor.feed.FeedSource` for a ``[scale]`` table (keys in the module docstring).

    ``backend = "simulated"`` starts a :class:`SimulatedPlc` on 127.0.0.1 (fed by
    ``feed``, else by a :class:`SimulatedFeed` at ``context.nominal_speed_m_s``)
    and returns a :class:`SimulatedScaleLink`; ``robot`` (a ``sampler`` robot,
    normally ``SimulatedRobot``) is then hosted in the same simulated PLC at
    :data:`plc.robot_block.ROBOT_BASE` (point sampler's modbus backend at
    ``link.plc.port``). ``"modbus"`` returns a :class:`BeltScaleClient` (it
    connects on the first read). The result carries ``.position_m``. Raises
    :class:`ConfigError`.
    """
    p = "scale"
    backend = _str(p, section, "backend", "simulated", ("simulated", "modbus"))
    _check_keys(p, section, _COMMON_SCALE | (_SIM_SCALE if backend == "simulated" else set()))
    position_m = _num(p, section, "position_m", 0.0, strict=False)
    simulated = backend == "simulated"
    host = _str(p, section, "host", "127.0.0.1" if simulated else None)
    port = _int(p, section, "port", 0 if simulated else 502, 0 if simulated else 1, 65535)
    device_id = _int(p, section, "device_id", 1, 1, 247)
    word_order = _str(p, section, "word_order", "msw_first", ("msw_first", "lsw_first"))
    default_drive = DRIVE_TABLE["DRIVE_STATE"].address if simulated else None
    default_encoder = DRIVE_TABLE["ENCODER_COUNT"].address if simulated else None
    options = dict(
        drive_state_address=_int(p, section, "drive_state_address", default_drive, 0, 65534),
        encoder_address=_int(p, section, "encoder_address", default_encoder, 0, 65534),
        verify_device=_bool(p, section, "verify_device", True),
        backoff_initial_s=_num(p, section, "backoff_initial_s", 0.5),
        backoff_max_s=_num(p, section, "backoff_max_s", 30.0),
        max_rate_t_h=_num(p, section, "max_rate_t_h", 20000.0),
        max_speed_m_s=_num(p, section, "max_speed_m_s", 10.0),
    )
    if options["backoff_max_s"] < options["backoff_initial_s"]:
        raise ConfigError(f"{p}.backoff_max_s", f"expected >= backoff_initial_s ({options['backoff_initial_s']}), "
                                                f"got {options['backoff_max_s']}")
    timeout_s = _num(p, section, "timeout_s", 1.0)
    assert port is not None and device_id is not None
    if not simulated:
        client = BeltScaleClient(host, port, device_id, word_order, timeout_s, **options)
        client.position_m = position_m  # type: ignore[attr-defined]
        return client
    if feed is None:
        feed = SimulatedFeed(
            rate_t_h=_num(p, section, "rate_t_h", 4000.0),
            speed_m_s=context.nominal_speed_m_s,
            lot_mass_t=_num(p, section, "lot_mass_t", 1.0e6),
            seed=context.seed,
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"{p}.host", f"the simulated PLC binds loopback only; expected 127.0.0.1, got {host!r}")
    plc = SimulatedPlc(feed, host, port, device_id, word_order=word_order, robot=robot).start()
    # The simulated integrator lives on the line clock, so the client's reconnect backoff must too:
    # on a wall-clock backoff a simulated line running faster than real time loses thousands of ticks.
    client = BeltScaleClient(host, plc.port or port, device_id, word_order, timeout_s,
                             monotonic=context.clock.now_s, **options)
    return SimulatedScaleLink(plc, client, position_m)


def server_from_config(section: Mapping[str, Any]) -> OrelineModbusServer | None:
    """The oreline Modbus server for a ``[plc]`` table (not started), or None when ``enabled = false``.

    Raises :class:`ConfigError` for an unknown key or a bad value.
    """
    p = "plc"
    _check_keys(p, section, _PLC_KEYS)
    if not _bool(p, section, "enabled", True):
        return None
    host = _str(p, section, "host", "127.0.0.1")
    port = _int(p, section, "port", 5020, 0, 65535)
    device_id = _int(p, section, "device_id", 1, 1, 247)
    link_timeout_s = _num(p, section, "link_timeout_s", 10.0)
    watchdog = _num(p, section, "watchdog_timeout_s", 0.0, strict=False)
    assert port is not None and device_id is not None
    return OrelineModbusServer(
        host, port, device_id, link_timeout_s=link_timeout_s, watchdog_timeout_s=watchdog or None
    )
