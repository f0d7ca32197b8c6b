"""Generate docs/configuration.md from the field tables the code validates against.

Run ``python -m analysis.config_docs > docs/configuration.md``; a test fails when the
file and the code drift apart.
"""

from __future__ import annotations

from conveyor.config import CORE_SECTIONS, EVENT_FIELDS, STATION_FIELDS, describe_fields
from analysis.site import EXTRA_SECTIONS, STATION_KINDS


def render() -> str:
    out = [
        "# Site configuration reference",
        "",
        "Generated from the code by `python -m analysis.config_docs`; do not edit by hand.",
        "A site file is TOML. Unknown keys and sections are errors that name the key; the shipped default is",
        "printed by `oreline config default` and checked by `oreline config check FILE`.",
        "",
    ]
    sections = dict(CORE_SECTIONS) | dict(EXTRA_SECTIONS)
    sections["simulation.events[]"] = EVENT_FIELDS
    sections["stations.<name>"] = STATION_FIELDS
    for name, fields in sections.items():
        out += [f"## `[{name}]`", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for key, type_, default, doc in describe_fields(fields):
            out.append(f"| `{key}` | {type_} | `{default}` | {doc} |")
        out.append("")
    out += [
        "Station kinds and the module whose `from_config` documents their own keys:",
        "",
        *[f"- `{kind}`: `{module}.{func}`" for kind, (module, func) in STATION_KINDS.items()],
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
