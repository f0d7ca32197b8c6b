"""docs/register-map.md and docs/register-map.csv, generated from the register tables (never edited by hand).

:func:`render_markdown` and :func:`render_csv` build the documents;
:func:`write_docs` writes them; :func:`check_docs` lists differences between the
files on disk and what the tables generate (the drift test uses it).
"""

from __future__ import annotations

import csv
import enum
import inspect
import io
import re
from pathlib import Path

from plc import codes
from plc.bw500 import BW500_TABLE, DRIVE_TABLE, UINT32_TOTAL_MODULUS_T
from plc.export import L5X_NAME, SCL_NAME, render_l5x, render_scl
from plc.registers import (
    COMMAND_BASE,
    MAP_MAGIC,
    MAP_VERSION,
    ORELINE_MAP,
    STATUS_END,
    RegisterTable,
)
from plc.robot_block import ROBOT_BASE, STATE_CODES, robot_register_table
from sampler.robot import RobotState

MD_NAME = "register-map.md"
CSV_NAME = "register-map.csv"
CSV_COLUMNS = ("block", "address", "reference", "name", "type", "registers", "units", "scaling", "access",
               "description")


def _md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table_md(table: RegisterTable, order_note: str = "") -> list[str]:
    lines = [
        "| Address | Ref. | Name | Type | Regs | Units | Scaling | Access | Description |",
        "|---:|---:|---|---|---:|---|---|---|---|",
    ]
    for e in table:
        lines.append(
            "| "
            + " | ".join(
                _md_cell(x)
                for x in (
                    e.address,
                    e.reference,
                    f"`{e.name}`",
                    e.type.label,
                    e.length,
                    e.units,
                    e.scaling,
                    e.access,
                    e.description,
                )
            )
            + " |"
        )
    if order_note:
        lines += ["", order_note]
    return lines


def _member_notes(enum_cls: type[enum.IntEnum]) -> dict[str, str]:
    """The ``#:`` comments after each member in the enum's source (its documentation)."""
    notes: dict[str, str] = {}
    try:
        source = inspect.getsource(enum_cls)
    except (OSError, TypeError):
        return notes
    for match in re.finditer(r"^\s+([A-Z_0-9]+)\s*=\s*[^#\n]+#:\s*(.+)$", source, re.MULTILINE):
        notes[match.group(1)] = match.group(2).strip()
    return notes


def _enum_md(enum_cls: type[enum.IntEnum], heading: str) -> list[str]:
    doc = (enum_cls.__doc__ or "").strip().splitlines()[0]
    notes = _member_notes(enum_cls)
    lines = [f"### {heading} — `{enum_cls.__name__}`", "", doc, "", "| Value | Name | Meaning |", "|---:|---|---|"]
    lines += [f"| {m.value} | `{m.name}` | {_md_cell(notes.get(m.name, ''))} |" for m in enum_cls]
    return lines + [""]


_LIFECYCLE_MD = [
    "## Lot lifecycle and the verdict handshake",
    "",
    "* A lot starts for the PLC at its first line tick: `LOT_NUMBER` takes the number given with START_LOT, else "
    "the previous number + 1; `LOT_VERDICT` goes back to PENDING. Until then the previous lot's registers stay.",
    "* At lot end oreline publishes the final verdict (`VERDICT_FINAL` = 1), increments `VERDICT_SEQ` and holds "
    "the verdict, the last segment block and the lot's counters until the next lot starts. `LINE_STATUS` is IDLE "
    "(FAULT if the line could not run the lot); `HEARTBEAT` keeps changing between lots.",
    "* The PLC acknowledges by writing `VERDICT_SEQ` into `VERDICT_ACK_SEQ`; `VERDICT_ACKED` then reads 1. "
    "`oreline run`/`demo` keep serving after lot end until the acknowledgement arrives, at most "
    "`[plc] verdict_hold_s` (10 s), when a PLC is connected.",
    "* With `[plc] wait_for_start_lot = true` a lot starts only after START_LOT (accepted only between lots).",
    "",
    "## Segment-event FIFO",
    "",
    "Every decided segment is also an event in a FIFO of 8 slots (`EVENT_HEAD`, `EVENT0_*` .. `EVENT7_*`): event "
    "*n* is in slot *n* % 8. Read `EVENT_HEAD` and the slots (registers 200..297, three reads of ≤ 125), take "
    "the events whose `SEQ` is above the last one you took, oldest first. Polling at least once per 8 segments "
    "(800 t at the default segment mass) loses none, across lot changes too (each event carries its lot number).",
    "",
    "## Interlocks",
    "",
    "`INTERLOCKS` bit 0 `INSPECTION_HEALTHY` is a **permissive**: 1 only while a lot is open and running, the "
    "belt scale answers, no station is faulted and the PLC link is up. Fail-safe rule: the PLC treats it as 0 "
    "— material on the belt is **uninspected** — whenever the bit is 0, a read fails, or `HEARTBEAT` has not "
    "changed for 3 s (oreline down). Uninspected material goes where the site's procedure sends unverified "
    "cargo (hold the stockpile gate / quarantine stockpile); oreline never reports such material clean.",
    "",
    "Bits 1 `STOP_BELT_REQUEST` (a contaminated segment: foreign object or contaminant spectra) and 2 "
    "`DIVERT_REQUEST` (a waste-suspect segment) are **latched requests**: they stay set, with the latest flagged "
    "segment's index, tonnage and belt window (`STOP_*`, `DIVERT_*`: lot tonnage at its start and end, as the "
    "belt scale totals the lot), across lot changes, until the PLC clears them with ACK_REQUEST (argument 1, 2 "
    "or 0xFFFFFFFF). The PLC acts on the window: the flagged material is on the belt between those lot "
    "tonnages.",
    "",
    "**On heartbeat loss** (no change for 3 s, or no answer) the PLC must: drop `INSPECTION_HEALTHY`, keep any "
    "request it had latched, treat material from the last good `LOT_TONNAGE_T` on as uninspected, raise its own "
    "alarm, and stop the belt if the site runs only with inspection. It must not clear requests it has not acted "
    "on. When oreline answers again, read `LOT_NUMBER`, the verdict block and the event FIFO before resuming.",
    "",
]


def _protocol_md() -> list[str]:
    """Command handshake, PLC data types, factory acceptance test, lot lifecycle, FIFO, interlocks, link."""
    return [
        "## Command handshake",
        "",
        "1. Write `CMD_CODE`, `CMD_ARG` (and `PLC_WATCHDOG` if you like), then a new non-zero `CMD_SEQ` — or "
        f"registers {COMMAND_BASE}..{ORELINE_MAP['CMD_SEQ'].address} in one write-multiple (FC 16). Use "
        "`CMD_ACK_SEQ + 1` (wrapping 65535 → 1).",
        "2. The write that changes `CMD_SEQ` submits the command. It is checked there and then: an unknown code, "
        "code 0, an alarm bit above 31 (other than 0xFFFFFFFF) or a lot number 0 for START_LOT is refused with "
        "exception 0x03 and nothing is queued; if commands are already queued up to the limit, 0x06. "
        "Rewriting the current `CMD_SEQ` value (e.g. cyclic block writes) submits nothing.",
        "3. Accepted: `CMD_RESULT` = 1 (PENDING) and `CMD_QUEUED` counts it.",
        "4. When oreline has carried it out, it writes `CMD_ACK_SEQ` = your sequence number and `CMD_RESULT` = "
        "2 DONE, 3 REJECTED (valid but not applicable now, e.g. START_LOT while a lot is open) or 4 FAILED.",
        "5. Wait (with your own timeout, e.g. 5 s) until `CMD_ACK_SEQ` = `CMD_SEQ`, then read `CMD_RESULT`.",
        "",
        "Arguments: ACK_ALARM — alarm bit 0..31, or 0xFFFFFFFF for all; REQUEST_SAMPLE — any PLC reference number "
        "(kept with the targeted increment); START_LOT — lot number ≥ 1, accepted only between lots (the next lot "
        "gets it as `LOT_NUMBER`); STOP_LOT — the open lot's `LOT_NUMBER`, or 0 for the open lot (another number is "
        "REJECTED); ACK_REQUEST — 1 (stop belt), 2 (divert) or 0xFFFFFFFF (both). A PLC may toggle `CMD_SEQ` "
        "between two values: each change submits a command, however fast.",
        "",
        "## PLC data types",
        "",
        f"`{SCL_NAME}` (TIA Portal SCL source: UDTs `oreline_Status`, `oreline_Command`, `oreline_Events`, for "
        f"standard block access; S7 byte order equals Modbus's, so MB_CLIENT reads straight into them) and "
        f"`{L5X_NAME}` (Studio 5000 v32+ import: the same UDTs; Logix is little-endian, so swap the two words of "
        "each 32-bit member after the Modbus read) are generated from the same table as this document. Each UDT "
        "covers one block (registers 0..99, 100..108, 200..297) with reserved members for gaps, so member *n* is at "
        "byte 2 × (register − block start); every 32-bit value is at an even register (4-byte aligned). The CSV "
        "lists every block (oreline, BW500, drive, robot) and every code table.",
        "",
        "## Factory acceptance test",
        "",
        "`oreline plc serve-sim --map` serves this map with a scripted lot (ore segments, one waste-suspect and one "
        "contaminated segment, a verdict, then the next lot) and carries out the PLC's commands, so a PLC program "
        "can be tested before oreline is on site, e.g. `mbpoll -m tcp -a 1 -0 -r 0 -c 100 -p 5020 127.0.0.1`.",
        "",
        *_LIFECYCLE_MD,
        "## Link supervision",
        "",
        "* oreline → PLC: `HEARTBEAT` changes at every publish (normally every line tick, ≤ 1 s). If it stops "
        "changing, oreline is down: treat every other register as stale.",
        "* PLC → oreline: oreline raises `PLC_LINK` (bit 1) once a client has connected and then none is connected "
        "or none has made a request for the configured link timeout (default 10 s), or — if a watchdog timeout is "
        "configured — when `PLC_WATCHDOG` stops changing. The watchdog is armed when the server starts (not at its "
        "first write), and only writes to `PLC_WATCHDOG` feed it: another client polling does not keep the link "
        "up. A link change counts once it has lasted `[plc] link_debounce_s` (2 s). The line keeps running; the "
        "loss is an alarm and clears `INSPECTION_HEALTHY`.",
        "",
    ]


def _conventions_md(major: int, minor: int) -> list[str]:
    """The title, the introduction and the conventions section."""
    return [
        f"# oreline Modbus register map — version {major}.{minor}",
        "",
        "<!-- Generated from plc/registers.py, plc/codes.py, plc/bw500.py and sampler/robot_registers.py by "
        "`oreline plc docs --out docs/`. Do not edit by hand: tests/plc/test_docs.py fails when this file drifts. -->",
        "",
        "oreline serves its line state to the PLC and the control system as a Modbus TCP server and takes a few "
        "commands back. The same table generates this document, the CSV for PLC tag databases "
        f"(`{CSV_NAME}`), the server's register image and the tests.",
        "",
        "## Conventions",
        "",
        "* **Transport**: Modbus TCP, server binds 127.0.0.1 by default (configure `[plc] host`/`port` to expose it); "
        "unit id (`device_id`) 0..255, 1 by default. Requests for another unit id get exception 0x0B. One server "
        "lives as long as the line process (`oreline run`, `demo`, `control-room`), across lots: a lot change "
        "never closes a connection.",
        "* **Function codes**: 3 (read holding registers), 4 (read input registers — a read-only mirror of the same "
        "addresses), 6, 16 (write), 22 (mask write), 23 (read/write). Coil and discrete-input functions (1, 2, 5, 15) "
        "get exception 0x01. Read device identification (43/14) answers vendor `oreline` and revision "
        f"`{major}.{minor}`.",
        "* **Addresses** are 0-based protocol (PDU) addresses. *Ref.* is the 1-based `4xxxxx` holding-register "
        "reference (address + 40001) that many PLC tools show. With `mbpoll`, `-0 -r <address>` uses the 0-based "
        "address; without `-0`, use address + 1.",
        f"* **Blocks**: registers 0..{ORELINE_MAP.end - 1} can be read in any span of up to 125 registers; gaps "
        "(reserved) read as 0. Reading past the last register gives exception 0x02.",
        "* **32-bit values** (UINT32, BITS32, FLOAT32) take two registers, **most significant word first** (at the "
        "lower address; \"ABCD\" / big-endian word order); bytes in a register are big-endian as Modbus defines. "
        "FLOAT32 is IEEE-754 single precision, unscaled, in the unit given. No value is a scaled 16-bit integer, "
        "so nothing can overflow: counters are UINT32, measurements FLOAT32.",
        "* **Text** (ASCII) is two characters per register, first character in the high byte, padded with NUL.",
        "* **Writes**: only the command area "
        f"({COMMAND_BASE}..{ORELINE_MAP['CMD_SEQ'].address}) and `VERDICT_ACK_SEQ` "
        f"({ORELINE_MAP['VERDICT_ACK_SEQ'].address}) are writable; any write touching another register is "
        "refused with exception 0x02 (illegal data address). Invalid command values are refused with 0x03 "
        "(illegal data value); a full command queue with 0x06 (device busy).",
        f"* **Freshness**: registers 0..{STATUS_END - 1} change together (atomically) whenever oreline publishes a "
        "snapshot; `HEARTBEAT` counts the publishes.",
        f"* **Identity**: `MAP_MAGIC` = 0x{MAP_MAGIC:04X} (\"OL\"); check `MAP_VERSION_MAJOR` = {major} before "
        "trusting the rest.",
    ]


def _codes_md() -> list[str]:
    """The code tables of the oreline registers."""
    return [
        "## Codes",
        "",
        *_enum_md(codes.LineStatus, "LINE_STATUS"),
        *_enum_md(codes.SegmentClass, "SEGMENT_CLASS"),
        *_enum_md(codes.LotVerdict, "LOT_VERDICT"),
        *_enum_md(codes.SamplerState, "SAMPLER_STATE"),
        *_enum_md(codes.AlarmBit, "ALARMS_ACTIVE / ALARMS_UNACKED bits"),
        "Bit *n* is `1 << n` of the 32-bit value (bits 0..15 are in the low word, i.e. the second register). "
        "Bits 16..31 are reserved (0).",
        "",
        *_enum_md(codes.InterlockBit, "INTERLOCKS bits"),
        *_enum_md(codes.CommandCode, "CMD_CODE"),
        *_enum_md(codes.CommandResult, "CMD_RESULT"),
        *_protocol_md(),
    ]


def _simulated_md() -> list[str]:
    """The simulated PLC and belt-scale section (BW500 and drive blocks)."""
    return [
        "## Simulated PLC and belt scale (demo and tests)",
        "",
        "`oreline demo` runs a simulated PLC on 127.0.0.1 that hosts a belt-scale integrator modelled on the "
        "Siemens Milltronics BW500, the PLC's belt-drive block, and the sampling robot's block. oreline's belt-scale "
        "client polls the integrator block; a real site points it at its own integrator (or the PLC's copy of it).",
        "",
        f"### {BW500_TABLE.title}",
        "",
        *_table_md(
            BW500_TABLE,
            "UINT32 values carry three implied decimals (raw 7345 = 7.345) and use the word order set by "
            "`FORMAT_WORD` (R40,062): 0 = most significant word first (default), 1 = least significant word first "
            f"(configure `[scale] word_order` to match). The totaliser wraps at {UINT32_TOTAL_MODULUS_T:,.3f} t.",
        ),
        "",
        "Sources: Siemens *Milltronics BW500 and BW500/L Operating Instructions* 12/2016 (A5E33482052-AD), "
        "§11.5 Modbus RTU/ASCII Protocol: Register Map (p. 135), Format R40,062 and Device Identifier R40,064 "
        "(p. 139), Process Values R41,010–R41,048 \"Rate, Load, Speed, and Total (R41,010 – R41,019)\" (p. 141), "
        "Device State 41,020 (p. 142), Parameter Values: UINT32 with a fixed decimal place of three, MSW first by "
        "default (p. 146); Milltronics *Accumass BW500* PL-565 (2001) pp. 125, 131.",
        "",
        "**Not confirmed** from the manual text available to us: the order of the five values inside "
        "R41,010–R41,019 (we use the order the text lists them, two registers each); the meaning of the Device "
        "State bits (shown raw, not decoded); that diagnostic code 0 in R41,200 means no fault; the engineering "
        "units (the integrator must be set to t/h, kg/m, m/s and t). The BW500 itself is Modbus RTU; over TCP we "
        "assume a gateway/SmartLinx module that passes the registers through. The speed is unsigned, so reversals "
        "come from the drive block below. Check the first readings against the integrator's display at "
        "commissioning.",
        "",
        f"### {DRIVE_TABLE.title}",
        "",
        *_table_md(DRIVE_TABLE),
        "",
        *_enum_md(codes.DriveState, "DRIVE_STATE"),
    ]


def _robot_md() -> list[str]:
    """The sampling robot's block, as the simulated PLC hosts it."""
    robot = robot_register_table(ROBOT_BASE)
    rmajor = robot.version[0] if robot.version else 0
    return [
        f"### {robot.title}, at base address {robot.start}",
        "",
        f"Block layout version {rmajor} (register `BLOCK_VERSION`), defined by `sampler/robot_registers.py`; "
        "the simulated PLC hosts it backed by sampler's simulated robot. Function codes 3 and 16; the client "
        f"(oreline's modbus robot backend) writes offsets {robot['CMD_CODE'].address - robot.start}.."
        f"{robot['CMD_SEQ'].address - robot.start} (`CMD_CODE` .. `CMD_SEQ`, `CMD_SEQ` last, one FC 16 write) "
        "and follows `ACK_SEQ`/`ACK_CODE` and `DONE_SEQ`/`RESULT_CODE`. 32-bit values most significant word "
        "first. Writes to the read-only part get exception 0x02. `STATE` codes are sampler's `RobotState` ("
        + ", ".join(f"{m.value} {m.name.lower()}" for m in RobotState) + "), not the `SAMPLER_STATE` codes above "
        "(the map translates them: " + ", ".join(f"{k.name} → {v.name}" for k, v in STATE_CODES.items()) + ").",
        "",
        *_table_md(robot),
        "",
    ]


def render_markdown() -> str:
    """The register-map document for PLC engineers (Markdown)."""
    major, minor = MAP_VERSION
    out = [
        *_conventions_md(major, minor),
        "",
        f"## oreline registers (version {major}.{minor})",
        "",
        *_table_md(ORELINE_MAP),
        "",
        *_codes_md(),
        *_simulated_md(),
        *_robot_md(),
    ]
    return "\n".join(out).rstrip() + "\n"


def render_csv() -> str:
    """Every register block (oreline, BW500, drive, robot) and every code table as CSV, for PLC tag databases.

    Register rows: ``block`` is the table's name. Code rows: ``block`` = ``code``, ``address`` = the value,
    ``name`` = ``Enum.MEMBER``, ``type`` = the register that carries it.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for table in (ORELINE_MAP, BW500_TABLE, DRIVE_TABLE, robot_register_table(ROBOT_BASE)):
        for e in table:
            writer.writerow((table.name, e.address, e.reference, e.name, e.type.label, e.length, e.units, e.scaling,
                             e.access, e.description))
    enum_classes: tuple[type[enum.IntEnum], ...] = (*codes.ALL_ENUMS, codes.DriveState)
    for enum_cls in enum_classes:
        carriers = ", ".join(e.name for e in ORELINE_MAP if e.enum is enum_cls) or "DRIVE_STATE"
        notes = _member_notes(enum_cls)
        for m in enum_cls:
            writer.writerow(("code", m.value, "", f"{enum_cls.__name__}.{m.name}", carriers, "", "", "", "",
                             notes.get(m.name, "")))
    return buf.getvalue()


def write_docs(out_dir: str | Path) -> list[Path]:
    """Write both documents into ``out_dir`` (created if needed); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in _documents():
        paths.append(out / name)
        paths[-1].write_text(text, encoding="utf-8")
    return paths


def _documents() -> list[tuple[str, str]]:
    return [(MD_NAME, render_markdown()), (CSV_NAME, render_csv()), (SCL_NAME, render_scl()), (L5X_NAME, render_l5x())]


def check_docs(out_dir: str | Path) -> list[str]:
    """Problems with the documents in ``out_dir``: missing, or differing from what the tables generate."""
    problems = []
    for name, text in _documents():
        path = Path(out_dir) / name
        if not path.is_file():
            problems.append(f"{path} is missing; run `oreline plc docs --out {out_dir}`")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path} differs from the register tables; run `oreline plc docs --out {out_dir}`")
    return problems
