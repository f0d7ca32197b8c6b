"""Site configuration: a TOML file validated against declared fields, with errors naming key and value.

Each section is described by a mapping of key → :class:`Field`. :func:`validate_section`
returns a plain dict with defaults filled in, or raises :class:`ConfigError` naming
the dotted path of the bad key. The conveyor owns the ``line``, ``lot``,
``simulation`` sections and the generic keys of ``stations.*``; the packages that
own other sections (``plc``, ``control_room``, ``verdict``...) pass their own field
tables to :func:`load_site_config`. Each station kind declares its keys once, as a
:class:`StationSettings` (keys of every backend, then one table per backend); the
same table validates the site file, fills the defaults the factory uses and is
rendered into docs/configuration.md.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from conveyor.errors import ConfigError

_REQUIRED = object()


@dataclass(frozen=True)
class Field:
    """One configuration key: its type, default (required when omitted), bounds and choices."""

    type: type | tuple[type, ...]
    default: Any = _REQUIRED
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    choices: tuple[Any, ...] | None = None
    doc: str = ""
    #: for a value no bound describes (a list of intervals): ``check(path, value)`` returns it or raises ConfigError
    check: Callable[[str, Any], Any] | None = None
    #: for a sub-table: its own fields (errors name ``path.key.subkey``)
    table: Mapping[str, "Field"] | None = None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


def check_value(path: str, value: Any, spec: Field) -> Any:
    """Check one value against its field; return it (ints widened to float where float is wanted)."""
    want = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    if float in want and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in want:
        raise ConfigError(path, f"expected {_type_name(spec.type)}, got boolean {value!r}")
    if not isinstance(value, want):
        raise ConfigError(path, f"expected {_type_name(spec.type)}, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(path, f"expected a finite number, got {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise ConfigError(path, f"expected one of {list(spec.choices)}, got {value!r}")
    if spec.min is not None and isinstance(value, (int, float)):
        if value < spec.min or (spec.min_exclusive and value == spec.min):
            op = ">" if spec.min_exclusive else ">="
            raise ConfigError(path, f"expected a value {op} {spec.min}, got {value!r}")
    if spec.max is not None and isinstance(value, (int, float)) and value > spec.max:
        raise ConfigError(path, f"expected a value <= {spec.max}, got {value!r}")
    if spec.table is not None:
        value = validate_section(value, spec.table, path)
    if spec.check is not None:
        value = spec.check(path, value)
    return value


def validate_section(section: Any, fields: Mapping[str, Field], path: str, *, allow_extra: bool = False) -> dict:
    """Validate a TOML table: unknown keys, missing required keys and bad values raise ConfigError."""
    if not isinstance(section, Mapping):
        raise ConfigError(path, f"expected a table, got {type(section).__name__} {section!r}")
    out: dict[str, Any] = {}
    if not allow_extra:
        unknown = sorted(set(section) - set(fields))
        if unknown:
            raise ConfigError(f"{path}.{unknown[0]}", f"unknown key; expected one of {sorted(fields)}")
    for key, spec in fields.items():
        key_path = f"{path}.{key}"
        if key not in section or (section[key] is None and spec.default is None):  # None: a derived default
            if spec.required:
                raise ConfigError(key_path, "missing required key")
            out[key] = validate_section({}, spec.table, key_path) if spec.table is not None else spec.default
            continue
        out[key] = check_value(key_path, section[key], spec)
    if allow_extra:
        out.update({k: v for k, v in section.items() if k not in fields})
    return out


LINE_FIELDS: dict[str, Field] = {
    "name": Field(str, "oreline", doc="Line name shown in the control room and reports."),
    "belt_length_m": Field(float, min=1.0, doc="Belt length from the belt scale to the head pulley, m."),
    "belt_width_m": Field(float, 1.8, min=0.3, max=4.0, doc="Belt width, m."),
    "nominal_speed_m_s": Field(float, min=0.0, min_exclusive=True, max=12.0, doc="Nominal belt speed, m/s."),
    "tick_s": Field(float, 1.0, min=0.01, max=10.0, doc="Line runtime tick, s."),
    "allow_reverse": Field(bool, True, doc="Accept short belt reversals (negative speed)."),
    "drain_timeout_s": Field(float, 3600.0, min=0.0, doc="Longest wait for the last material to pass every station."),
}

LOT_FIELDS: dict[str, Field] = {
    "segment_mass_t": Field(float, 100.0, min=0.0, min_exclusive=True, doc="Segment size, t."),
    "vessel": Field(str, "MV SIMULATED ORE", doc="Vessel name for the demo lot."),
    "hold": Field(str, "H1", doc="Hold or parcel."),
    "declared_product": Field(str, "iron ore fines", doc="Declared product."),
    "supplier": Field(str, "", doc="Supplier (for fleet summaries)."),
}

SCALE_FIELDS: dict[str, Field] = {
    # the names are the belt-scale registry's (plc/scale.py): validate_site(scale_backends=...) restricts them
    "backend": Field(str, "simulated",
                     doc="Belt-scale backend, a name in the belt-scale registry (the `[scale]` tables per backend "
                         "below); the default serves the simulated unloader from a simulated integrator over Modbus."),
    "totaliser_modulus_t": Field(float, 0.0, min=0.0, doc="Totaliser wrap value, t (0: never wraps)."),
    "max_backstep_t": Field(float, 1.0, min=0.0, doc="Largest backwards step held as noise, t."),
}

EVENT_FIELDS: dict[str, Field] = {
    "start_s": Field(float, min=0.0, doc="Event start, s after lot start."),
    "duration_s": Field(float, min=0.0, min_exclusive=True, doc="Event duration, s."),
    "kind": Field(str, "stop", choices=("stop", "reverse"), doc="stop or reverse."),
    "reverse_speed_m_s": Field(float, 0.3, min=0.0, doc="Reverse speed magnitude, m/s."),
}

SIMULATION_FIELDS: dict[str, Field] = {
    "lot_mass_t": Field(float, 2000.0, min=0.0, min_exclusive=True, doc="Simulated lot mass, t."),
    "rate_t_h": Field(float, 6000.0, min=0.0, min_exclusive=True, doc="Unloading rate, t/h."),
    "speedup": Field(float, 0.0, min=0.0, doc="Simulated clock speed-up (0: as fast as possible)."),
    "seed": Field(int, 7, doc="Random seed of every simulated device."),
    "waste_fraction": Field(float, 0.0, min=0.0, max=1.0, doc="Mass fraction of waste admixture."),
    "waste_material": Field(str, "slag", doc="Waste material key: slag, steel_slag, bf_slag, mill_scale, pyrite_cinder, eaf_dust (SYNTHETIC phase-based end-members), sludge, pyrite, scrap."),
    "waste_start_t": Field(float, 0.0, min=0.0, doc="Lot-relative mark where the admixture starts, t."),
    "waste_extent_t": Field(float, 0.0, min=0.0, doc="Tonnes of admixed material (0: to lot end)."),
    "objects_per_1000_t": Field(float, 0.0, min=0.0, doc="Foreign objects per 1000 t (Poisson)."),
    "events": Field(list, [], doc="Belt stops and reversals: list of tables (start_s, duration_s, kind)."),
}

STATION_FIELDS: dict[str, Field] = {
    "kind": Field(str, doc="Station kind (spectrometer, camera, sampler)."),
    "position_m": Field(float, min=0.0, min_exclusive=True, doc="Distance downstream of the belt scale, m."),
    "backend": Field(str, "simulated", doc="Device backend."),
    "enabled": Field(bool, True, doc="Set false to leave the station off the line."),
}

CORE_SECTIONS: dict[str, Mapping[str, Field]] = {
    "line": LINE_FIELDS,
    "lot": LOT_FIELDS,
    "scale": SCALE_FIELDS,
    "simulation": SIMULATION_FIELDS,
}


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes a ConfigError naming file and line."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(p), "configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(p), f"not valid TOML: {exc}") from None


def scale_section(backends: Sequence[str]) -> dict[str, Field]:
    """The ``[scale]`` keys, with ``backend`` one of ``backends`` (the belt-scale registry's names)."""
    return {**SCALE_FIELDS, "backend": replace(SCALE_FIELDS["backend"], choices=tuple(backends))}


def validate_site(
    raw: Mapping[str, Any],
    extra_sections: Mapping[str, Mapping[str, Field]] | None = None,
    station_kinds: Mapping[str, StationSettings | None] | None = None,
    scale_backends: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Validate a whole site configuration.

    ``extra_sections`` adds sections owned by other packages. ``station_kinds``
    maps each allowed station kind to its :class:`StationSettings` (an enabled
    station's table is validated against it and returned with defaults filled), or
    to None to accept its kind-specific keys unchecked. ``scale_backends`` names the
    belt-scale backends (the registry's; None: any name, left to the backend's owner).
    Station generic keys and positions are checked here: positions must lie on the belt and be unique.
    """
    sections: dict[str, Mapping[str, Field]] = dict(CORE_SECTIONS)
    if scale_backends is not None:
        sections["scale"] = scale_section(scale_backends)
    sections.update(extra_sections or {})
    if not isinstance(raw, Mapping):
        raise ConfigError("", f"expected a table at top level, got {type(raw).__name__}")
    allowed = set(sections) | {"stations"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(unknown[0], f"unknown section; expected one of {sorted(allowed)}")
    if "line" not in raw:
        raise ConfigError("line", "missing required section")
    out: dict[str, Any] = {}
    scale_extra = True  # backend-specific scale keys are checked by the backend's owner
    for name, fields in sections.items():
        out[name] = validate_section(raw.get(name, {}), fields, name, allow_extra=(name == "scale" and scale_extra))
    out["simulation"]["events"] = [
        validate_section(ev, EVENT_FIELDS, f"simulation.events[{i}]") for i, ev in enumerate(out["simulation"]["events"])
    ]
    out["stations"] = _validate_stations(raw.get("stations", {}), out["line"]["belt_length_m"], station_kinds)
    return out


def _validate_stations(
    raw: Any, belt_length_m: float, kinds: Mapping[str, StationSettings | None] | None
) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, Mapping):
        raise ConfigError("stations", f"expected a table of stations, got {type(raw).__name__}")
    stations: dict[str, dict[str, Any]] = {}
    positions: dict[float, str] = {}
    for name, section in raw.items():
        path = f"stations.{name}"
        generic = validate_section(section, STATION_FIELDS, path, allow_extra=True)
        if kinds is not None and generic["kind"] not in kinds:
            raise ConfigError(f"{path}.kind", f"expected one of {sorted(kinds)}, got {generic['kind']!r}")
        pos = generic["position_m"]
        if pos > belt_length_m:
            raise ConfigError(f"{path}.position_m", f"expected a position on the belt (<= {belt_length_m} m), got {pos}")
        if pos in positions:
            raise ConfigError(f"{path}.position_m", f"same position {pos} m as station {positions[pos]!r}")
        positions[pos] = name
        settings = kinds.get(generic["kind"]) if kinds is not None else None
        if settings is not None and generic["enabled"]:
            stations[name] = settings.validate(name, section)
        else:
            stations[name] = dict(section) | {k: generic[k] for k in STATION_FIELDS}
    return stations


def load_site_config(
    path: str | Path,
    extra_sections: Mapping[str, Mapping[str, Field]] | None = None,
    station_kinds: Mapping[str, StationSettings | None] | None = None,
    scale_backends: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Read and validate a site configuration file (see :func:`validate_site`)."""
    return validate_site(read_toml(path), extra_sections, station_kinds, scale_backends)


def describe_fields(fields: Mapping[str, Field], prefix: str = "") -> list[tuple[str, str, str, str]]:
    """Rows (key, type, default, doc) for documentation; sub-tables as ``key.subkey`` rows."""
    rows = []
    for key, spec in fields.items():
        if spec.table is not None:
            rows += describe_fields(spec.table, f"{prefix}{key}.")
            continue
        default = "required" if spec.required else ("unset" if spec.default is None else repr(spec.default))
        bounds = []
        if spec.min is not None:
            bounds.append(f"{'>' if spec.min_exclusive else '>='} {spec.min:g}")
        if spec.max is not None:
            bounds.append(f"<= {spec.max:g}")
        if spec.choices is not None:
            bounds.append("one of " + ", ".join(repr(c) for c in spec.choices))
        type_ = _type_name(spec.type) + (f" ({'; '.join(bounds)})" if bounds else "")
        rows.append((f"{prefix}{key}", type_, default, spec.doc))
    return rows


def intervals_t(path: str, value: Any) -> list[tuple[float, float]]:
    """A list of ``[start_t, end_t]`` pairs with end > start (a :attr:`Field.check`)."""
    out = []
    for item in value:
        if (not isinstance(item, (list, tuple)) or len(item) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in item)
                or not item[1] > item[0]):
            raise ConfigError(path, f"expected [start_t, end_t] pairs with end > start, got {item!r}")
        out.append((float(item[0]), float(item[1])))
    return out


def positive_ints(path: str, value: Any) -> list[int]:
    """A list of integers >= 1 (cut ordinals; a :attr:`Field.check`), sorted and without repeats.

    Like every check it returns a value its own field accepts again: a site validated twice (the loader,
    then the station factory) gives the same settings."""
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
        raise ConfigError(path, f"expected a list of integers >= 1, got {value!r}")
    return sorted(set(value))


@dataclass(frozen=True)
class StationSettings:
    """Every key of one station kind, declared once: keys of every backend, then one table per backend.

    :meth:`validate` checks a ``[stations.<name>]`` table against it (the generic station keys
    included), fills the defaults and returns a plain dict; the site loader and the kind's
    ``from_config`` both call it, and docs/configuration.md is rendered from it.
    """

    kind: str
    fields: Mapping[str, Field]
    #: backend name → its own keys; the first backend is the default
    backends: Mapping[str, Mapping[str, Field]]
    doc: str = ""

    def fields_for(self, backend: str) -> dict[str, Field]:
        """The generic, kind and backend fields of a station on ``backend``."""
        generic = dict(STATION_FIELDS)
        generic["kind"] = Field(str, choices=(self.kind,), doc=STATION_FIELDS["kind"].doc)
        generic["backend"] = Field(str, next(iter(self.backends)), choices=tuple(self.backends),
                                   doc=STATION_FIELDS["backend"].doc)
        return generic | dict(self.fields) | dict(self.backends[backend])

    def validate(self, name: str, section: Any) -> dict[str, Any]:
        """The station's settings with defaults filled; ConfigError naming ``stations.<name>.<key>``."""
        path = f"stations.{name}"
        if not isinstance(section, Mapping):
            raise ConfigError(path, f"expected a table, got {type(section).__name__} {section!r}")
        if section.get("kind") != self.kind:
            raise ConfigError(f"{path}.kind", f"expected {self.kind!r}, got {section.get('kind')!r}")
        backend = section.get("backend", next(iter(self.backends)))
        if backend not in self.backends:
            raise ConfigError(f"{path}.backend", f"expected one of {list(self.backends)}, got {backend!r}")
        fields = self.fields_for(backend)
        for key in sorted(set(section) - set(fields)):
            owners = [b for b, table in self.backends.items() if key in table]
            if owners:
                raise ConfigError(f"{path}.{key}", f"only valid with backend {' or '.join(map(repr, owners))}, "
                                                   f"this station's backend is {backend!r}")
            raise ConfigError(f"{path}.{key}", f"unknown key; expected some of {sorted(fields)}")
        return validate_section(section, fields, path)
