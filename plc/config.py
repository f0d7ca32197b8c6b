"""The PLC side of the site configuration: the ``[plc]`` table and the belt scale's backends.

:data:`PLC_FIELDS` declares ``[plc]`` (oreline's Modbus server); :data:`SCALE_BACKENDS` the keys each
``[scale] backend`` adds to conveyor's own (``backend``, ``totaliser_modulus_t``, ``max_backstep_t``).
Both are rendered into docs/configuration.md. :func:`scale_from_config` builds the belt-scale feed;
every bad key or value raises :class:`conveyor.errors.ConfigError` naming it (``scale.port``).
"""

from __future__ import annotations

from typing import Any, Mapping

from conveyor.config import Field, validate_section
from conveyor.errors import ConfigError
from conveyor.feed import FeedSource, ScaleReading, SimulatedFeed
from conveyor.station import StationContext
from plc.beltscale import BeltScaleClient
from plc.bw500 import DRIVE_TABLE
from plc.server import OrelineModbusServer
from plc.simulated import SimulatedPlc
from plc.tcp import ServerOptions

#: ``[plc]``: oreline's register map served over Modbus TCP.
PLC_FIELDS: dict[str, Field] = {
    "enabled": Field(bool, True, doc="Serve oreline's register map over Modbus TCP."),
    "host": Field(str, "127.0.0.1", doc="Bind address of the Modbus server."),
    "port": Field(int, 5020, min=0, max=65535, doc="Port of the Modbus server (0: any free port)."),
    "device_id": Field(int, 1, min=0, max=255, doc="Modbus device (unit) id this server answers, 0..255."),
    "link_timeout_s": Field(float, 10.0, min=0.0, min_exclusive=True,
                            doc="No request from the PLC for this long raises the PLC-link alarm, s."),
    "watchdog_timeout_s": Field(float, 0.0, min=0.0,
                                doc="> 0: the PLC must change PLC_WATCHDOG this often or the link counts as down, s "
                                    "(0: off)."),
    "link_debounce_s": Field(float, 2.0, min=0.0, doc="A PLC-link state change counts once it has lasted this long, s."),
    "verdict_hold_s": Field(float, 10.0, min=0.0,
                            doc="`oreline run`/`demo`: after lot end, keep serving until the PLC acknowledges the "
                                "final verdict (VERDICT_ACK_SEQ), at most this long, s (only while a PLC is connected)."),
    "wait_for_start_lot": Field(bool, False, doc="Start each lot only when the PLC sends START_LOT."),
    "idle_timeout_s": Field(float, 300.0, min=0.0, doc="Close a Modbus connection silent for this long, s (0: never)."),
    "max_connections": Field(int, 64, min=1, max=10000, doc="Modbus connections beyond this are closed at once."),
    "allowed_clients": Field(list, [], check=lambda path, v: _ip_list(path, v),
                             doc="Client IP addresses allowed to connect (empty: any)."),
    "keepalive_s": Field(float, 30.0, min=0.0, doc="TCP keepalive idle time of Modbus connections, s (0: off)."),
}


def _ip_list(path: str, value: Any) -> list[str]:
    """``allowed_clients``: a list of IPv4/IPv6 address strings."""
    import ipaddress

    if not isinstance(value, list):
        raise ConfigError(path, f"expected a list of IP addresses, got {value!r}")
    for item in value:
        try:
            ipaddress.ip_address(item)
        except (TypeError, ValueError):
            raise ConfigError(path, f"expected IP addresses such as \"10.0.0.5\", got {item!r}") from None
    return list(value)


def _link_fields(simulated: bool) -> dict[str, Field]:
    """Keys of the belt-scale client, shared by the simulated and the real integrator."""
    return {
        "position_m": Field(float, 0.0, min=0.0, doc="Belt-scale position along the belt, m."),
        "device_id": Field(int, 1, min=1, max=247, doc="Modbus unit id of the integrator."),
        "word_order": Field(str, "msw_first", choices=("msw_first", "lsw_first"),
                            doc="32-bit word order; must match the integrator's R40,062."),
        "timeout_s": Field(float, 1.0, min=0.0, min_exclusive=True, doc="Per connect/request, s."),
        "drive_state_address": Field(int, DRIVE_TABLE["DRIVE_STATE"].address if simulated else None, min=0, max=65534,
                                     doc="0-based address of the PLC's drive-state word (unset: not read)."),
        "encoder_address": Field(int, DRIVE_TABLE["ENCODER_COUNT"].address if simulated else None, min=0, max=65534,
                                 doc="0-based address of a UINT32 encoder count (unset: not read)."),
        "backoff_initial_s": Field(float, 0.5, min=0.0, min_exclusive=True, doc="First reconnect delay, s."),
        "backoff_max_s": Field(float, 30.0, min=0.0, min_exclusive=True, doc="Reconnect delay cap, s."),
        "max_rate_t_h": Field(float, 20000.0, min=0.0, min_exclusive=True,
                              doc="Plausibility limit for rate and totaliser jumps, t/h."),
        "max_speed_m_s": Field(float, 10.0, min=0.0, min_exclusive=True, doc="Plausibility limit for speed, m/s."),
        "verify_device": Field(bool, True, doc="Check R40,064 = 2 and R40,062 on connect."),
    }


#: ``[scale] backend`` → the keys it adds. ``direct`` feeds the runtime in-process (no Modbus).
SCALE_BACKENDS: dict[str, dict[str, Field]] = {
    "simulated": {
        "host": Field(str, "127.0.0.1", choices=("127.0.0.1", "localhost", "::1"),
                      doc="The simulated integrator binds loopback only."),
        "port": Field(int, 0, min=0, max=65535, doc="Its port (0: any free port)."),
        **_link_fields(simulated=True),
        "rate_t_h": Field(float, 4000.0, min=0.0, min_exclusive=True,
                          doc="Mean feed rate when no feed is passed in (tools), t/h."),
        "lot_mass_t": Field(float, 1.0e6, min=0.0, min_exclusive=True, doc="Tonnes that feed delivers (tools), t."),
    },
    "modbus": {
        "host": Field(str, doc="Address of the real integrator."),
        "port": Field(int, 502, min=1, max=65535, doc="Its Modbus TCP port."),
        **_link_fields(simulated=False),
    },
    "direct": {},
}


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
    """The belt-scale :class:`~conveyor.feed.FeedSource` for a ``[scale]`` table (keys: :data:`SCALE_BACKENDS`).

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
    if not isinstance(section, Mapping):
        raise ConfigError(p, f"expected a table, got {type(section).__name__}")
    backend = section.get("backend", "simulated")
    if backend not in ("simulated", "modbus"):
        raise ConfigError(f"{p}.backend", f"expected one of ['simulated', 'modbus'], got {backend!r}")
    cfg = validate_section({k: v for k, v in section.items() if k != "backend"}, SCALE_BACKENDS[backend], p)
    simulated = backend == "simulated"
    host, port, device_id, word_order = cfg["host"], cfg["port"], cfg["device_id"], cfg["word_order"]
    timeout_s, position_m = cfg["timeout_s"], cfg["position_m"]
    options = {k: cfg[k] for k in ("drive_state_address", "encoder_address", "verify_device", "backoff_initial_s",
                                   "backoff_max_s", "max_rate_t_h", "max_speed_m_s")}
    if options["backoff_max_s"] < options["backoff_initial_s"]:
        raise ConfigError(f"{p}.backoff_max_s", f"expected >= backoff_initial_s ({options['backoff_initial_s']}), "
                                                f"got {options['backoff_max_s']}")
    if not simulated:
        client = BeltScaleClient(host, port, device_id, word_order, timeout_s, **options)
        client.position_m = position_m  # type: ignore[attr-defined]
        return client
    if feed is None:
        feed = SimulatedFeed(rate_t_h=cfg["rate_t_h"], speed_m_s=context.nominal_speed_m_s, lot_mass_t=cfg["lot_mass_t"],
                             seed=context.seed)
    plc = SimulatedPlc(feed, host, port, device_id, word_order=word_order, robot=robot).start()
    # The simulated integrator lives on the line clock, so the client's reconnect backoff must too:
    # on a wall-clock backoff a simulated line running faster than real time loses thousands of ticks.
    client = BeltScaleClient(host, plc.port or port, device_id, word_order, timeout_s,
                             monotonic=context.clock.now_s, **options)
    return SimulatedScaleLink(plc, client, position_m)


def server_from_config(section: Mapping[str, Any]) -> OrelineModbusServer | None:
    """The oreline Modbus server for a ``[plc]`` table (not started), or None when ``enabled = false``.

    Keys: :data:`PLC_FIELDS`. Raises :class:`ConfigError` naming ``plc.<key>`` for an unknown key or a bad value.
    """
    cfg = validate_section(section, PLC_FIELDS, "plc")
    if not cfg["enabled"]:
        return None
    return OrelineModbusServer(cfg["host"], cfg["port"], cfg["device_id"], link_timeout_s=cfg["link_timeout_s"],
                               watchdog_timeout_s=cfg["watchdog_timeout_s"] or None,
                               link_debounce_s=cfg["link_debounce_s"],
                               options=ServerOptions(cfg["idle_timeout_s"], cfg["max_connections"],
                                                     tuple(cfg["allowed_clients"]), cfg["keepalive_s"]))
