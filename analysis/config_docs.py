"""Generate docs/configuration.md from the field tables the code validates against.

Run ``python -m analysis.config_docs > docs/configuration.md``; a test fails when the
file and the code drift apart.
"""

from __future__ import annotations

from typing import Mapping

from conveyor.config import CORE_SECTIONS, EVENT_FIELDS, STATION_FIELDS, Field, describe_fields, scale_section
from plc import scale
from plc.config import SCALE_BACKENDS
from analysis.site_file import EXTRA_SECTIONS, STATION_SETTINGS


def _table(fields: Mapping[str, Field]) -> list[str]:
    out = ["| key | type | default | meaning |", "|---|---|---|---|"]
    out += [f"| `{key}` | {type_} | `{default}` | {doc} |" for key, type_, default, doc in describe_fields(fields)]
    return out + [""]


def render() -> str:
    out = [
        "# Site configuration reference",
        "",
        "Generated from the code by `python -m analysis.config_docs`; do not edit by hand.",
        "A site file is TOML. Unknown keys and sections are errors that name the key; the shipped default is",
        "printed by `oreline config default` and checked by `oreline config check FILE`.",
        "`unset`: optional, or derived from another setting (its meaning says which).",
        "",
    ]
    sections = dict(CORE_SECTIONS) | dict(EXTRA_SECTIONS)
    sections["scale"] = scale_section(tuple(scale.SCALE_BACKENDS))  # the backend names are the registry's
    sections["simulation.events[]"] = EVENT_FIELDS
    sections["stations.<name>"] = STATION_FIELDS
    for name, fields in sections.items():
        out += [f"## `[{name}]`", ""] + _table(fields)
    for backend, fields in SCALE_BACKENDS.items():
        out += [f"## `[scale]` with `backend = \"{backend}\"` (plc/config.py)", ""]
        out += _table(fields) if fields else ["No keys of its own: the unloader feeds the runtime in-process.", ""]
    for kind, settings in STATION_SETTINGS.items():
        out += [f"## `[stations.<name>]` with `kind = \"{kind}\"`", "", settings.doc, "",
                "Every backend:", ""] + _table(settings.fields)
        for backend, fields in settings.backends.items():
            out += [f"`backend = \"{backend}\"`" + (" (the default)" if backend == next(iter(settings.backends)) else "")
                    + (":" if fields else ": no keys of its own."), ""]
            if fields:
                out += _table(fields)
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
