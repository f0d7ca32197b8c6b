"""Reading a lab file as a lab or LIMS exports it: bounded size, sniffed encoding and separator, a preamble of
certificate metadata, bounded cells.

* size: a file over :data:`MAX_FILE_BYTES` is refused from its size alone (read in chunks; a pipe or a file
  that grows is cut off at the limit), so a 50 MB file costs neither time nor memory;
* encoding: a BOM (UTF-8, UTF-16 LE/BE) decides; else UTF-8 if it decodes; else UTF-16 by its NUL bytes; else the
  guess of charset-normalizer (GBK/GB18030 for Chinese LIMS, cp1252 for European spreadsheets). The guess is
  reported in :attr:`LabFile.encoding`;
* separator: comma, semicolon or tab, whichever splits the header into the most columns consistently;
* preamble: lines before the header row as ``key: value`` or ``key<sep>value`` (``Laboratory``, ``Report No.``,
  ``Date received``, ``Date analysed``) become :attr:`LabFile.metadata`;
* cells over :data:`MAX_CELL_CHARS` are refused with their line and column, never a csv traceback.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sampler.errors import LabResultError

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_CELL_CHARS = 4000
MAX_PREAMBLE_LINES = 40
_CHUNK = 1 << 16
#: Preamble keys → certificate field.
META_KEYS: dict[str, str] = {
    "laboratory": "lab_name", "lab": "lab_name", "lab_name": "lab_name", "testing_laboratory": "lab_name",
    "检测单位": "lab_name", "实验室": "lab_name",
    "report_no": "report_no", "report_number": "report_no", "certificate_no": "report_no", "report": "report_no",
    "certificate": "report_no", "报告编号": "report_no",
    "date_received": "received", "received": "received", "receipt_date": "received", "收样日期": "received",
    "date_analysed": "analysed", "date_analyzed": "analysed", "analysed": "analysed", "analyzed": "analysed",
    "date_of_analysis": "analysed", "检测日期": "analysed",
    "client": "client", "委托单位": "client",
}


@dataclass
class LabFile:
    """A lab file's text split into rows: where the header is, the metadata above it and how it was read."""

    path: Path
    sha256: str
    size_bytes: int
    encoding: str
    delimiter: str
    header_line: int
    header: list[str]
    rows: list[tuple[int, list[str]]]
    metadata: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: The first non-empty row, to name in an error when no header was found.
    first_row: list[str] = field(default_factory=list)

    def describe(self) -> str:
        sep = {",": "comma", ";": "semicolon", "\t": "tab"}.get(self.delimiter, repr(self.delimiter))
        return (f"{self.path.name}: {self.size_bytes:,} bytes, sha256 {self.sha256[:16]}…, read as {self.encoding}, "
                f"{sep}-separated, header on line {self.header_line}")


def read_bounded(path: Path, what: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes; LabResultError for a file over ``limit`` bytes (decided from its size, read no further)."""
    try:
        size = os.stat(path).st_size
        if size > limit:
            raise LabResultError(f"{what} {path}: {size:,} bytes, expected at most {limit:,} bytes (a lab file is "
                                 f"a few kB); nothing read")
        chunks, total = [], 0
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise LabResultError(f"{what} {path}: more than {limit:,} bytes; nothing imported")
                chunks.append(chunk)
    except OSError as exc:
        raise LabResultError(f"{what} {path}: cannot read: {exc}") from exc
    return b"".join(chunks)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a lab file's bytes. Raises LabResultError when no encoding fits."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc.replace("-sig", ""), errors="replace"), enc + (
                "" if enc == "utf-8-sig" else " (BOM)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    head = data[:4096]
    if head and head.count(0) > len(head) // 4:
        enc = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        return data.decode(enc, errors="replace"), enc + " (no BOM, from NUL bytes)"
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "shift_jis", "cp1252", "latin_1"]).best()
    if best is None:
        raise LabResultError("cannot tell the file's encoding: expected UTF-8, UTF-16, GBK or cp1252 text")
    enc = "gbk" if best.encoding in ("gb18030", "gb2312") else best.encoding
    try:
        return data.decode(enc), f"{enc} (guessed)"
    except UnicodeDecodeError:
        return str(best), f"{best.encoding} (guessed)"


def _delimiter(lines: list[str]) -> str:
    """The separator that gives the most fields with the same count on the first data-like lines."""
    best, score = ",", -1
    for d in (",", ";", "\t"):
        counts = []
        for ln in lines:
            if ln.strip():
                try:
                    counts.append(len(next(csv.reader([ln[:MAX_CELL_CHARS]], delimiter=d))))
                except csv.Error:
                    continue
        counts = [c for c in counts if c > 1]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        s = common * counts.count(common)
        if s > score:
            best, score = d, s
    return best


def _meta_key(text: str) -> str:
    k = re.sub(r"[\s.:#]+", "_", text.strip().lower()).strip("_")
    return META_KEYS.get(k, "")


def split_rows(path: Path, text: str, is_header: Callable[[list[str]], bool]) -> LabFile:
    """Rows of the decoded text; the header is the first row ``is_header`` accepts, lines above it preamble."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))  # cells are checked against MAX_CELL_CHARS
    lines = text.splitlines()
    delim = _delimiter(lines[:MAX_PREAMBLE_LINES + 20])
    meta: dict[str, str] = {}
    problems: list[str] = []
    header_line = 0
    header: list[str] = []
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows: list[tuple[int, list[str]]] = []
    line_no = 0
    first_row: list[str] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {reader.line_num}: cannot split into fields ({exc}); expected {delim!r}-separated "
                            f"text with balanced quotes")
            break
        line_no = reader.line_num
        for col, c in enumerate(cells, start=1):
            if len(c) > MAX_CELL_CHARS:
                problems.append(f"line {line_no}, column {col}: a cell of {len(c):,} characters; expected at most "
                                f"{MAX_CELL_CHARS:,}")
                cells[col - 1] = c[:40] + "…"
        if not header:
            if not first_row and any(c.strip() for c in cells):
                first_row = [c[:60] for c in cells[:12]]
            if is_header(cells):
                header_line, header = line_no, [c.strip() for c in cells]
            elif line_no > MAX_PREAMBLE_LINES:
                break
            else:
                _preamble(cells, meta)
            continue
        rows.append((line_no, cells))
    return LabFile(path, "", 0, "", delim, header_line, header, rows, meta, problems, first_row)


def _preamble(cells: list[str], meta: dict[str, str]) -> None:
    filled = [c.strip() for c in cells if c.strip()]
    if len(filled) == 1 and ":" in filled[0]:
        filled = [p.strip() for p in filled[0].split(":", 1)]
    elif len(filled) == 1 and "：" in filled[0]:
        filled = [p.strip() for p in filled[0].split("：", 1)]
    if len(filled) >= 2:
        key = _meta_key(filled[0].rstrip(":："))
        if key:
            meta[key] = filled[1]


def read_lab_file(path: str | Path, is_header: Callable[[list[str]], bool], what: str = "lab results file") -> LabFile:
    """Read, hash, decode and split a lab file. Raises LabResultError for a file too large or not text."""
    p = Path(path)
    data = read_bounded(p, what)
    try:
        text, enc = decode(data)
    except LabResultError as exc:
        raise LabResultError(f"{what} {p}: {exc}") from exc
    if "\x00" in text:
        raise LabResultError(f"{what} {p}: binary content (NUL bytes) after decoding as {enc}; expected CSV text")
    lab = split_rows(p, text, is_header)
    lab.sha256, lab.size_bytes, lab.encoding = hashlib.sha256(data).hexdigest(), len(data), enc
    return lab
