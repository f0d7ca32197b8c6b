"""Every ``oreline`` command and verb, run through the INSTALLED console script as a user types it.

One table row per invocation. Each command/verb that takes valued options has, across its rows, at least one
option written ``--option value`` and one written ``--option=value``; every command/verb also gets a ``--help``
check that its usage line names ``oreline GROUP VERB``. Adding a command to the CLI without a row fails
:func:`test_every_command_has_rows`. Long runs are replaced by bad-input rows that must fail at once (exit 2);
the cheap commands run for real.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from analysis.cli import DELEGATED, build_parser
from tests.lines import archived_lot
from tests.sitefiles import light_site_file

ORELINE_SCRIPT = Path(sys.executable).parent / "oreline"
LAB_HEADER = "sample_id,Fe,SiO2,Al2O3,P,S,LOI,moisture,findings\n"


@dataclass(frozen=True)
class Row:
    command: tuple[str, ...]  # ("sampler", "plan"), ("report",), ("archive", "info")
    args: tuple[str, ...]  # after the command; {name} is replaced by a prepared path
    returncode: int
    expect: str  # must appear in stdout + stderr
    slow: bool = False


ROWS: list[Row] = [
    Row(("demo",), ("--lot-mass-t", "-5", "--speedup=0", "--no-serve", "--run-dir", "{tmp}/run"), 2,
        "lot_mass_t"),
    # the two line rows run a 10 t lot (one short segment): what a row checks (the options reach the command, it ends
    # with a verdict, no traceback) does not depend on the lot's length
    Row(("demo",), ("--config", "{site}", "--lot-mass-t", "10", "--speedup=0", "--no-serve", "--run-dir={tmp}/run"),
        0, "verdict", slow=True),
    Row(("run",), ("{site}", "--lot-mass-t=-1", "--seed", "3"), 2, "lot_mass_t"),
    Row(("config", "check"), ("{site}",), 0, "valid"),
    Row(("config", "default"), (), 0, "[line]"),
    Row(("spectra", "train"), ("--test-fraction", "1.5", "--seed=1"), 2, "--test-fraction"),
    Row(("spectra", "evaluate"), ("--test-library", "{empty}", "--labels={tmp}/missing.csv"), 2, "no such file"),
    Row(("spectra", "evaluate"), ("--test-library={junk}", "--labels", "{junk_labels}", "--out", "{tmp}/ev"), 2,
        "readable spectrum"),
    Row(("spectra", "fit-novelty"), ("--site-spectra", "{empty}", "--labels={tmp}/missing.csv", "--out", "{tmp}/n.npz"),
        2, "no such file"),
    Row(("vision", "evaluate"), ("--out", "{tmp}/v", "--backgrounds={empty}"), 2, "found none"),
    Row(("vision", "evaluate"), ("--out={tmp}/v", "--backgrounds", "{junk}"), 2, "found none"),
    Row(("vision", "fit"), ("--out", "{tmp}/m.npz", "--mm-per-px=0"), 2, "--mm-per-px must be > 0"),
    Row(("sampler", "plan"), ("--quality-variation", "small", "20000", "--basis=mass"), 0, "lot 20,000 t"),
    Row(("sampler", "lab-import"), ("{lab}", "--sample-ids", "L1-G1", "L1-G2"), 0, "imported 1 lab results"),
    Row(("sampler", "lab-import"), ("{lab}", "--samples-csv={samples}", "--json"), 0, '"sample_id": "L1-G1"'),
    Row(("sampler", "lab-rules"), ("--table", "{compositions}", "--sources"), 0, "Published compositions"),
    Row(("sampler", "lab-rules"), ("--table={compositions}",), 0, "Published compositions"),
    Row(("sampler", "custody"), ("{custody}", "--output", "{tmp}/custody.csv"), 0, "wrote 1 custody rows"),
    Row(("sampler", "custody"), ("{custody}", "--output={tmp}/custody.csv"), 0, "wrote 1 custody rows"),
    Row(("sampler", "custody"), ("{tmp}/missing.json", "-o", "{tmp}/custody.csv"), 1, "cannot read custody rows"),
    Row(("plc", "docs"), ("--out={tmp}/docs",), 0, "register-map.md"),
    Row(("plc", "docs"), ("--out", "{empty}", "--check"), 1, "register-map.md is missing"),
    Row(("plc", "serve-sim"), ("--port", "0", "--duration-s=1", "--speedup", "20", "--no-robot"), 0,
        "simulated PLC on 127.0.0.1"),
    Row(("archive", "info"), ("{archive}", "--verify"), 0, "verified"),
    Row(("archive", "close"), ("{archive}", "--reason", "operator test"), 0, "complete"),
    Row(("archive", "close"), ("{tmp}/missing.h5", "--reason=operator test"), 2, "error:"),
    Row(("archive", "resume"), ("{archive}",), 2, "nothing to resume"),
    Row(("archive", "import-lab"), ("{archive}", "{lab}"), 2, "nothing imported"),
    Row(("archive", "import-lab"), ("{archive}", "{lab}", "--supersede"), 2, "--supersede needs a reason"),
    Row(("archive", "import-lab"), ("{tmp}/missing.h5", "{lab}", "--supersede", "--reason", "lab re-assay"), 2,
        "no such archive file"),
    Row(("archive", "import-lab"), ("{tmp}/missing.h5", "{lab}", "--reason=lab re-assay", "--supersede"), 2,
        "no such archive file"),
    Row(("archive", "review"), ("{archive}", "--name", "A. Analyst", "--decision=ore", "--comment", "table row"), 0,
        "review by A. Analyst: ore"),
    Row(("archive", "lab-status"), ("{archive}",), 0, "lot LOT-A"),
    Row(("archive", "export-field-spectra"), ("{archive}", "--out", "{tmp}/field", "--group-by=sample"), 0,
        "train: none"),  # no lab-confirmed segments in the test lot: empty label files, said so
    Row(("report",), ("{archive}", "--out", "{tmp}/rep", "--no-pdf"), 0, "LOT-A-report.html"),
    Row(("report",), ("{tmp}/missing.h5", "--out={tmp}/rep2"), 2, "error:"),
    Row(("fleet", "summary"), ("{archive}", "--out", "{tmp}/fleet", "--workers=1"), 0, "1 archive(s)", slow=True),
    Row(("fleet", "rescore"), ("--model", "{tmp}/missing.npz", "{archive}", "--out={tmp}/fleet"), 2, "no such file"),
    Row(("fleet", "fingerprint"), ("--model={tmp}/missing.npz", "{archive}", "--out", "{tmp}/fleet"), 2,
        "no such file"),
    Row(("lots",), ("--catalogue", "sqlite:///{tmp}/lots.db", "list", "--json"), 0, "[]"),
    Row(("lots",), ("--catalogue=bogus://x", "list", "--vessel", "MV X"), 2, "expected a sqlite or postgresql URL"),
    Row(("accounts", "add"), ("anna", "--role", "operator", "--file", "{tmp}/acc.txt"), 2, "12..128 characters"),
    Row(("accounts", "add"), ("anna", "--role=admin", "--file={tmp}/acc.txt"), 2, "invalid choice: 'admin'"),
    Row(("accounts", "hash"), (), 2, "12..128 characters"),  # empty standard input: no password
    Row(("accounts", "list"), ("--file", "{tmp}/missing.txt"), 2, "cannot read the accounts file"),
    Row(("accounts", "list"), ("--file={tmp}/missing.txt",), 2, "cannot read the accounts file"),
    Row(("control-room",), ("--port", "70000", "--speedup=10"), 2, "--port"),
    Row(("control-room",), ("--config", "{site}", "--port", "0", "--lots=1", "--lot-mass-t", "10", "--speedup", "0",
                            "--run-dir", "{tmp}/cr", "--no-report", "--exit-after-lots", "--no-catalogue"), 0, "lot 1: ",
        slow=True),
]


def command_table() -> list[tuple[str, ...]]:
    """Every command/verb the CLI offers: from its parser, and for a one-function group (``oreline archive``)
    the verbs its own ``--help`` lists."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out: list[tuple[str, ...]] = []
    for name, p in sub.choices.items():
        if name in DELEGATED and "_" in DELEGATED[name]:
            out += [(name, v) for v in _own_verbs(name)] or [(name,)]
            continue
        verbs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        out += [(name, v) for v in verbs[0].choices] if verbs else [(name,)]
    return out


def _own_verbs(group: str) -> list[str]:
    """``{info,close,...}`` from the usage line of the group's own ``--help`` (none: the group is the command).

    Read in this process (the delegate's function with ``--help``): cheap at collection time."""
    module, func, _ = DELEGATED[group]["_"]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        getattr(importlib.import_module(module), func)(["--help"])
    usage = re.sub(r"\s+", " ", buf.getvalue().split("\n\n")[0])
    m = re.match(rf"usage: oreline {group} \[-h\] \{{([a-z0-9,-]+)\}}", usage)
    return m.group(1).split(",") if m else []


def oreline(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    assert ORELINE_SCRIPT.is_file(), f"the console script is not installed at {ORELINE_SCRIPT} (pip install -e .)"
    return subprocess.run([str(ORELINE_SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)  # no terminal: commands that read a password get none


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli-table")
    (root / "empty").mkdir()
    junk = root / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a spectrum, not an image\n")
    (junk / "a.asd").write_bytes(b"\x00\x01garbage")
    (root / "junk-labels.csv").write_text("file,class\nnotes.txt,ore\na.asd,waste\n")
    (root / "lab.csv").write_text(LAB_HEADER + "L1-G1,62.1,4.2,2.3,0.08,0.02,5.5,8.1,\n")
    (root / "samples.csv").write_text("sample_id,kind\nL1-G1,routine\nL1-G2,routine\n")
    (root / "custody.json").write_text('[{"sample_id": "L1-G1", "status": "collected", "time_s": 1.0}]')
    archive = root / "LOT-A.h5"
    archived_lot(archive, mass_t=300.0)
    return {"empty": root / "empty", "junk": junk, "junk_labels": root / "junk-labels.csv", "lab": root / "lab.csv",
            "samples": root / "samples.csv", "custody": root / "custody.json", "archive": archive,
            "compositions": Path(__file__).resolve().parents[1] / "resources" / "published_compositions.csv", "site": light_site_file(root / "site.toml")}


def _row_id(row: Row) -> str:
    return " ".join((*row.command, *row.args))[:80]


def test_every_command_has_rows():
    covered = {row.command for row in ROWS}
    missing = [" ".join(c) for c in command_table() if c not in covered]
    assert not missing, f"commands without a row in tests/analysis/test_cli_table.py ROWS: {missing}"
    unknown = [" ".join(c) for c in covered if c not in command_table()]
    assert not unknown, f"rows for commands the CLI does not have: {unknown}"


@pytest.mark.parametrize("command", command_table(), ids=" ".join)
def test_help_names_the_command_and_both_option_forms_are_in_the_table(command, tmp_path):
    proc = oreline(*command, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    usage = re.sub(r"\s+", " ", proc.stdout.split("\n\n")[0])
    assert usage.startswith(f"usage: oreline {' '.join(command)} "), usage
    if re.search(r"--[a-z0-9-]+ [A-Z_]+", usage):  # the command takes valued options: both forms in its rows
        args = [a for row in ROWS if row.command == command for a in row.args]
        spaced = any(a.startswith("--") and "=" not in a and i + 1 < len(args) and not args[i + 1].startswith("--")
                     for i, a in enumerate(args))
        assert spaced, f"{command}: no row writes an option as `--option value`"
        assert any(re.match(r"--[a-z0-9-]+=", a) for a in args), f"{command}: no row writes `--option=value`"


@pytest.mark.parametrize("row", [pytest.param(r, marks=pytest.mark.slow) if r.slow else r for r in ROWS],
                         ids=_row_id)
def test_row(row: Row, paths, tmp_path):
    names = {**{k: str(v) for k, v in paths.items()}, "tmp": str(tmp_path)}
    args = [a.format(**names) for a in row.args]
    proc = oreline(*row.command, *args, cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == row.returncode, output[-3000:]
    assert row.expect in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]


def test_a_failing_report_leaves_no_half_written_file(paths, tmp_path):
    """`oreline report` whose PDF cannot be written (its name is taken by a folder) writes neither file."""
    out = tmp_path / "rep"
    (out / "LOT-A-report.pdf").mkdir(parents=True)
    proc = oreline("report", str(paths["archive"]), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2 and "error:" in proc.stderr, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["LOT-A-report.pdf"]
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
